"""Read a release artifact (docs/artifact.md, format 1): its manifest, a full verification, a safe unpack.

Every refusal is an :class:`ArtifactError` whose message is one line naming the member. Nothing here
trusts the archive: names are checked before use, sizes and hashes are checked against the manifest,
and unpacking walks directories by file descriptor with ``O_NOFOLLOW``, so a symlink that already sits
in the target directory is never followed.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO

from deploysafe.artifact.manifest import (
    MANIFEST_PATH,
    MAX_MANIFEST_BYTES,
    FileRecord,
    Manifest,
    check_member_name,
    parse_manifest,
)
from deploysafe.errors import ArtifactError

_CHUNK = 1 << 16


@contextmanager
def _open(path: Path) -> Iterator[tarfile.TarFile]:
    """The archive as a stream of members. gzip is read by ``gzip.GzipFile`` and the tar stream by
    ``tarfile`` in plain ``r|`` mode: ``r|gz`` copies its whole decompressed buffer on every small
    read, which makes thousands of small members cost quadratic time."""
    with contextlib.ExitStack() as stack:
        try:
            raw = stack.enter_context(gzip.open(path, "rb"))
            archive = stack.enter_context(tarfile.open(fileobj=raw, mode="r|"))
        except FileNotFoundError as err:
            raise ArtifactError(f"artifact {path} does not exist") from err
        except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
            raise ArtifactError(f"{path} is not a gzip-compressed tar archive: {err}") from err
        yield archive


_CORRUPT = (tarfile.TarError, OSError, EOFError, zlib.error)


# OS errors that say nothing about the archive: the machine's own trouble, named as such.
_ENVIRONMENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.EMFILE, errno.ENFILE, errno.ENOMEM}
)


def _read_error(path: Path, err: BaseException) -> ArtifactError:
    if isinstance(err, OSError) and err.errno in _ENVIRONMENT_ERRNOS:
        where = f" ({err.filename})" if err.filename else ""
        return ArtifactError(f"{path}: {os.strerror(err.errno).lower()}{where}")
    return ArtifactError(f"{path}: archive is truncated or corrupt: {err}")


def _members(archive: tarfile.TarFile, path: Path) -> Iterator[tarfile.TarInfo]:
    try:
        yield from archive
    except _CORRUPT as err:
        raise _read_error(path, err) from err


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Any read error of the archive itself becomes one ArtifactError line; a full disk says so."""
    try:
        yield
    except _CORRUPT as err:
        raise _read_error(path, err) from err


def _read_first_manifest(archive: tarfile.TarFile, path: Path) -> tuple[Manifest, bytes, Iterator[tarfile.TarInfo]]:
    members = _members(archive, path)
    first = next(members, None)
    if first is None:
        raise ArtifactError(f"{path}: empty archive")
    if check_member_name(first.name) != MANIFEST_PATH or not first.isreg():
        raise ArtifactError(f"{path}: first member is {first.name!r}, expected {MANIFEST_PATH}")
    if first.size > MAX_MANIFEST_BYTES:
        raise ArtifactError(
            f"{path}: {MANIFEST_PATH} is {first.size:,} bytes, over the {MAX_MANIFEST_BYTES >> 20} MiB "
            "a manifest may hold; refusing to read it"
        )
    stream = archive.extractfile(first)
    assert stream is not None
    body = stream.read(MAX_MANIFEST_BYTES + 1)
    manifest = replace(parse_manifest(body), manifest_sha256=hashlib.sha256(body).hexdigest())
    return manifest, body, members


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The artifact's manifest (first member) without reading the rest of the archive."""
    path = Path(path)
    with _reading(path), _open(path) as archive:
        return _read_first_manifest(archive, path)[0]


def read_member(path: str | os.PathLike[str], name: str, limit: int = 1 << 20) -> bytes | None:
    """One regular file of the artifact (at most ``limit`` bytes), or None when it holds none by that name."""
    path = Path(path)
    with _reading(path), _open(path) as archive:
        for member in _members(archive, path):
            if member.isreg() and member.name.removeprefix("./") == name and member.size <= limit:
                stream = archive.extractfile(member)
                return stream.read(limit) if stream is not None else None
    return None


ProgressFn = Callable[[int, int], None]


