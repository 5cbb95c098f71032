"""package.json files as Node reads them: the nearest one decides a file's format; a package's decides
its entry points; the project's decides which dependencies are declared."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from deploysafe import safejson
from deploysafe.check.fs import FileSystem

ABSENT: Any = object()  # a field that is not there, as opposed to one set to null


@dataclass(frozen=True, slots=True)
class PackageJson:
    dir: str
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # set when the file exists but Node could not parse it

    @property
    def path(self) -> str:
        return os.path.join(self.dir, "package.json")

    @property
    def name(self) -> str | None:
        value = self.data.get("name")
        return value if isinstance(value, str) else None

    @property
    def version(self) -> str | None:
        value = self.data.get("version")
        return value if isinstance(value, str) else None

    @property
    def type(self) -> str | None:
        value = self.data.get("type")
        return value if value in ("module", "commonjs") else None

    @property
    def main(self) -> str | None:
        value = self.data.get("main")
        return value if isinstance(value, str) and value else None

    @property
    def exports(self) -> Any:
        return self.data.get("exports", ABSENT)

    @property
    def imports(self) -> Any:
        return self.data.get("imports", ABSENT)

    def dependency_section(self, package: str) -> str | None:
        """Which section declares ``package``: dependencies, optionalDependencies, peerDependencies,
        devDependencies, or None."""
        for section in ("dependencies", "optionalDependencies", "peerDependencies", "devDependencies"):
            deps = self.data.get(section)
            if isinstance(deps, dict) and package in deps:
                return section
        bundled = self.data.get("bundledDependencies", self.data.get("bundleDependencies"))
        if isinstance(bundled, list) and package in bundled:
            return "bundledDependencies"
        return None

    @property
    def engines_node(self) -> str | None:
        engines = self.data.get("engines")
        if isinstance(engines, dict) and isinstance(engines.get("node"), str):
            return engines["node"]
        return None


class PackageJsonCache:
    """Reads each package.json once; finds the nearest one above a file (Node's "package scope")."""

    def __init__(self, fs: FileSystem) -> None:
        self.fs = fs
        self._by_dir: dict[str, PackageJson | None] = {}
        self._scope: dict[str, PackageJson | None] = {}

    def at(self, directory: str) -> PackageJson | None:
        try:
            return self._by_dir[directory]
        except KeyError:
            pass
        pkg: PackageJson | None = None
        path = os.path.join(directory, "package.json")
        if self.fs.is_file(path):
            pkg = _read(directory, path)
        self._by_dir[directory] = pkg
        return pkg

    def scope(self, directory: str) -> PackageJson | None:
        """The nearest package.json at or above ``directory``; node_modules boundaries end the search
        the way Node's package scope lookup does (a path ending in node_modules stops it)."""
        try:
            return self._scope[directory]
        except KeyError:
            pass
        pkg = self.at(directory)
        if pkg is None and os.path.basename(directory) != "node_modules":
            parent = os.path.dirname(directory)
            if parent != directory:
                pkg = self.scope(parent)
        self._scope[directory] = pkg
        return pkg


def _read(directory: str, path: str) -> PackageJson:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        return PackageJson(directory, {}, f"cannot read: {err.strerror}")
    try:
        data = safejson.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return PackageJson(directory, {}, "not UTF-8 text")
    except json.JSONDecodeError as err:
        return PackageJson(directory, {}, f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}")
    if not isinstance(data, dict):
        return PackageJson(directory, {}, "not a JSON object")
    return PackageJson(directory, data)
