"""What is installed under a project's node_modules, indexed once per check.

Every package the project's node_modules holds, by name, with where it sits: at the top level
(``node_modules/x``), inside another package's own node_modules (``node_modules/a/node_modules/x``, a
dependency npm did not hoist, at any depth) or in pnpm's store (``node_modules/.pnpm/x@1.0.0/node_modules/x``).
The index reads each of those folders once, through the check's :class:`~deploysafe.check.fs.FileSystem`
(so the resolver's listings are shared), when it is first asked; every question after that ("where is x
installed, if anywhere?") is a dictionary look-up, never a directory walk.

It is built per check, not kept across checks: proving a saved index still true would take the same
folder reads that build it (a few milliseconds for a thousand packages).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from deploysafe.check.fs import DIR, FileSystem

MODULES = "node_modules"
STORE = ".pnpm"


class PackageIndex:
    """The packages installed under ``root``/node_modules, by name."""

    def __init__(self, root: str, fs: FileSystem) -> None:
        self.root = root
        self.fs = fs
        self._places: dict[str, list[str]] | None = None  # name -> places, relative to root, in order
        self._store: dict[str, list[str]] | None = None  # name -> pnpm store entries naming it, sorted

    def places(self, name: str) -> list[str]:
        """Where ``name`` is installed outside pnpm's store, relative to the root with '/': the top level
        first, then nested copies by their owners' names (shallower first)."""
        if self._places is None:
            self._places = self._index()
        return self._places.get(name, [])

    def unreachable_copy(self, name: str) -> str | None:
        """A copy of ``name`` that the project's own files cannot reach: in pnpm's store, else inside
        another package's node_modules (a transitive dependency npm did not hoist)."""
        for entry in self._store_entries(name):
            place = f"{MODULES}/{STORE}/{entry}/{MODULES}/{name}"
            if self.fs.is_dir(os.path.join(self.root, place)):
                return place
        nested = [p for p in self.places(name) if p != f"{MODULES}/{name}"]
        return nested[0] if nested else None

    def _store_entries(self, name: str) -> list[str]:
        if self._store is None:
            self._store = {}
            listing = self.fs.listing(os.path.join(self.root, MODULES, STORE)) or {}
            for entry in sorted(listing):
                at = entry.find("@", 1)  # "@scope+name@1.0.0(peer@2)" -> "@scope/name"
                if at > 0:
                    self._store.setdefault(entry[:at].replace("+", "/"), []).append(entry)
        return self._store.get(name, [])

    def _index(self) -> dict[str, list[str]]:
        places: dict[str, list[str]] = {}
        queue = [MODULES]  # folders named node_modules, relative to the root, breadth first
        seen: set[str] = set()
        while queue:
            folder = queue.pop(0)
            real = self.fs.realpath(os.path.join(self.root, folder))
            if real in seen:  # a symlinked package seen under another name
                continue
            seen.add(real)
            for name, place in sorted(self._packages_in(folder)):
                places.setdefault(name, []).append(place)
                own = self.fs.listing(os.path.join(self.root, place)) or {}
                if own.get(MODULES) == DIR:
                    queue.append(f"{place}/{MODULES}")
        return places

    def _packages_in(self, folder: str) -> Iterator[tuple[str, str]]:
        """(name, place) of every package in one node_modules folder, scoped ones included."""
        listing = self.fs.listing(os.path.join(self.root, folder))
        for entry, kind in (listing or {}).items():
            if kind != DIR or entry.startswith("."):
                continue
            if not entry.startswith("@"):
                yield entry, f"{folder}/{entry}"
                continue
            for child, child_kind in (self.fs.listing(os.path.join(self.root, folder, entry)) or {}).items():
                if child_kind == DIR and not child.startswith("."):
                    yield f"{entry}/{child}", f"{folder}/{entry}/{child}"
