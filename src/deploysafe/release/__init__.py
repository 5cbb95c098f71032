"""Ship a release artifact to a host atomically, gate it on health, roll back by itself.

The public API (the CLI is a thin shell over it)::

    from deploysafe import release

    spec = release.target("production")              # a [targets.NAME], ssh://user@host/path or a directory
    result = release.deploy("dist/api-1.2.0-3f9a1c2b.tar.gz", spec)
    release.rollback(spec)                           # the previous good release
    release.releases(spec); release.status(spec); release.unlock(spec); release.adopt(spec)

Failures raise :class:`deploysafe.errors.DeploysafeError` subclasses; a deploy that ran and failed raises
:class:`ReleaseFailed`, whose ``result`` holds every step and a one-screen report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploysafe.config import read_toml
from deploysafe.release.adopt import adopt as _adopt
from deploysafe.release.engine import STEPS
from deploysafe.release.engine import deploy as _deploy
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.inspect import ReleaseInfo, StatusInfo
from deploysafe.release.inspect import releases as _releases
from deploysafe.release.inspect import status as _status
from deploysafe.release.inspect import unlock as _unlock
from deploysafe.release.lock import LockInfo
from deploysafe.release.rollback import rollback as _rollback
from deploysafe.release.run import DeployResult, ReleaseFailed, Result, StepOutcome
from deploysafe.release.spec import TargetSpec, resolve

__all__ = [
    "STEPS",
    "DeployResult",
    "LockInfo",
    "NullReporter",
    "ReleaseFailed",
    "ReleaseInfo",
    "Reporter",
    "Result",
    "StatusInfo",
    "StepOutcome",
    "TargetSpec",
    "adopt",
    "deploy",
    "releases",
    "rollback",
    "status",
    "target",
    "unlock",
]


def target(
    name: str | TargetSpec, *, config: dict[str, Any] | None = None, root: str | Path = ".", **overrides: Any
) -> TargetSpec:
    """Resolve a TARGET (``[targets.NAME]`` of ``root``/deploysafe.toml, ssh:// URL or directory)."""
    if isinstance(name, TargetSpec):
        return name.with_overrides(**overrides)
    return resolve(name, read_toml(Path(root)) if config is None else config).with_overrides(**overrides)


def deploy(
    artifact: str | Path,
    to: str | TargetSpec,
    *,
    reporter: Reporter | None = None,
    dry_run: bool = False,
    lock_wait: float = 0.0,
    force: bool = False,
    **overrides: Any,
) -> Result:
    """Deploy ``artifact`` (a .tar.gz, or a project root packed first) to ``to``."""
    return _deploy(
        artifact, target(to, **overrides), reporter=reporter, dry_run=dry_run, lock_wait=lock_wait, force=force
    )


def rollback(
    to: str | TargetSpec,
    *,
    release: str | None = None,
    reporter: Reporter | None = None,
    lock_wait: float = 0.0,
    dry_run: bool = False,
    **overrides: Any,
) -> Result:
    """Put back ``release`` (default: the latest good release before current)."""
    return _rollback(target(to, **overrides), release=release, reporter=reporter, lock_wait=lock_wait, dry_run=dry_run)


def releases(to: str | TargetSpec, **overrides: Any) -> list[ReleaseInfo]:
    return _releases(target(to, **overrides))


def status(to: str | TargetSpec, *, probe: bool = True, **overrides: Any) -> StatusInfo:
    return _status(target(to, **overrides), probe=probe)


def unlock(to: str | TargetSpec, *, force: bool = False, **overrides: Any) -> LockInfo | None:
    return _unlock(target(to, **overrides), force=force)


def adopt(
    to: str | TargetSpec,
    *,
    reporter: Reporter | None = None,
    dry_run: bool = False,
    restart: bool = False,
    **overrides: Any,
) -> Result:
    """Make the hand-managed tree at ``to`` the first release, in place."""
    return _adopt(target(to, **overrides), reporter=reporter, dry_run=dry_run, restart=restart)
