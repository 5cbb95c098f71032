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

from deploysafe.config import Config, as_config
from deploysafe.config.tables import values
from deploysafe.config.targets import FleetTable
from deploysafe.errors import ConfigError
from deploysafe.release.spec import TargetSpec, resolve

ON_FAILURE = ("stop", "rollback")


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


def _check(given: dict[str, Any], where: str) -> dict[str, Any]:
    return values(FleetTable, {k: v for k, v in given.items() if v is not None}, f"{where}: ")


def _unique(hosts: list[TargetSpec], where: str) -> tuple[TargetSpec, ...]:
    seen: dict[str, str] = {}
    for host in hosts:
        if host.url in seen:
            raise ConfigError(f"{where}: {label(host)} and {seen[host.url]} are the same target ({host.url})")
        seen[host.url] = label(host)
    return tuple(hosts)


def resolve_fleet(name: str, config: Config | dict[str, Any]) -> FleetSpec:
    """``[fleets.NAME]`` of deploysafe.toml (its targets are checked when the file is read)."""
    loaded = as_config(config)
    table = loaded.fleets.get(name)
    if table is None:
        known = ", ".join(sorted(loaded.fleets)) or "none defined"
        raise ConfigError(f"no fleet {name!r} in {loaded.source} (fleets: {known})")
    where = f"{loaded.source} [fleets.{name}]"
    hosts = _unique([resolve(n, loaded) for n in table.targets], where)
    return FleetSpec(hosts=hosts, name=name, canary=table.canary, batch=table.batch, on_failure=table.on_failure)


def fleet_of(targets: list[str], config: Config | dict[str, Any]) -> FleetSpec:
    """A fleet from a repeated ``--to``: the targets in the order given."""
    if not targets:
        raise ConfigError("a fleet needs at least one target")
    loaded = as_config(config)
    return FleetSpec(hosts=_unique([resolve(t, loaded) for t in targets], "--to"))
