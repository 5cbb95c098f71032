"""Pins for installed package files: what identifies a file's content without reading it.

A file inside ``node_modules`` belongs to an installed package (the folder after the last ``node_modules``).
The lockfile beside the outermost ``node_modules`` names that package's version and integrity (the hash of
the tarball it was unpacked from); a file of the package is then named by ``name@version#integrity`` and its
path inside the package, so its facts, parsed once, are found again by any later check — in this project or
another with the same package version — without reading the file. The lockfiles read:

- npm's ``package-lock.json`` / ``npm-shrinkwrap.json``: ``packages`` keyed by install path;
- pnpm's ``pnpm-lock.yaml`` (v5 to v9): ``packages`` keyed by name and version, ``resolution.integrity``;
- Yarn's ``yarn.lock``: v1 (its own line format, ``version`` and ``integrity``) and Yarn 2+ (YAML,
  ``resolution`` and ``checksum``).

For pnpm and Yarn the version is the installed package.json's (read by the resolver anyway). A package no
lockfile pins (no lockfile, a link, a git or file dependency) is pinned by its folder and the content of its
package.json instead. The file's size and modification time are always part of the pin, so a file changed
after the install (patch-package, a hand edit) is read again. A file with no package.json above it inside
``node_modules`` has no pin: it is read and hashed as the project's files are.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from deploysafe import safejson
from deploysafe.ecosystems.node.packages import PackageJsonCache

LOCKFILE = "package-lock.json"
NPM_LOCKFILES = ("npm-shrinkwrap.json", LOCKFILE)
PNPM_LOCKFILE = "pnpm-lock.yaml"
YARN_LOCKFILE = "yarn.lock"
_MODULES = f"{os.sep}node_modules{os.sep}"


class PackagePins:
    """Pins of installed package files; each lockfile and package is looked at once, on first use."""

    def __init__(self, root: str, packages: PackageJsonCache | None = None) -> None:
        self.root = root.rstrip(os.sep) + os.sep
        self.packages = packages
        self._locks: dict[str, _Lock] = {}  # folder holding the outermost node_modules -> its lockfile
        self._ids: dict[str, str | None] = {}  # package folder -> "name@version#integrity" (or fallback)

    def __call__(self, path: str) -> str | None:
        # A project that itself sits under some node_modules keeps its own files hashed: only a
        # node_modules inside the project (or, for a workspace's hoisted packages, beside it) counts.
        inside = path.startswith(self.root)
        first = path.find(_MODULES, len(self.root) - 1 if inside else 0)
        if first < 0:
            return None
        last = path.rfind(_MODULES) + len(_MODULES)
        parts = path[last:].split(os.sep)
        size = 2 if parts[0].startswith("@") else 1
        if len(parts) <= size:
            return None
        folder = path[:last] + os.sep.join(parts[:size])
        if folder not in self._ids:
            self._ids[folder] = self._identify(path[:first], folder, "/".join(parts[:size]))
        identity = self._ids[folder]
        if identity is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        return f"{identity}:{'/'.join(parts[size:])}:{st.st_size}:{st.st_mtime_ns}"

    def _identify(self, base: str, folder: str, name: str) -> str | None:
        lock = self._locks.get(base)
        if lock is None:
            lock = self._locks[base] = _Lock.read(base)
        install = os.path.relpath(folder, base).replace(os.sep, "/")
        pinned = lock.npm_pin(install)
        if pinned is not None:
            return f"{name}@{pinned}"
        manifest = self._manifest(folder)
        if manifest is None:
            return None
        version = manifest.get("version")
        integrity = lock.integrity(name, version) if isinstance(version, str) else None
        if integrity is not None:
            return f"{name}@{version}#{integrity}"
        # No lockfile pins it: its folder and package.json content stand for the version.
        digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:32]
        return f"{name}@{version}#package.json:{digest}@{folder}"

    def _manifest(self, folder: str) -> dict[str, Any] | None:
        if self.packages is not None:
            package = self.packages.at(folder)
            return package.data if package is not None and not package.error else None
        try:
            with open(os.path.join(folder, "package.json"), "rb") as handle:
                data = safejson.loads(handle.read())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


class _Lock:
    """One folder's lockfile: npm's entries by install path, pnpm's and Yarn's integrity by name and version."""

    def __init__(self, npm: dict[str, Any] | None = None, by_version: dict[tuple[str, str], str] | None = None):
        self.npm = npm or {}
        self.by_version = by_version or {}

    @classmethod
    def read(cls, base: str) -> _Lock:
        for name in NPM_LOCKFILES:
            data = _load(os.path.join(base, name), safejson.loads)
            if isinstance(data, dict) and isinstance(data.get("packages"), dict):
                return cls(npm=data["packages"])
        data = _load(os.path.join(base, PNPM_LOCKFILE), _yaml)
        if isinstance(data, dict):
            return cls(by_version=pnpm_integrities(data))
        try:
            with open(os.path.join(base, YARN_LOCKFILE), encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            return cls()
        return cls(by_version=yarn_integrities(text))

    def npm_pin(self, install: str) -> str | None:
        """``version#integrity`` of the package npm's lockfile lists at ``install`` (a tarball it unpacked)."""
        entry = self.npm.get(install)
        if not isinstance(entry, dict) or entry.get("link"):
            return None
        version, integrity = entry.get("version"), entry.get("integrity")
        if not isinstance(version, str) or not isinstance(integrity, str):
            return None
        return f"{version}#{integrity}"

    def integrity(self, name: str, version: str) -> str | None:
        return self.by_version.get((name, version))


