"""Pins for installed package files: what identifies a file's content without reading it.

npm's lockfile (``package-lock.json``, ``packages`` keyed by install path) gives every installed package
its version and integrity (the hash of the tarball it was unpacked from). A file of that package is then
named by ``name@version#integrity`` and its path inside the package, so its facts, parsed once, are found
again by any later check — in this project or another with the same package version — without reading the
file. The file's size and modification time are part of the pin, so a file changed after the install
(patch-package, a hand edit) is read again. A package the lockfile does not list, or lists without an
integrity (a link, a git or file dependency), has no pin: its files are read and hashed as the project's are.
"""

from __future__ import annotations

import os
from typing import Any

from deploysafe import safejson

LOCKFILE = "package-lock.json"
_MODULES = f"node_modules{os.sep}"


class PackagePins:
    """Pins of the files of the packages ``root``'s lockfile lists; the lockfile is read on first use."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip(os.sep) + os.sep
        self._packages: dict[str, Any] | None = None

    def __call__(self, path: str) -> str | None:
        if not path.startswith(self.root) or _MODULES not in path:
            return None
        rel = path[len(self.root) :]
        cut = rel.rfind(_MODULES) + len(_MODULES)
        parts = rel[cut:].split(os.sep)
        size = 2 if parts[0].startswith("@") else 1
        if len(parts) <= size:
            return None
        install = (rel[:cut] + "/".join(parts[:size])).replace(os.sep, "/")
        entry = self._lock().get(install)
        if not isinstance(entry, dict):
            return None
        version, integrity = entry.get("version"), entry.get("integrity")
        if not isinstance(version, str) or not isinstance(integrity, str) or entry.get("link"):
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        inside = "/".join(parts[size:])
        return f"{'/'.join(parts[:size])}@{version}#{integrity}:{inside}:{st.st_size}:{st.st_mtime_ns}"

    def _lock(self) -> dict[str, Any]:
        if self._packages is None:
            self._packages = {}
            try:
                with open(self.root + LOCKFILE, "rb") as handle:
                    data = safejson.loads(handle.read())
            except (OSError, ValueError):
                return self._packages
            packages = data.get("packages") if isinstance(data, dict) else None
            if isinstance(packages, dict):
                self._packages = packages
        return self._packages
