"""What a fleet names: several targets that get the same artifact, a canary group first, then batches.

```toml
[fleets.web]
targets = ["web1", "web2", "web3", "web4"]   # [targets.NAME] names, ssh:// URLs or directories
canary = 1                                   # hosts deployed first, alone; 0 for none
batch = 2                                    # hosts deployed at once after the canary
on_failure = "stop"                          # or "rollback": put back the hosts this run upgraded
```

On the command line the same is ``--fleet web`` or a repeated ``--to`` (``--canary``, ``--batch``,
``--on-failure`` override the table).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from deploysafe.config import CONFIG_NAME, section
from deploysafe.errors import ConfigError
from deploysafe.release.spec import TargetSpec, resolve

ON_FAILURE = ("stop", "rollback")
_KEYS = {"targets", "canary", "batch", "on_failure"}


@dataclass(frozen=True)
class FleetSpec:
    hosts: tuple[TargetSpec, ...]
    name: str | None = None
    canary: int = 1
    batch: int = 1
    on_failure: str = "stop"

    @property
    def title(self) -> str:
        return f"fleet {self.name}" if self.name else f"{len(self.hosts)} targets"

    def phases(self) -> list[tuple[str, tuple[TargetSpec, ...]]]:
        """("canary", hosts), ("batch 1", hosts), ...: the order a deploy goes in."""
        canary, rest = self.hosts[: self.canary], self.hosts[self.canary :]
        out = [("canary", canary)] if canary else []
        for start in range(0, len(rest), self.batch):
            out.append((f"batch {start // self.batch + 1}", rest[start : start + self.batch]))
        return out

    def with_overrides(
        self,
        *,
        canary: int | None = None,
        batch: int | None = None,
        on_failure: str | None = None,
        **target_overrides: Any,
    ) -> FleetSpec:
        """The command line's fleet options, and its target options applied to every host."""
        hosts = tuple(h.with_overrides(**target_overrides) for h in self.hosts)
        values = _check({"canary": canary, "batch": batch, "on_failure": on_failure}, "command line")
        return replace(self, hosts=hosts, **values)


def label(spec: TargetSpec) -> str:
    """How a host is named in reports and events: its [targets] name, else its URL."""
    return spec.name or spec.url


def _check(values: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("canary", "batch"):
        value = values.get(key)
        if value is None:
            continue
        least = 0 if key == "canary" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{where}: {key} must be a whole number of hosts, at least {least}")
        out[key] = value
    on_failure = values.get("on_failure")
    if on_failure is not None:
        if on_failure not in ON_FAILURE:
            raise ConfigError(f"{where}: on_failure must be one of {', '.join(ON_FAILURE)} (got {on_failure!r})")
        out["on_failure"] = on_failure
    return out


def _unique(hosts: list[TargetSpec], where: str) -> tuple[TargetSpec, ...]:
    seen: dict[str, str] = {}
    for host in hosts:
        if host.url in seen:
            raise ConfigError(f"{where}: {label(host)} and {seen[host.url]} are the same target ({host.url})")
        seen[host.url] = label(host)
    return tuple(hosts)


def resolve_fleet(name: str, config: dict[str, Any]) -> FleetSpec:
    """``[fleets.NAME]`` of deploysafe.toml."""
    fleets = section(config, "fleets")
    table = fleets.get(name)
    if table is None:
        known = ", ".join(sorted(fleets)) or "none defined"
        raise ConfigError(f"no fleet {name!r} in {CONFIG_NAME} (fleets: {known})")
    where = f"{CONFIG_NAME} [fleets.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where} has unknown key {unknown[0]!r} (keys: {', '.join(sorted(_KEYS))})")
    names = table.get("targets")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f'{where}: targets must be a non-empty list of target names, e.g. ["web1", "web2"]')
    targets = section(config, "targets")
    for entry in names:
        if entry not in targets and "/" not in entry:  # a typo must not become a directory called web3
            known = ", ".join(sorted(targets)) or "none defined"
            raise ConfigError(f"{where}: no target {entry!r} in [targets] (targets: {known})")
    hosts = _unique([resolve(n, config) for n in names], where)
    return FleetSpec(hosts=hosts, name=name, **_check(table, where))


def fleet_of(targets: list[str], config: dict[str, Any]) -> FleetSpec:
    """A fleet from a repeated ``--to``: the targets in the order given."""
    if not targets:
        raise ConfigError("a fleet needs at least one target")
    return FleetSpec(hosts=_unique([resolve(t, config) for t in targets], "--to"))
