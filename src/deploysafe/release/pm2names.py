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


def check(target: Host, spec: TargetSpec, apps: Iterable[str]) -> None:
    """Refuse when pm2 on the host runs one of ``apps``' names for something outside ``spec``'s root."""
    names = names_for(apps, spec)
    if not names:
        return
    done = target.run(pm2.snapshot_command(spec.pm2_bin), env=dict(spec.env), timeout=60)
    snap = pm2.parse_snapshot(done.stdout) if done.ok else None
    if snap is None:
        return  # pm2 unreadable here: the restart or start says why
    root = spec.layout.root
    taken = sorted({(p.name, owner(p)) for p in snap.processes if p.name in names and not p.under(root)})
    if taken:
        said = ", ".join(f"{name} for {where}" for name, where in taken)
        raise ConfigError(
            f"pm2 on {target.url} already runs {said}: target {spec.name or spec.url} names its apps the same, "
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
