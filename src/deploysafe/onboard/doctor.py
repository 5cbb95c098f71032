"""``deploysafe doctor``: is this machine (and a target) ready for check, pack and deploy? A line each.

Here: node and npm present and admitted by package.json ``engines``, disk space for artifacts. With a
target: the host reachable with its SSH host key known (a changed or unknown key is a fail, never accepted
here), node and npm there against ``engines``, pm2 (or systemctl) when the target restarts with it, disk
space at the deploy root, the deploy lock, and the health URL answering. Each :class:`Check` is ``ok``,
``warn`` or ``fail``; a fail makes the command exit 1.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploysafe.ecosystems.node.nodeversion import admits
from deploysafe.errors import DeploysafeError

__all__ = ["FAIL", "OK", "WARN", "Check", "local_checks", "target_checks"]

OK, WARN, FAIL = "ok", "warn", "fail"
LOW_DISK = 1024**3  # below 1 GiB free: a warning (an install and a few releases need room)
Run = Callable[[Sequence[str]], tuple[int, str]]  # argv -> (exit code, output); 127 when not found


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok | warn | fail
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "level": self.level, "detail": self.detail}


def engines(root: Path) -> dict[str, str]:
    """package.json ``engines`` (node, npm), as strings; {} when there is none or it does not read."""
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = data.get("engines") if isinstance(data, dict) else None
    return {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


def local_checks(root: Path) -> list[Check]:
    """This machine, for ``check`` and ``pack``."""
    checks = [_tool(name, _run_here, engines(root).get(name), "here") for name in ("node", "npm")]
    checks.append(_disk(shutil.disk_usage(root).free, f"{root} (artifacts are written here)"))
    return checks


def target_checks(spec: Any, root: Path) -> list[Check]:
    """The target ``spec`` (a :class:`deploysafe.release.TargetSpec`): reachable, tools, disk, lock, health."""
    from deploysafe import release
    from deploysafe.release.spec import open_target

    label = spec.url
    try:
        host = open_target(spec)
    except DeploysafeError as err:
        name = "host key" if spec.ssh is not None else "target"
        return [Check(name, FAIL, f"{label}: {err}")]
    checks = [Check("host key" if spec.ssh is not None else "target", OK, f"{label} reachable")]
    try:

        def run(argv: Sequence[str]) -> tuple[int, str]:
            command = " ".join(shlex.quote(a) for a in argv)
            done = host.run(["sh", "-c", f"command -v {shlex.quote(argv[0])} >/dev/null || exit 127; {command}"])
            return done.returncode, (done.stdout or done.stderr or "").strip()

        wanted = engines(root)
        checks += [_tool(name, run, wanted.get(name), "on the target") for name in ("node", "npm")]
        restart = spec.restart_command() or ""
        if spec.pm2:
            checks.append(_present("pm2", run([spec.pm2_bin, "--version"]), "restarts the service (pm2 = ...)"))
        elif "systemctl" in restart:
            checks.append(_present("systemd", run(["systemctl", "--version"]), "restarts the service"))
        checks.append(_remote_disk(run, spec.path))
    finally:
        host.close()
    try:
        info = release.status(spec, probe=True)
    except DeploysafeError as err:
        return [*checks, Check("lock", FAIL, str(err))]
    if info.lock is None:
        checks.append(Check("lock", OK, "free"))
    else:
        alive = (info.lock_state or "").startswith("alive")
        checks.append(Check("lock", WARN if alive else FAIL, f"held by {info.lock} ({info.lock_state})"))
    if spec.health is None:
        checks.append(Check("health", WARN, "no health URL configured (health = ... in [targets.NAME])"))
    elif info.current is None:
        checks.append(Check("health", WARN, f"{spec.health}: nothing deployed yet to answer it"))
    else:
        level = OK if info.healthy else FAIL
        checks.append(Check("health", level, f"{spec.health}: {info.health or 'no answer'}"))
    return checks


def _run_here(argv: Sequence[str]) -> tuple[int, str]:
    if shutil.which(argv[0]) is None:
        return 127, ""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return 126, str(err)
    return done.returncode, (done.stdout or done.stderr).strip()


def _tool(name: str, run: Run, wanted: str | None, where: str) -> Check:
    code, out = run([name, "--version"])
    if code == 127:
        return Check(name, FAIL, f"not found {where}")
    if code != 0:
        return Check(name, FAIL, f"{name} --version failed {where}: {out.splitlines()[-1] if out else code}")
    version = out.splitlines()[0].strip() if out else "?"
    if wanted is None:
        return Check(name, OK, f"{version} {where} (package.json sets no engines.{name})")
    verdict = admits(wanted, version)
    if verdict is None:
        return Check(name, WARN, f"{version} {where}; engines.{name} '{wanted}' does not read as an npm range")
    if not verdict:
        return Check(name, FAIL, f"{version} {where}: package.json engines.{name} '{wanted}' does not admit it")
    return Check(name, OK, f"{version} {where}, admitted by engines.{name} '{wanted}'")


def _present(name: str, done: tuple[int, str], why: str) -> Check:
    code, out = done
    if code == 127:
        return Check(name, FAIL, f"not found on the target, which {why}")
    if code != 0:
        return Check(name, FAIL, f"{name} --version failed on the target: {out or code}")
    return Check(name, OK, f"{out.splitlines()[0] if out else 'present'} on the target")


def _remote_disk(run: Run, path: str) -> Check:
    """Free space at the deploy root (or the nearest folder above it that exists), from ``df -Pk``."""
    probe = f'p={shlex.quote(path)}; while [ ! -d "$p" ]; do p=$(dirname "$p"); done; df -Pk "$p"'
    code, out = run(["sh", "-c", probe])
    try:
        free = int(out.splitlines()[-1].split()[3]) * 1024
    except (IndexError, ValueError):
        return Check("disk", WARN, f"could not read the free space at {path}: {out or code}")
    return _disk(free, f"{path} on the target")


def _disk(free: int, where: str) -> Check:
    gib = free / 1024**3
    return Check("disk", WARN if free < LOW_DISK else OK, f"{gib:.1f} GiB free at {where}")
