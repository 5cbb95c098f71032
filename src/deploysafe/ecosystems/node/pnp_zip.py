"""The folders of Yarn's zip cache, made readable: a package location inside `.yarn/cache/x.zip/...` becomes the
same folder in a copy of that archive unpacked under the user's cache directory (``<cache>/pnp/``), so the
resolver, the parser and the rules read package files as they read node_modules.

An archive is unpacked once, whole, keyed by its name, size and modification time, into a temporary folder
renamed into place (a crash or a parallel check never leaves half a copy). Only regular files are written:
a member whose path is absolute or climbs out with `..`, a symlink, or an archive that would unpack to more
than :data:`MAX_BYTES` makes the archive unreadable (None), never a write outside the copy. Nothing is
written in the project. zipfile, tempfile and shutil load with the first archive (a project without Yarn's
zip cache never needs them).
"""

from __future__ import annotations

import hashlib
import os
import stat

from deploysafe.check.cache import default_cache_dir

MAX_BYTES = 512 * 1024 * 1024
_MARK = ".zip" + os.sep
_VIRTUAL = "__virtual__"


class ZipFolders:
    def __init__(self, cache: str | None = None) -> None:
        self.cache = cache or str(default_cache_dir() / "pnp")
        self._copies: dict[str, str | None] = {}  # archive -> its unpacked copy (None: unreadable)

    def real(self, path: str) -> str | None:
        """``path`` itself (a virtual path resolved), or where it is in the unpacked copy when it lies
        inside a .zip archive (None when the archive cannot be read). Each virtual instance of an archive
        (`.yarn/__virtual__/<hash>/<depth>/cache/x.zip`: one package with one set of peers) gets a copy of
        its own, so that a file in it is still found in that instance by the map."""
        plain = devirtualize(path)
        archive = _archive_in(plain)
        if archive is None:
            return plain
        named = path[: path.find(_MARK) + len(".zip")] if _MARK in path else archive
        copy = self._copy(named, archive)
        if copy is None:
            return None
        return os.path.join(copy, plain[len(archive) + len(os.sep) :])

    def virtual(self, path: str) -> str:
        """The inverse of :meth:`real`: a path in an unpacked copy as the path inside its archive."""
        for archive, copy in self._copies.items():
            if copy is not None and (path == copy or path.startswith(copy + os.sep)):
                return archive + path[len(copy) :]
        return path

    def virtualize(self, text: str) -> str:
        """``text`` with every unpacked copy's folder named as its archive."""
        for archive, copy in self._copies.items():
            if copy is not None:
                text = text.replace(copy, archive)
        return text

    def _copy(self, named: str, archive: str) -> str | None:
        if named not in self._copies:
            instance = hashlib.sha256(named.encode()).hexdigest()[:12] if named != archive else ""
            self._copies[named] = _unpacked(archive, self.cache, instance)
        return self._copies[named]


MISSING_ARCHIVE = "the package archive the PnP map names,"


def archive_of(path: str) -> str | None:
    """The .zip archive a path in the PnP map lies in (virtual parts resolved), or None outside any."""
    return _archive_in(devirtualize(path))


def _archive_in(plain: str) -> str | None:
    index = plain.find(_MARK)
    return plain[: index + len(".zip")] if index >= 0 else None


def devirtualize(path: str) -> str:
    """The real path of a Yarn virtual path: `<base>/__virtual__/<hash>/<depth>/<rest>` is `<base>`, up
    `depth` folders, then `<rest>` (Yarn's VirtualFS)."""
    parts = path.split(os.sep)
    if _VIRTUAL not in parts:
        return path
    at = parts.index(_VIRTUAL)
    if len(parts) < at + 3 or not parts[at + 2].isdigit():
        return path
    base = os.sep.join(parts[:at]) or os.sep
    for _ in range(int(parts[at + 2])):
        base = os.path.dirname(base)
    return devirtualize(os.path.join(base, *parts[at + 3 :]))


def _unpacked(archive: str, cache: str, instance: str) -> str | None:
    try:
        info = os.stat(archive)
    except OSError:
        return None
    name = os.path.basename(archive)[: -len(".zip")]
    target = os.path.join(cache, f"{name}-{info.st_size}-{info.st_mtime_ns}" + (f"-{instance}" if instance else ""))
    if os.path.isdir(target):
        return os.path.realpath(target)
    import shutil
    import tempfile

    try:
        os.makedirs(cache, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=f".{name}-", dir=cache)
    except OSError:
        return None
    try:
        if not _extract(archive, staging):
            return None
        try:
            os.rename(staging, target)
        except OSError:  # another check unpacked it first
            if not os.path.isdir(target):
                return None
        return os.path.realpath(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract(archive: str, into: str) -> bool:
    import shutil
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            if sum(m.file_size for m in members) > MAX_BYTES:
                return False
            root = os.path.realpath(into)
            for member in members:
                if stat.S_ISLNK(member.external_attr >> 16):
                    return False
                name = member.filename
                path = os.path.realpath(os.path.join(root, name))
                if os.path.isabs(name) or not path.startswith(root + os.sep):
                    return False
                if member.is_dir():
                    os.makedirs(path, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with zipped.open(member) as source, open(path, "wb") as sink:
                    shutil.copyfileobj(source, sink)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
    return True