def _walk(
    path: Path,
    on_dir: Callable[[str], None] | None,
    on_file: Callable[[FileRecord, IO[bytes]], None],
    progress: ProgressFn | None,
) -> tuple[Manifest, bytes]:
    """Stream every member once, checking it against the manifest, and hand it to the callbacks."""
    with _reading(path), _open(path) as archive:
        manifest, body, members = _read_first_manifest(archive, path)
        expected = {item.path: item for item in manifest.files}
        ancestors = {"/".join(p.split("/")[:i]) for p in expected for i in range(1, p.count("/") + 1)}
        ancestors.add(".deploysafe")
        seen: set[str] = set()
        done, total = 0, manifest.total_size
        for member in members:
            name = check_member_name(member.name)
            if name in seen or name == MANIFEST_PATH:
                raise ArtifactError(f"artifact member {name!r} appears twice")
            seen.add(name)
            if member.isdir():
                if name not in ancestors:
                    raise ArtifactError(f"artifact member {name!r} is a directory the manifest does not list")
                if on_dir:
                    on_dir(name)
                continue
            if not member.isreg():
                raise ArtifactError(f"artifact member {name!r} is not a regular file or directory")
            item = expected.get(name)
            if item is None:
                raise ArtifactError(f"artifact member {name!r} is not listed in the manifest")
            if member.size != item.size:
                raise ArtifactError(f"artifact member {name!r} is {member.size} bytes, the manifest says {item.size}")
            stream = archive.extractfile(member)
            assert stream is not None
            on_file(item, stream)
            done += item.size
            if progress:
                progress(done, total)
        missing = sorted(set(expected) - seen)
        if missing:
            raise ArtifactError(f"artifact is missing {missing[0]!r} that the manifest lists")
        return manifest, body


def _hash_stream(item: FileRecord, stream: IO[bytes], sink: Callable[[bytes], object] | None) -> None:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if sink:
            sink(chunk)
    if size != item.size or digest.hexdigest() != item.sha256:
        raise ArtifactError(f"artifact member {item.path!r} does not match its sha256 in the manifest")


def verify_archive(path: str | os.PathLike[str], progress: ProgressFn | None = None) -> Manifest:
    """Read the whole artifact and check every member against the manifest; return the manifest."""
    return _walk(Path(path), None, lambda item, stream: _hash_stream(item, stream, None), progress)[0]


class _SafeTree:
    """Writes under one directory by file descriptor; never follows a symlink, never overwrites."""

    _DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

    def __init__(self, dest: Path) -> None:
        try:
            self.root_fd = os.open(dest, self._DIR_FLAGS)
        except OSError as err:
            raise ArtifactError(f"cannot unpack into {dest}: {err.strerror}") from err
        self.dest = dest
        self._last: tuple[tuple[str, ...], int] | None = None  # the folder written last, kept open

    def close(self) -> None:
        if self._last is not None:
            os.close(self._last[1])
            self._last = None
        os.close(self.root_fd)

    def _dir_fd(self, parts: list[str]) -> int:
        """An fd of the folder ``parts`` (created as needed); members of one folder come together in an
        artifact, so the last folder's fd is reused rather than walked to again."""
        key = tuple(parts)
        if self._last is not None and self._last[0] == key:
            return os.dup(self._last[1])
        fd = self._open_dir(parts)
        if self._last is not None:
            os.close(self._last[1])
        self._last = (key, os.dup(fd))
        return fd

    def _open_dir(self, parts: list[str]) -> int:
        fd = os.dup(self.root_fd)
        try:
            for part in parts:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                try:
                    nxt = os.open(part, self._DIR_FLAGS, dir_fd=fd)
                except OSError as err:
                    raise ArtifactError(
                        f"cannot unpack under {'/'.join(parts)!r}: {part!r} is not a plain directory"
                    ) from err
                os.close(fd)
                fd = nxt
            return fd
        except BaseException:
            os.close(fd)
            raise

    def mkdir(self, name: str) -> None:
        os.close(self._dir_fd(name.split("/")))

    def write(self, item: FileRecord, stream: IO[bytes]) -> None:
        *parents, leaf = item.path.split("/")
        dir_fd = self._dir_fd(parents)
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
            try:
                fd = os.open(leaf, flags, 0o600, dir_fd=dir_fd)
            except FileExistsError as err:
                raise ArtifactError(f"artifact member {item.path!r} already exists in {self.dest}") from err
            with os.fdopen(fd, "wb") as out:
                _hash_stream(item, stream, out.write)
                os.fchmod(out.fileno(), 0o755 if item.executable else 0o644)
        finally:
            os.close(dir_fd)


def extract(path: str | os.PathLike[str], dest: str | os.PathLike[str], progress: ProgressFn | None = None) -> Manifest:
    """Unpack the artifact into ``dest`` (created if missing, normally empty), verifying as it goes.

    On an :class:`ArtifactError` the partly written ``dest`` is left for the caller to remove.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    tree = _SafeTree(dest)
    try:
        manifest, body = _walk(Path(path), tree.mkdir, tree.write, progress)
        item = FileRecord(MANIFEST_PATH, hashlib.sha256(body).hexdigest(), len(body))
        tree.write(item, io.BytesIO(body))
        return manifest
    finally:
        tree.close()


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
