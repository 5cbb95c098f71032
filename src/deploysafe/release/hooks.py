"""The target keys that add commands before or after a named step, declared here once.

```toml
[targets.production]
before_switch = ["npm run migrate"]                              # runs in releases/<id> on the host
after_health = [{ run = "curl -fsS -X POST $NOTIFY_URL", once_per_fleet = true }]
```

A key is ``before_<step>`` or ``after_<step>`` for a step of :data:`HOOKABLE` (``-`` written ``_``); its
value is one command, or a list of commands and ``{ run = "...", once_per_fleet = true }`` tables, run in
order. Deploys and rollbacks run them (an adopt does not: it takes over a tree as it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploysafe.errors import ConfigError

# The steps a hook can attach to: those run while the lock is held, in a deploy or a rollback.
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
KEYS = {f"{when}_{step.replace('-', '_')}": (when, step) for step in HOOKABLE for when in WHEN}


@dataclass(frozen=True)
class Hook:
    when: str  # before | after
    step: str  # a name of HOOKABLE
    command: str
    once_per_fleet: bool = False

    @property
    def key(self) -> str:
        return f"{self.when}_{self.step.replace('-', '_')}"


def parse(table: dict[str, Any], where: str) -> tuple[Hook, ...]:
    """The hooks of a ``[targets.NAME]`` table (its other keys are ignored here)."""
    hooks: list[Hook] = []
    for key, value in table.items():
        if key not in KEYS:
            continue
        when, step = KEYS[key]
        for item in value if isinstance(value, list) else [value]:
            hooks.append(_one(item, when, step, f"{where}: {key}"))
    return tuple(hooks)


def _one(item: Any, when: str, step: str, where: str) -> Hook:
    if isinstance(item, str):
        command, once = item, False
    elif isinstance(item, dict):
        unknown = sorted(set(item) - {"run", "once_per_fleet"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (expected run, once_per_fleet)")
        command, once = item.get("run"), item.get("once_per_fleet", False)
        if not isinstance(once, bool):
            raise ConfigError(f"{where}: once_per_fleet must be true or false")
    else:
        raise ConfigError(f"{where}: expected a command or a list of commands")
    if not isinstance(command, str) or not command.strip():
        raise ConfigError(f'{where}: a hook needs a non-empty command (run = "...")')
    return Hook(when, step, command, once)
