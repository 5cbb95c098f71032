"""Yarn Plug'n'Play: no node_modules; `.pnp.cjs` (with `.pnp.loader.mjs` for ES modules) maps each package
to a zip in `.yarn/cache` or a folder in `.yarn/unplugged`, and Node loads packages only through it.

Package imports resolve through that map (pnp_map.py, with archives read by pnp_zip.py); where the map or an
archive cannot be read, those imports are not verified, which the report says once. The files the PnP
runtime needs at start (`.pnp.cjs`, `.pnp.loader.mjs`, `.pnp.data.json`, `.yarnrc.yml`, `.yarn/cache`,
`.yarn/unplugged`) are never dormant and ship with pack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MAP = ".pnp.cjs"
FILES = (".pnp.cjs", ".pnp.loader.mjs", ".pnp.data.json", ".yarnrc.yml")
FOLDERS = (".yarn/cache", ".yarn/unplugged")
SKIPPED = (".pnp.cjs", ".pnp.loader.mjs", ".yarn/")  # never sources of the service itself


@dataclass(frozen=True)
class PnpProject:
    """A project installed by Yarn PnP: where its map is (the project or the workspace root above it)."""

    map: str  # absolute path of .pnp.cjs

    @property
    def folder(self) -> str:
        return os.path.dirname(self.map)

    def runtime_files(self, root: str) -> tuple[str, ...]:
        """Files under ``root`` that the PnP runtime reads at start, relative to it ("/" separators)."""
        found: list[str] = []
        for name in FILES:
            if os.path.isfile(os.path.join(self.folder, name)):
                found.append(os.path.join(self.folder, name))
        for folder in FOLDERS:
            for parent, dirs, files in os.walk(os.path.join(self.folder, folder)):
                dirs.sort()
                found += [os.path.join(parent, f) for f in sorted(files)]
        rels = (os.path.relpath(p, root).replace(os.sep, "/") for p in found)
        return tuple(r for r in rels if not r.startswith("../"))


def find(root: str) -> PnpProject | None:
    """The PnP map that governs ``root``: .pnp.cjs in it or in the nearest folder above that has one."""
    folder = os.path.abspath(root)
    while True:
        candidate = os.path.join(folder, MAP)
        if os.path.isfile(candidate):
            return PnpProject(candidate)
        if os.path.isdir(os.path.join(folder, "node_modules")):
            return None  # a node_modules install between: Node resolves through it
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
