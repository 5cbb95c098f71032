"""A target's own commands before or after a named step, as the release engine sees them.

```toml
[targets.production]
before_switch = ["npm run migrate"]                              # runs in releases/<id> on the host
after_health = [{ run = "curl -fsS -X POST $NOTIFY_URL", once_per_fleet = true }]
```

The keys (``before_<step>``/``after_<step>`` for a step of :data:`HOOKABLE`) are declared with every other
key in :mod:`deploysafe.config.targets`; :mod:`deploysafe.release.flows` turns each :class:`Hook` into a step.
Deploys and rollbacks run them (an adopt does not: it takes over a tree as it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deploysafe.config.targets import HOOK_KEYS as KEYS
from deploysafe.config.targets import HOOKABLE, WHEN, Hook, hooks_of

__all__ = ["HOOKABLE", "KEYS", "WHEN", "Hook", "parse"]


def parse(table: Mapping[str, Any], where: str) -> tuple[Hook, ...]:
    """The hooks of a ``[targets.NAME]`` table (its other keys are ignored here)."""
    return hooks_of(table, f"{where}: ")
