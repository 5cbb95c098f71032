"""pm2, first class: the restart command, and reading ``pm2 jlist`` without leaking its secrets.

``pm2 jlist`` prints every process with its whole environment (database URLs, API keys). It is parsed
here into :class:`Pm2Process`, which keeps only names, states, paths and counters; the raw text is never
logged or put in a message.

pm2 remembers a process's script by its resolved path. Started from inside ``current`` it would keep
running the old release after a switch, so the restart passes ``--cwd <root>/current``: pm2 then keeps
the path through the symlink and a reload picks up the new release.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pm2Process:
    name: str
    pm_id: int
    status: str
    pid: int
    restarts: int
    exec_path: str
    cwd: str
    out_log: str
    err_log: str

    def under(self, root: str) -> bool:
        root = root.rstrip("/") + "/"
        return self.exec_path.startswith(root) or (self.cwd.rstrip("/") + "/").startswith(root)


def parse_jlist(text: str) -> list[Pm2Process]:
    """The processes in ``pm2 jlist`` output, without their environments. Garbage in, empty list out."""
    start = text.find("[")
    try:
        raw = json.loads(text[start:]) if start >= 0 else []
    except json.JSONDecodeError:
        return []
    processes = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        env: dict[str, Any] = item.get("pm2_env") if isinstance(item.get("pm2_env"), dict) else {}  # type: ignore[assignment]
        processes.append(
            Pm2Process(
                name=str(item.get("name", "")),
                pm_id=int(item.get("pm_id", -1) or 0),
                status=str(env.get("status", "unknown")),
                pid=int(item.get("pid", 0) or 0),
                restarts=int(env.get("restart_time", 0) or 0),
                exec_path=str(env.get("pm_exec_path", "")),
                cwd=str(env.get("pm_cwd", "")),
                out_log=str(env.get("pm_out_log_path", "")),
                err_log=str(env.get("pm_err_log_path", "")),
            )
        )
    return processes


def restart_command(binary: str, ecosystem: str, current: str) -> str:
    """``pm2 startOrReload <ecosystem> --cwd <root>/current --update-env``, every piece quoted."""
    return shlex.join([*shlex.split(binary), "startOrReload", ecosystem, "--cwd", current, "--update-env"])


def jlist_command(binary: str) -> list[str]:
    return [*shlex.split(binary), "jlist"]


# Prints the app names of a pm2 process file as JSON (pm2 evaluates the file the same way).
_APP_NAMES_JS = (
    "const c=require(require('path').resolve(process.argv[1]));"
    "const apps=Array.isArray(c)?c:(c.apps||[c]);"
    "process.stdout.write(JSON.stringify(apps.map(a=>a&&a.name).filter(Boolean)))"
)


def app_names_command(ecosystem: str) -> list[str]:
    return ["node", "-e", _APP_NAMES_JS, ecosystem]


def parse_app_names(text: str) -> set[str]:
    try:
        names = json.loads(text)
    except json.JSONDecodeError:
        return set()
    return {str(n) for n in names} if isinstance(names, list) else set()


def started_elsewhere(processes: list[Pm2Process], names: set[str], current: str) -> list[Pm2Process]:
    """The process file's apps that pm2 runs from a path outside ``current`` (a hand-managed tree, a release).

    pm2 reloads a process from the script path it was started with; after an adopt that path has moved,
    so a reload would start nothing. These must be deleted and started again from ``current``.
    """
    inside = current.rstrip("/") + "/"
    return [p for p in processes if p.name in names and not p.exec_path.startswith(inside)]


def delete_command(binary: str, names: list[str]) -> list[str]:
    return [*shlex.split(binary), "delete", *names]


def stale(processes: list[Pm2Process], root: str) -> list[Pm2Process]:
    """Processes of this target that run a release directly instead of through ``current``."""
    releases = posixpath.join(root, "releases") + "/"
    return [p for p in processes if p.under(root) and p.exec_path.startswith(releases)]


def describe(process: Pm2Process) -> str:
    return f"pm2 {process.name}[{process.pm_id}] {process.status}, pid {process.pid}, {process.restarts} restarts"
