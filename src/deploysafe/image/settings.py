"""What an image and its orchestrator manifests are built with: ``[image]`` plus one target's health settings.

The health settings of ``[targets.NAME]`` (``health``, ``health_expect``, ``health_interval``,
``health_timeout``, ``health_passes``, ``boot_deadline``) are the one source for the image's
``HEALTHCHECK``, its exposed port, ``verify --boot``'s probe, Kubernetes' readiness and liveness probes
and fly.toml's checks. The target is ``--to NAME``, else ``[image] target``, else the one target that has
a ``health`` setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deploysafe.config import Config, load
from deploysafe.config.targets import TargetTable
from deploysafe.errors import ConfigError
from deploysafe.release.health import Probe, parse_probe

# A probe the image runs on itself with its own node (no curl needed): exit 0 when the URL answers 2xx/3xx
# and, with an expectation, the body contains it.
HTTP_CHECK_JS = (
    "const[u,e]=process.argv.slice(1);"
    "fetch(u).then(async r=>{const b=await r.text();"
    "process.exit(r.status>=200&&r.status<400&&(!e||b.includes(e))?0:1)})"
    ".catch(()=>process.exit(1))"
)
TCP_CHECK_JS = (
    "const s=require('net').connect(+process.argv[2],process.argv[1]);"
    "s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))"
)
_NS = 1_000_000_000
# A HEALTHCHECK and an orchestrator's probes run for the life of the service, not for a deploy's window: they
# probe every health_interval seconds, but no more often than this.
CONTINUOUS_INTERVAL = 5.0


@dataclass(frozen=True)
class ImageSettings:
    base: str | None = None
    name: str | None = None
    user: str = "1000:1000"
    command: str | None = None
    port: int | None = None
    init: str | None = None
    probe: Probe | None = None
    interval: float = 5.0  # seconds between probes
    timeout: float = 2.0
    retries: int = 3  # failed probes in a row before unhealthy
    start_period: float = 30.0  # seconds a starting container may fail probes without counting
    target: str | None = None  # the [targets] name the health settings came from
    shared: tuple[str, ...] = ()  # that target's shared files and folders (production-only, never in the image)

    @property
    def path(self) -> str:
        """The HTTP probe's path (``/`` for other probes)."""
        if self.probe is None or self.probe.kind != "http":
            return "/"
        parts = urlsplit(self.probe.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def healthcheck(self) -> dict[str, Any] | None:
        """The image config's ``Healthcheck`` (Docker's schema; durations in nanoseconds), or None."""
        if self.probe is None:
            return None
        if self.probe.kind == "http":
            test = ["CMD", "node", "-e", HTTP_CHECK_JS, self.probe.url, self.probe.expect or ""]
        elif self.probe.kind == "tcp":
            test = ["CMD", "node", "-e", TCP_CHECK_JS, self.probe.host, str(self.probe.port)]
        else:
            test = ["CMD-SHELL", self.probe.command]
        return {
            "Test": test,
            "Interval": int(self.interval * _NS),
            "Timeout": int(self.timeout * _NS),
            "StartPeriod": int(self.start_period * _NS),
            "Retries": self.retries,
        }


def image_settings(root: str | Path, target: str | None = None, config: Config | None = None) -> ImageSettings:
    """The settings of the project at ``root`` (its deploysafe.toml), with ``target``'s health settings."""
    config = config or load(Path(root))
    table = config.image
    name, health = _health_target(config, target or table.target)
    probe = None
    extra: dict[str, Any] = {}
    if health is not None and health.health:
        probe = parse_probe(health.health, health.health_expect, health.health_timeout)
        extra = {
            "shared": health.shared,
            "interval": max(health.health_interval, CONTINUOUS_INTERVAL),
            "timeout": health.health_timeout,
            "retries": health.health_passes,
            "start_period": health.boot_deadline,
        }
    port = table.port or (probe.port if probe is not None and probe.kind in ("http", "tcp") else None)
    if probe is not None and probe.kind in ("http", "tcp") and port and probe.port != port:
        probe = probe.with_port(port)
    return ImageSettings(
        base=table.base,
        name=table.name,
        user=table.user,
        command=table.command,
        port=port,
        init=table.init,
        probe=probe,
        target=name,
        **extra,
    )


def _health_target(config: Config, name: str | None) -> tuple[str | None, TargetTable | None]:
    if name is not None:
        table = config.targets.get(name)
        if table is None:
            known = ", ".join(config.targets) or "none"
            raise ConfigError(f"{config.source}: no target {name!r} in [targets] (targets: {known})")
        return name, table
    with_health = [(n, t) for n, t in config.targets.items() if t.health]
    if len(with_health) == 1:
        return with_health[0]
    return None, None
