"""Manifests for orchestrators that run the image: Kubernetes (:mod:`.kubernetes`) and Fly.io (:mod:`.fly`).

Both are written from the same settings as the image's ``HEALTHCHECK`` (:mod:`deploysafe.image.settings`),
so the orchestrator gates a rollout on the health the boot test proved.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_DNS_UNSAFE = re.compile(r"[^a-z0-9-]+")


def service_name(root: str | Path) -> str:
    """The package's name as a DNS label (``@acme/seed-api`` -> ``acme-seed-api``), at most 63 characters."""
    try:
        data = json.loads((Path(root) / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    name = (
        data.get("name") if isinstance(data, dict) and isinstance(data.get("name"), str) else Path(root).resolve().name
    )
    label = _DNS_UNSAFE.sub("-", str(name).lower().lstrip("@")).strip("-")[:63].strip("-")
    return label or "app"
