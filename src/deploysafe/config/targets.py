"""``[targets.NAME]`` and ``[fleets.NAME]`` of deploysafe.toml: where a release goes, how it is installed,
started and health-gated, and the hooks run around its steps.

Declared as the other tables are (:mod:`deploysafe.config`: a frozen dataclass per table, a field per key,
:func:`~deploysafe.config.tables.key` for what a type cannot say), but in a module of their own: only a project whose
deploysafe.toml names targets or fleets, and the commands that deploy, load them (a check never does). Adding
a target key is one line in :class:`TargetSettings`::

    proxy_jump: str | None = None                           # [targets.NAME] proxy_jump = "bastion"

and ``TargetSpec.proxy_jump`` and the Python API's ``proxy_jump=`` override follow from that line (a command
line option is one more line in ``cli/deploy.py``'s ``target_options``). A new hookable step is a name in
:data:`HOOKABLE`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from deploysafe.config.tables import key
from deploysafe.errors import ConfigError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(name: Any) -> str | None:
    return None if _ENV_NAME.match(str(name)) else f"{name!r} is not a valid variable name"


def _relative(path: Any) -> str | None:
    parts = path.rstrip("/").split("/")
    if path.startswith("/") or ".." in parts or not path.rstrip("/") or "" in parts:
        return f"{path!r} must be relative, without '..'"
    return None


# --- hooks: before_<step> / after_<step> keys of [targets.NAME] -------------------------------------------

# The deploy steps a hook can attach to: those run while the target's lock is held, in a deploy or a rollback.
HOOKABLE = (
    "upload",
    "verify",
    "rename",
    "link-shared",
    "install",
    "boot-test",
    "switch",
    "restart",
    "health",
    "mark-good",
    "prune",
)
WHEN = ("before", "after")
HOOK_KEYS = {f"{when}_{step.replace('-', '_')}": (when, step) for step in HOOKABLE for when in WHEN}


@dataclass(frozen=True)
class Hook:
    """One command a target runs before or after a named step::

    before_switch = ["npm run migrate"]                              # runs in releases/<id> on the host
    after_health = [{ run = "curl -fsS -X POST $NOTIFY_URL", once_per_fleet = true }]
    """

    when: str  # before | after
    step: str  # a name of HOOKABLE
    command: str
    once_per_fleet: bool = False

    @property
    def key(self) -> str:
        return f"{self.when}_{self.step.replace('-', '_')}"


def hooks_of(table: Mapping[str, Any], prefix: str) -> tuple[Hook, ...]:
    """The hooks of a ``[targets.NAME]`` table (its other keys are ignored here). A key's value is one
    command, or a list of commands and ``{ run = "...", once_per_fleet = true }`` tables, run in order."""
    hooks: list[Hook] = []
    for name, value in table.items():
        if name not in HOOK_KEYS:
            continue
        when, step = HOOK_KEYS[name]
        for item in value if isinstance(value, list) else [value]:
            hooks.append(_hook(item, when, step, f"{prefix}{name}"))
    return tuple(hooks)


def _hook(item: Any, when: str, step: str, path: str) -> Hook:
    command: Any
    if isinstance(item, str):
        command, once = item, False
    elif isinstance(item, Mapping):
        unknown = sorted(set(item) - {"run", "once_per_fleet"})
        if unknown:
            raise ConfigError(f"{path}: unknown key {unknown[0]!r} (expected run, once_per_fleet)")
        command, once = item.get("run"), item.get("once_per_fleet", False)
        if not isinstance(once, bool):
            raise ConfigError(f"{path}: once_per_fleet must be true or false")
    else:
        raise ConfigError(f"{path}: expected a command or a list of commands")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(f'{path}: a hook needs a non-empty command (run = "...")')
    return Hook(when, step, command, once)


# --- the tables ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSettings:
    """What a target is deployed with: the keys of ``[targets.NAME]`` (and the CLI's overrides) beside
    ``host`` and ``path``. :class:`deploysafe.release.TargetSpec` is these plus where the target is."""

    shared: tuple[str, ...] = key((), each=_relative)
    install: str = "npm ci --omit=dev"
    start: str | None = None
    restart: str | None = None
    pm2: str | None = None
    pm2_bin: str = "pm2"
    pm2_min_uptime: float = key(1.5, at_least=0)
    health: str | None = None
    health_expect: str | None = None
    health_interval: float = 0.5
    health_deadline: float = 30.0
    health_passes: int = key(3, at_least=1)
    health_timeout: float = 2.0
    boot_port: int = 0
    boot_deadline: float = 30.0
    rollback_deadline: float = 15.0
    keep: int = key(5, at_least=2, why="current and the previous good release")
    prune_adopted: bool = False  # the adopted original tree counts toward keep and may be pruned
    env: dict[str, str] = key({}, each=_env_name)
    logs: tuple[str, ...] = ()
    known_hosts: str | None = None
    identity: str | None = None
    trust_new_host_key: bool = False
    install_timeout: float = 900.0
    restart_timeout: float = 120.0
    hook_timeout: float = 600.0
    # blue/green behind a reverse proxy (deploysafe.release.proxy): each release on its own colour's port
    proxy: Literal["nginx"] | None = None
    proxy_include: str = ".deploysafe/upstream.conf"  # the upstream servers file the proxy includes
    proxy_reload: str | None = None  # default: the proxy's own check-and-reload command
    blue_port: int = key(0, at_least=0)
    green_port: int = key(0, at_least=0)
    drain: float = key(3.0, at_least=0)  # seconds the old colour keeps serving what it has before it stops
    hooks: tuple[Hook, ...] = key((), family=HOOK_KEYS, parse=hooks_of)  # before_<step> = [...], after_<step>


@dataclass(frozen=True)
class TargetTable(TargetSettings):
    """``[targets.NAME]``: a host (``ssh://user@host[:port]``; none for this machine) and a path on it, or a
    Docker Swarm service (``swarm``) whose image deploy updates (:mod:`deploysafe.orchestrators.swarm`)."""

    host: str | None = None
    path: str = ""  # required unless swarm is set
    swarm: str | None = None  # the Docker Swarm service this target is; deploy rolls an image out to it
    swarm_replicas: int = key(1, at_least=1, means="a whole number of tasks")  # when deploy creates the service
    swarm_networks: tuple[str, ...] = ()  # networks (e.g. an overlay the proxy is on) the created service joins
    swarm_monitor: float = key(10.0, at_least=0)  # seconds swarm watches each new task before it counts as updated
    swarm_deadline: float = key(300.0, at_least=1)  # seconds deploy follows a rollout before it gives up


@dataclass(frozen=True)
class FleetTable:
    """``[fleets.NAME]``: targets that get the same artifact, a canary group first, then batches."""

    targets: tuple[str, ...] = key((), required=True, means='a non-empty list of target names, e.g. ["web1"]')
    canary: int = key(1, at_least=0, means="a whole number of hosts")
    batch: int = key(1, at_least=1, means="a whole number of hosts")
    on_failure: Literal["stop", "rollback"] = "stop"


# the ``[table.NAME]`` groups declared here
NAMED: dict[str, type] = {"targets": TargetTable, "fleets": FleetTable}
