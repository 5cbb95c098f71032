"""What an npm lockfile installs at the top level of ``node_modules`` in production.

A package the service imports without declaring it (it loads through hoisting: a dependency of a
dependency) is present on a host that runs ``npm ci --omit=dev`` from the same lockfile, exactly as it is
in the tree ``check`` judged. The unpacked artifact has no ``node_modules``, so its check calls such an
import a missing package; this module says which of those the lockfile installs, so the artifact is judged
as ``check`` judges the tree: an undeclared package stays a warning, one the lockfile lacks is an error.
Only ``package-lock.json`` / ``npm-shrinkwrap.json`` (lockfile versions 2 and 3) are read.
"""

from __future__ import annotations

import json
from pathlib import Path

LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json")


def production_top_level(root: Path) -> frozenset[str]:
    """Names of the packages ``npm ci --omit=dev`` installs directly under ``root/node_modules``."""
    for name in LOCKFILES:
        try:
            data = json.loads((root / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        packages = data.get("packages") if isinstance(data, dict) else None
        if not isinstance(packages, dict):
            return frozenset()
        found = set()
        for key, entry in packages.items():
            if not isinstance(key, str) or not key.startswith("node_modules/") or not isinstance(entry, dict):
                continue
            package = key[len("node_modules/") :]
            if "/node_modules/" in package or entry.get("dev") is True or entry.get("optional") is True:
                continue
            found.add(package)
        return frozenset(found)
    return frozenset()


def package_of(specifier: str) -> str:
    """``@scope/name/sub`` -> ``@scope/name``; ``name/sub`` -> ``name``."""
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") and len(parts) > 1 else parts[0]
