"""A scratch tree that ``check`` can run on: the user's files are never touched to answer "what if".

Code files (sources, JSON, package.json, configs) get their real bytes, hard-linked when the file
system allows; every other file is an empty stand-in, because the import graph only asks whether it
exists. node_modules folders are symlinked from the tree they belong to, so packages resolve as there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from types import TracebackType

from deploysafe.drift.model import Inventory, is_code


class WorkTree:
    def __init__(self, label: str = "tree") -> None:
        self.path = os.path.realpath(tempfile.mkdtemp(prefix=f"deploysafe-drift-{label}-"))

    def __enter__(self) -> WorkTree:
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def _dest(self, rel: str) -> str:
        dest = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        return dest

    def mirror(self, root: str, inventory: Inventory) -> None:
        """Every file of the directory ``root`` (as inventoried): code linked or copied, the rest empty."""
        for record in inventory.files.values():
            dest = self._dest(record.path)
            source = os.path.join(root, record.path)
            if not is_code(record.path, record.size):
                open(dest, "wb").close()
                continue
            try:
                os.link(source, dest)
            except OSError:
                with contextlib.suppress(OSError):
                    shutil.copyfile(source, dest)

    def stand_ins(self, inventory: Inventory, contents: dict[str, bytes]) -> None:
        """Every file of ``inventory``: the bytes in ``contents`` where given, else an empty file."""
        for record in inventory.files.values():
            with open(self._dest(record.path), "wb") as handle:
                handle.write(contents.get(record.path, b""))

    def write(self, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            dest = self._dest(rel)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dest)  # may be a hard link to the user's file: replace, never write through
            with open(dest, "wb") as handle:
                handle.write(data)

    def remove(self, paths: list[str]) -> None:
        for rel in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.path, rel))

    def link_packages(self, root: str, node_modules: list[str]) -> None:
        """Symlink ``root``'s node_modules folders (and the nearest one above it, for hoisted installs)."""
        for rel in node_modules:
            dest = os.path.join(self.path, rel)
            if not os.path.lexists(dest):
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                os.symlink(os.path.join(root, rel), dest)
        top = os.path.join(self.path, "node_modules")
        if os.path.lexists(top):
            return
        parent = os.path.dirname(os.path.realpath(root))
        while True:
            candidate = os.path.join(parent, "node_modules")
            if os.path.isdir(candidate):
                os.symlink(candidate, top)
                return
            up = os.path.dirname(parent)
            if up == parent:
                return
            parent = up
