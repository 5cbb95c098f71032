"""Ship a release artifact to a host atomically, gate it on health, roll back by itself.

The public API (the CLI is a thin shell over it)::

    from deploysafe import release

    spec = release.target("production")              # a [targets.NAME], ssh://user@host/path or a directory
    result = release.deploy("dist/api-1.2.0-3f9a1c2b.tar.gz", spec)
    release.rollback(spec)                           # the previous good release
    release.releases(spec); release.status(spec); release.unlock(spec); release.adopt(spec)

    web = release.fleet("web")                       # [fleets.web], or a list of targets
    release.deploy_fleet("dist/api-1.2.0-3f9a1c2b.tar.gz", web)   # canary first, then batches
    release.rollback_fleet(web, release="api-1.1.0-0c1d2e3f")
    release.fleet_status(web); release.fleet_releases(web)

Failures raise :class:`deploysafe.errors.DeploysafeError` subclasses; a deploy that ran and failed raises
:class:`ReleaseFailed`, whose ``result`` holds every step and a one-screen report; a fleet run that did not
end good on every host raises :class:`FleetFailed`, whose ``result`` holds every host's outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deploysafe.config import Config, as_config
from deploysafe.errors import DeploysafeError
from deploysafe.release.adopt import adopt as _adopt
from deploysafe.release.engine import STEPS
from deploysafe.release.engine import deploy as _deploy
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.fleet import deploy_fleet as _deploy_fleet
from deploysafe.release.fleet import each_host
from deploysafe.release.fleet import rollback_fleet as _rollback_fleet
from deploysafe.release.fleetresult import FleetFailed, FleetReporter, FleetResult, HostOutcome, NullFleetReporter
from deploysafe.release.fleetspec import FleetSpec, fleet_of, resolve_fleet
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
    "FleetFailed",
    "FleetReporter",
    "FleetResult",
    "FleetSpec",
    "HostOutcome",
    "LockInfo",
    "NullFleetReporter",
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
    "deploy_fleet",
    "fleet",
    "fleet_releases",
    "fleet_status",
    "releases",
    "rollback",
    "rollback_fleet",
    "status",
    "target",
    "unlock",
]


def target(
    name: str | TargetSpec, *, config: Config | dict[str, Any] | None = None, root: str | Path = ".", **overrides: Any
) -> TargetSpec:
    """Resolve a TARGET (``[targets.NAME]`` of ``root``/deploysafe.toml, ssh:// URL or directory)."""
    if isinstance(name, TargetSpec):
        return name.with_overrides(**overrides)
    return resolve(name, as_config(config, root)).with_overrides(**overrides)


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


def fleet(
    name: str | list[str] | FleetSpec,
    *,
    config: Config | dict[str, Any] | None = None,
    root: str | Path = ".",
    canary: int | None = None,
    batch: int | None = None,
    on_failure: str | None = None,
    **overrides: Any,
) -> FleetSpec:
    """A fleet: ``[fleets.NAME]`` of ``root``/deploysafe.toml, or a list of TARGETs in deploy order.

    ``overrides`` (health, restart, env, ...) apply to every host; ``canary``, ``batch`` and
    ``on_failure`` ("stop" or "rollback") override the fleet's own settings.
    """
    if isinstance(name, FleetSpec):
        spec = name
    else:
        table = as_config(config, root)
        spec = resolve_fleet(name, table) if isinstance(name, str) else fleet_of(list(name), table)
    return spec.with_overrides(canary=canary, batch=batch, on_failure=on_failure, **overrides)


def deploy_fleet(
    artifact: str | Path,
    to: FleetSpec,
    *,
    reporter: FleetReporter | None = None,
    dry_run: bool = False,
    lock_wait: float = 0.0,
    force: bool = False,
) -> FleetResult:
    """Deploy ``artifact`` to every host of ``to``: canary first, then batches (see release.fleet)."""
    return _deploy_fleet(artifact, to, reporter=reporter, dry_run=dry_run, lock_wait=lock_wait, force=force)


def rollback_fleet(
    to: FleetSpec,
    *,
    release: str | None = None,
    reporter: FleetReporter | None = None,
    lock_wait: float = 0.0,
    dry_run: bool = False,
) -> FleetResult:
    """Put ``release`` (default: each host's previous good one) back on every host, a batch at a time."""
    return _rollback_fleet(to, release=release, reporter=reporter, lock_wait=lock_wait, dry_run=dry_run)


def fleet_status(to: FleetSpec, *, probe: bool = True) -> list[tuple[str, StatusInfo | DeploysafeError]]:
    """Every host's status, read in parallel; a host that cannot be read gives its error."""
    return each_host(to, lambda spec: _status(spec, probe=probe))


def fleet_releases(to: FleetSpec) -> list[tuple[str, list[ReleaseInfo] | DeploysafeError]]:
    return each_host(to, _releases)
