"""Two targets on one pm2 daemon: pm2 knows an app by its name alone, so a deploy whose apps are named
like another target's would reload or replace that target's app (``startOrReload`` finds it by name) and
never run its own. Refused before anything changes, naming both targets' directories.

The names are those of the release's process file as pm2 would name them; behind a proxy each gets its
colour (``<app>-blue``, ``<app>-green``). A process pm2 runs under one of them from outside this target's
root belongs to someone else.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from deploysafe.errors import ConfigError
from deploysafe.hosts.base import Host
from deploysafe.release import pm2
from deploysafe.release.spec import TargetSpec


def names_for(apps: Iterable[str], spec: TargetSpec) -> set[str]:
    """The pm2 names a release of ``spec`` would run ``apps`` under."""
    if not spec.proxy:
        return set(apps)
    return {f"{app}-{colour}" for app in apps for colour in ("blue", "green")}


def snapshot(target: Host, spec: TargetSpec) -> pm2.Snapshot | None:
    """Every process the host's pm2 runs, whoever's (None: pm2's list cannot be read here)."""
    done = target.run(pm2.snapshot_command(spec.pm2_bin), env=dict(spec.env), timeout=60)
    return pm2.parse_snapshot(done.stdout) if done.ok else None


def processes(target: Host, spec: TargetSpec) -> list[pm2.Pm2Process] | None:
    """:func:`snapshot`'s processes (None: pm2's list cannot be read here)."""
    snap = snapshot(target, spec)
    return snap.processes if snap is not None else None


def refuse(running: list[pm2.Pm2Process], spec: TargetSpec, names: Iterable[str], host: str) -> None:
    """Refuse when pm2 (``running``, as :func:`processes` read it) runs one of ``names`` for something
    outside ``spec``'s root."""
    wanted = set(names)
    root = spec.layout.root
    taken = sorted({(p.name, owner(p)) for p in running if p.name in wanted and not p.under(root)})
    if taken:
        said = ", ".join(f"{name} for {where}" for name, where in taken)
        raise ConfigError(
            f"pm2 on {host} already runs {said}: target {spec.name or spec.url} names its apps the same, "
            f"and pm2 knows an app by its name alone; give this target's apps their own names (name in "
            f"{spec.pm2}) or its own PM2_HOME"
        )


def owner(process: pm2.Pm2Process) -> str:
    """The directory a process belongs to: a deploysafe target's root (above current/ or releases/), or
    its working directory."""
    for path in (process.cwd, process.exec_path):
        parts = path.split("/")
        for marker in ("current", "releases"):
            if marker in parts[1:]:
                return "/".join(parts[: parts.index(marker, 1)]) or "/"
    return process.cwd or posixpath.dirname(process.exec_path) or "?"
