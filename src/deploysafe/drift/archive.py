"""Inventory of a .tar.gz / .tgz / .tar / .zip without extracting anything.

Members are read as a stream and hashed as they pass. A member whose name is absolute or climbs out with
``..`` rejects the whole archive (one line naming it): an archive that tries that is not a snapshot of a
service. Hard links take the record of the member they name; symbolic links to a file inside the archive
take that file's record; links that point outside are listed as problems. When every file sits under one
top folder holding a package.json (``tar czf prod.tgz api/``), that folder is the tree.
"""

from __future__ import annotations

import hashlib
import posixpath
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from deploysafe.drift.model import (
    Inventory,
    InventoryError,
    InventoryFile,
    ProgressFn,
    Skip,
    display,
    is_code,
    safe_relative,
)
from deploysafe.ecosystems.node.files import ALWAYS_SKIPPED_DIRS

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".zip")
_CHUNK = 1 << 20
_KEEP_LIMIT = 1 << 20  # code files up to this size are kept in memory: no second pass to read them


def is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVE_SUFFIXES)


@dataclass
class _Pass:
    """What one pass over the members found, before links are resolved and the top folder stripped."""

    records: dict[str, InventoryFile] = field(default_factory=dict)
    links: dict[str, str | None] = field(default_factory=dict)  # member -> the member it names
    kept: dict[str, bytes] = field(default_factory=dict)


class ArchiveTree:
    """One archive seen as a tree: its inventory, and the bytes of chosen members on request."""

    def __init__(self, path: str, skip: Skip | None = None) -> None:
        self.path = path
        self.skip = skip or Skip()
        self.prefix = ""
        self._kept: dict[str, bytes] = {}
        self._source_of: dict[str, str] = {}  # tree path -> member whose bytes it has

    def inventory(self, progress: ProgressFn | None = None) -> Inventory:
        found = _Pass()
        label = f"hashing {display(self.path)}"
        last = time.monotonic()
        for count, (name, kind, data, link) in enumerate(self._members(), 1):
            if in_skipped_folder(name):
                continue  # node_modules and VCS folders are never compared: not even hashed
            if kind == "file":
                assert data is not None
                found.records[name] = _hash(name, data, found.kept)
            elif kind == "link":
                found.links[name] = link
            if progress is not None and time.monotonic() - last > 0.1:
                last = time.monotonic()
                progress(label, count, None)
        inventory = Inventory(location=self.path, tool="python", directory=None)
        _resolve_links(found, inventory)
        self.prefix = _top_folder(found.records)
        for name, record in sorted(found.records.items()):
            rel = name[len(self.prefix) :]
            if not rel or self.skip.path(rel):
                continue
            inventory.add(InventoryFile(rel, record.size, record.sha256))
            self._source_of[rel] = found.links.get(name) or name
        self._kept = found.kept
        if progress is not None:
            progress(label, len(inventory.files), len(inventory.files))
        return inventory

    def read(self, paths: list[str], progress: ProgressFn | None = None) -> dict[str, bytes]:
        """The bytes of ``paths`` (tree paths); one more pass over the archive for those not kept."""
        by_member: dict[str, list[str]] = {}
        for rel in paths:
            if rel in self._source_of:
                by_member.setdefault(self._source_of[rel], []).append(rel)
        contents = {m: self._kept[m] for m in by_member if m in self._kept}
        if len(contents) < len(by_member):
            for name, kind, data, _link in self._members():
                if kind == "file" and name in by_member and name not in contents:
                    assert data is not None
                    contents[name] = b"".join(iter(lambda: data.read(_CHUNK), b""))  # noqa: B023
        return {rel: contents[m] for m, rels in by_member.items() if m in contents for rel in rels}

    # -- members ----------------------------------------------------------------------------------

    def _members(self) -> Iterator[tuple[str, str, IO[bytes] | None, str | None]]:
        """(safe name, "file" | "link" | "other", stream for files, the member a link names)."""
        try:
            if self.path.lower().endswith(".zip"):
                yield from self._zip_members()
            else:
                yield from self._tar_members()
        except InventoryError:
            raise
        except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError) as err:
            raise InventoryError(f"{display(self.path)}: not a readable archive: {_reason(err)}") from err

    def _tar_members(self) -> Iterator[tuple[str, str, IO[bytes] | None, str | None]]:
        with tarfile.open(self.path, mode="r|*") as archive:
            for member in archive:
                name = self._safe(member.name)
                if member.isdir() or not name:
                    continue
                if member.isreg():
                    yield name, "file", archive.extractfile(member), None
                elif member.islnk():
                    yield name, "link", None, self._safe(member.linkname)
                elif member.issym():
                    yield name, "link", None, _symlink_target(name, member.linkname)
                else:
                    yield name, "other", None, None

    def _zip_members(self) -> Iterator[tuple[str, str, IO[bytes] | None, str | None]]:
        with zipfile.ZipFile(self.path) as archive:
            for info in archive.infolist():
                name = self._safe(info.filename)
                if info.is_dir() or not name:
                    continue
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    with archive.open(info) as handle:
                        target = handle.read(4096).decode("utf-8", "surrogateescape")
                    yield name, "link", None, _symlink_target(name, target)
                    continue
                if info.flag_bits & 0x1:
                    raise InventoryError(f"{display(self.path)}: {display(name)} is encrypted; cannot hash it")
                with archive.open(info) as handle:
                    yield name, "file", handle, None

    def _safe(self, name: str) -> str:
        rel = safe_relative(name)
        if rel is None:
            raise InventoryError(
                f"{display(self.path)}: member {display(name)!r} points outside the archive (absolute path or '..'); "
                "refusing to read it"
            )
        return rel


def inventory_archive(path: str, skip: Skip | None = None, progress: ProgressFn | None = None) -> Inventory:
    return ArchiveTree(path, skip).inventory(progress)


def _hash(name: str, stream: IO[bytes], kept: dict[str, bytes]) -> InventoryFile:
    digest = hashlib.sha256()
    size = 0
    keep = is_code(name)
    parts: list[bytes] = []
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if keep and size <= _KEEP_LIMIT:
            parts.append(chunk)
    if keep and size <= _KEEP_LIMIT:
        kept[name] = b"".join(parts)
    return InventoryFile(name, size, digest.hexdigest())


def _symlink_target(name: str, target: str) -> str | None:
    """The member a symlink at ``name`` names, or None when it leaves the archive."""
    if target.startswith("/"):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    return None if joined.startswith("../") or joined == ".." else joined


def _resolve_links(found: _Pass, inventory: Inventory) -> None:
    for name, target in found.links.items():
        hops = 0
        final: str | None = target
        while final is not None and final in found.links and hops < 16:
            final, hops = found.links[final], hops + 1
        record = found.records.get(final) if final is not None else None
        if record is None:
            if target is None:
                inventory.problem(name, "link points outside the archive; not compared")
            continue
        found.records[name] = InventoryFile(name, record.size, record.sha256)
        found.links[name] = final


def _top_folder(records: dict[str, InventoryFile]) -> str:
    """``top/`` when every file is under one folder that holds a package.json, else ``""``."""
    tops = {name.split("/", 1)[0] for name in records}
    if len(tops) != 1 or any("/" not in name for name in records):
        return ""
    top = tops.pop()
    return f"{top}/" if f"{top}/package.json" in records else ""


def _reason(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    return text.splitlines()[0]


def in_skipped_folder(name: str) -> bool:
    return any(part in ALWAYS_SKIPPED_DIRS for part in name.split("/")[:-1])
