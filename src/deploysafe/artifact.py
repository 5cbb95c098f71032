"""Read a release artifact (docs/artifact.md, format 1): its manifest, a full verification, a safe unpack.

Every refusal is an :class:`ArtifactError` whose message is one line naming the member. Nothing here
trusts the archive: names are checked before use, sizes and hashes are checked against the manifest,
and unpacking walks directories by file descriptor with ``O_NOFOLLOW``, so a symlink that already sits
in the target directory is never followed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from deploysafe.errors import ArtifactError

MANIFEST_PATH = ".deploysafe/manifest.json"
FORMAT = 1
_CHUNK = 1 << 16
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ManifestFile:
    """One packed file as the manifest lists it."""

    path: str
    sha256: str
    size: int
    mode: int = 0o644

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


@dataclass(frozen=True)
class Manifest:
    """The parsed ``.deploysafe/manifest.json`` of an artifact."""

    id: str
    name: str
    version: str
    content_sha256: str
    files: tuple[ManifestFile, ...]
    start: str | None = None
    lockfile: str | None = None
    entries: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    manifest_sha256: str = field(default="", compare=False)
    """sha256 of the manifest.json bytes themselves (set when read from an archive)."""

    def file(self, path: str) -> ManifestFile | None:
        for item in self.files:
            if item.path == path:
                return item
        return None

    @property
    def lockfile_sha256(self) -> str | None:
        """The sha256 of the packed lockfile, which decides whether dependencies can be reused."""
        if not self.lockfile:
            return None
        item = self.file(self.lockfile)
        return item.sha256 if item else None

    @property
    def total_size(self) -> int:
        return sum(item.size for item in self.files)


def content_sha256(files: Iterator[ManifestFile] | tuple[ManifestFile, ...] | list[ManifestFile]) -> str:
    """sha256 over ``"<sha256>  <path>\\n"`` per file, in the given order (the ``sha256sum`` format)."""
    digest = hashlib.sha256()
    for item in files:
        digest.update(f"{item.sha256}  {item.path}\n".encode())
    return digest.hexdigest()


def check_member_name(name: str) -> str:
    """The member name without a trailing ``/``; refuses absolute, ``..``, ``.`` and empty segments."""
    clean = name[:-1] if name.endswith("/") else name
    if not clean:
        raise ArtifactError("artifact member has an empty name")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean):
        raise ArtifactError(f"artifact member {name!r} has an absolute path")
    if "\\" in clean or "\x00" in clean:
        raise ArtifactError(f"artifact member {name!r} has a backslash or NUL in its name")
    parts = clean.split("/")
    if ".." in parts:
        raise ArtifactError(f"artifact member {name!r} has a '..' segment")
    if "" in parts or "." in parts:
        raise ArtifactError(f"artifact member {name!r} has an empty or '.' segment")
    return clean


def parse_manifest(data: bytes) -> Manifest:
    """Parse and validate manifest bytes; the hashes of the files themselves are checked elsewhere."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ArtifactError(f"{MANIFEST_PATH} is not valid JSON: {err}") from err
    if not isinstance(raw, dict):
        raise ArtifactError(f"{MANIFEST_PATH} is not a JSON object")
    if raw.get("format") != FORMAT:
        raise ArtifactError(f"{MANIFEST_PATH}: unsupported format {raw.get('format')!r} (expected {FORMAT})")
    for key in ("id", "name", "version", "content_sha256"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ArtifactError(f"{MANIFEST_PATH}: missing or empty {key!r}")
    if not _SAFE_ID.match(raw["id"]) or raw["id"].endswith(".adopted"):
        raise ArtifactError(f"{MANIFEST_PATH}: id {raw['id']!r} cannot name a release directory")
    files_raw = raw.get("files")
    if not isinstance(files_raw, list):
        raise ArtifactError(f"{MANIFEST_PATH}: 'files' must be a list")
    files: list[ManifestFile] = []
    seen: set[str] = set()
    for item in files_raw:
        if not isinstance(item, dict):
            raise ArtifactError(f"{MANIFEST_PATH}: every entry of 'files' must be an object")
        path = item.get("path")
        sha = item.get("sha256")
        size = item.get("size")
        mode = item.get("mode", 0o644)
        if not isinstance(path, str):
            raise ArtifactError(f"{MANIFEST_PATH}: a file entry has no path")
        path = check_member_name(path)
        if path == MANIFEST_PATH:
            raise ArtifactError(f"{MANIFEST_PATH}: lists itself")
        if path in seen:
            raise ArtifactError(f"{MANIFEST_PATH}: lists {path!r} twice")
        if not isinstance(sha, str) or not _HEX64.match(sha):
            raise ArtifactError(f"{MANIFEST_PATH}: {path!r} has no valid sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ArtifactError(f"{MANIFEST_PATH}: {path!r} has no valid size")
        if not isinstance(mode, int) or isinstance(mode, bool):
            raise ArtifactError(f"{MANIFEST_PATH}: {path!r} has no valid mode")
        seen.add(path)
        files.append(ManifestFile(path=path, sha256=sha, size=size, mode=mode & 0o777))
    files_t = tuple(files)
    if content_sha256(files_t) != raw["content_sha256"]:
        raise ArtifactError(f"{MANIFEST_PATH}: content_sha256 does not match its file list")
    if not raw["id"].endswith("-" + raw["content_sha256"][:8]):
        raise ArtifactError(f"{MANIFEST_PATH}: id {raw['id']!r} does not end with the content hash")
    start = raw.get("start")
    lockfile = raw.get("lockfile")
    entries = raw.get("entries") or []
    return Manifest(
        id=raw["id"],
        name=raw["name"],
        version=raw["version"],
        content_sha256=raw["content_sha256"],
        files=files_t,
        start=start if isinstance(start, str) and start.strip() else None,
        lockfile=lockfile if isinstance(lockfile, str) and lockfile else None,
        entries=tuple(e for e in entries if isinstance(e, str)),
        raw=raw,
    )


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r|gz")
    except FileNotFoundError as err:
        raise ArtifactError(f"artifact {path} does not exist") from err
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ArtifactError(f"{path} is not a gzip-compressed tar archive: {err}") from err


_CORRUPT = (tarfile.TarError, OSError, EOFError, zlib.error)


def _members(archive: tarfile.TarFile, path: Path) -> Iterator[tarfile.TarInfo]:
    try:
        yield from archive
    except _CORRUPT as err:
        raise ArtifactError(f"{path}: archive is truncated or corrupt: {err}") from err


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Any read error of the archive itself becomes one ArtifactError line."""
    try:
        yield
    except _CORRUPT as err:
        raise ArtifactError(f"{path}: archive is truncated or corrupt: {err}") from err


def _read_first_manifest(archive: tarfile.TarFile, path: Path) -> tuple[Manifest, bytes, Iterator[tarfile.TarInfo]]:
    members = _members(archive, path)
    first = next(members, None)
    if first is None:
        raise ArtifactError(f"{path}: empty archive")
    if check_member_name(first.name) != MANIFEST_PATH or not first.isreg():
        raise ArtifactError(f"{path}: first member is {first.name!r}, expected {MANIFEST_PATH}")
    stream = archive.extractfile(first)
    assert stream is not None
    body = stream.read()
    manifest = replace(parse_manifest(body), manifest_sha256=hashlib.sha256(body).hexdigest())
    return manifest, body, members


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The artifact's manifest (first member) without reading the rest of the archive."""
    path = Path(path)
    with _reading(path), _open(path) as archive:
        return _read_first_manifest(archive, path)[0]


ProgressFn = Callable[[int, int], None]


def _walk(
    path: Path,
    on_dir: Callable[[str], None] | None,
    on_file: Callable[[ManifestFile, IO[bytes]], None],
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


def _hash_stream(item: ManifestFile, stream: IO[bytes], sink: Callable[[bytes], object] | None) -> None:
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if sink:
            sink(chunk)
    if size != item.size or digest.hexdigest() != item.sha256:
        raise ArtifactError(f"artifact member {item.path!r} does not match its sha256 in the manifest")


def verify(path: str | os.PathLike[str], progress: ProgressFn | None = None) -> Manifest:
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

    def close(self) -> None:
        os.close(self.root_fd)

    def _dir_fd(self, parts: list[str]) -> int:
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

    def write(self, item: ManifestFile, stream: IO[bytes]) -> None:
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
        item = ManifestFile(MANIFEST_PATH, hashlib.sha256(body).hexdigest(), len(body))
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
