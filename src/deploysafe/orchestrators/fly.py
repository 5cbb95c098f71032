"""``deploysafe manifest --for fly``: a fly.toml whose ``[[http_service.checks]]`` are the image's health
settings, so Fly's rolling deploy waits for the same health the boot test proved.

The check's path, interval, timeout and grace period (the boot deadline) come from the target's health
settings; the internal port is the image's. Fly matches status codes only: a ``health_expect`` on the body
is said in the warnings. Shared files are Fly secrets (``fly secrets set``), named in the warnings too.
"""

from __future__ import annotations

import math
from typing import Any

import tomli_w

from deploysafe.errors import ConfigError
from deploysafe.image.settings import ImageSettings


def document(name: str, image: str, settings: ImageSettings) -> tuple[dict[str, Any], list[str]]:
    """(the fly.toml table, warnings)."""
    if not settings.port:
        raise ConfigError("fly.toml needs the port the service listens on: set [image] port or a target's health URL")
    warnings: list[str] = []
    env = {"NODE_ENV": "production", "PORT": str(settings.port)}
    service: dict[str, Any] = {"internal_port": settings.port, "force_https": True}
    probe = settings.probe
    if probe is not None and probe.kind == "http":
        service["checks"] = [
            {
                "grace_period": f"{math.ceil(settings.start_period)}s",
                "interval": f"{max(1, round(settings.interval))}s",
                "timeout": f"{max(1, math.ceil(settings.timeout))}s",
                "method": "GET",
                "path": settings.path,
            }
        ]
        if probe.expect:
            warnings.append(f"Fly's http check passes on a 2xx status; the body match {probe.expect!r} is not checked")
    elif probe is not None:
        warnings.append(f"the health probe {probe.describe()} is not an HTTP check: no [[http_service.checks]] written")
    for item in settings.shared:
        warnings.append(f"shared {item!r} is production-only: provide it as a Fly secret or volume (fly secrets set)")
    table = {
        "app": name,
        "build": {"image": image},
        "env": env,
        "deploy": {"strategy": "rolling"},
        "http_service": service,
    }
    return table, warnings


def dumps(table: dict[str, Any]) -> str:
    """fly.toml as Fly's documentation writes it: each check an ``[[http_service.checks]]`` table."""
    service = dict(table["http_service"])
    checks = service.pop("checks", [])
    text = tomli_w.dumps({**table, "http_service": service})
    for check in checks:
        text += "\n[[http_service.checks]]\n" + tomli_w.dumps(check)
    return text