def _load(path: str, parse: Any) -> Any:
    try:
        with open(path, "rb") as handle:
            return parse(handle.read())
    except (OSError, ValueError):
        return None


def _yaml(text: str | bytes) -> Any:
    """A YAML lockfile's data, None when it does not parse. PyYAML loads with the first YAML lockfile (an npm
    project's check never pays for it) and parses with libyaml when it is there."""
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None


def pnpm_integrities(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(name, version) -> integrity of every registry package of a pnpm lockfile. Keys are ``name@version``
    (v9), ``/name@version(peer@1)`` (v6) or ``/name/version_peer@1`` (v5); a tarball or git package has no
    integrity in ``resolution`` and no entry here."""
    found: dict[tuple[str, str], str] = {}
    packages = data.get("packages")
    if not isinstance(packages, dict):
        return found
    for key, entry in packages.items():
        resolution = entry.get("resolution") if isinstance(entry, dict) else None
        integrity = resolution.get("integrity") if isinstance(resolution, dict) else None
        if not isinstance(key, str) or not isinstance(integrity, str):
            continue
        spec = key.lstrip("/").split("(", 1)[0]
        at = spec.find("@", 1)
        if at > 0:
            name, version = spec[:at], spec[at + 1 :]
        elif "/" in spec:
            name, _, version = spec.rpartition("/")
            version = version.split("_", 1)[0]
        else:
            continue
        found[(name, str(entry.get("version") or version))] = integrity
    return found


def yarn_integrities(text: str) -> dict[tuple[str, str], str]:
    """(name, version) -> integrity (v1) or checksum (Yarn 2+) of every package of a yarn.lock."""
    if "__metadata:" in text:
        data = _yaml(text)
        return _berry_integrities(data) if isinstance(data, dict) else {}
    return _classic_integrities(text)


def _berry_integrities(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for key, entry in data.items():
        if key == "__metadata" or not isinstance(entry, dict):
            continue
        resolution, checksum = entry.get("resolution"), entry.get("checksum")
        version = entry.get("version")
        if not isinstance(resolution, str) or not isinstance(checksum, str) or version is None:
            continue
        at = resolution.find("@", 1)
        if at > 0:
            found[(resolution[:at], str(version))] = checksum
    return found


def _classic_integrities(text: str) -> dict[tuple[str, str], str]:
    """Yarn 1's own format: an unindented line of specifiers ending in ':', then indented ``key value``
    fields. The name is what precedes the first '@' after the first character (``alias@npm:real@^1`` is
    installed under ``alias``)."""
    found: dict[tuple[str, str], str] = {}
    names: list[str] = []
    fields: dict[str, str] = {}

    def close() -> None:
        version, integrity = fields.get("version"), fields.get("integrity")
        if version and integrity:
            for name in names:
                found[(name, version)] = integrity

    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            close()
            specs = [s.strip().strip('"') for s in line.rstrip().rstrip(":").split(",")]
            names = list(dict.fromkeys(s[: s.find("@", 1)] for s in specs if s.find("@", 1) > 0))
            fields = {}
        elif line.startswith("  ") and not line.startswith("   "):
            key, _, value = line.strip().partition(" ")
            fields[key] = value.strip().strip('"')
    close()
    return found
