"""The artifact's ``.deploysafe/manifest.json`` (docs/artifact.md, format 1): one :class:`FileRecord` per
packed file, the parsed :class:`Manifest`, and both directions of the document (``parse_manifest`` reads
and validates it; ``hash_files``, ``build`` and ``encode`` write it).

Everything in it is relative to the project root and sorted, and nothing in it depends on where the tree
sits or when it was packed, so the same tree gives the same bytes. Every refusal of a manifest read is an
:class:`ArtifactError` naming the member.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from deploysafe import __version__, safejson
from deploysafe.errors import ArtifactError, PackError

MANIFEST_PATH = ".deploysafe/manifest.json"
FORMAT = 1
_CHUNK = 1 << 20
_KEEP_FILE = 16 << 20
_KEEP_TOTAL = 128 << 20
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._+@-]+")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@-]*$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One packed file as the manifest lists it; ``source`` is where pack read its bytes (None when read
    back from a manifest)."""

    path: str  # member name
    sha256: str
    size: int
    mode: int = 0o644  # 0o644 or 0o755
    source: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "mode": self.mode}

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)


# What an artifact may hold; past these it is refused before anything is unpacked or read whole.
MAX_MANIFEST_BYTES = 64 << 20  # a manifest of 40,000 files is about 6 MB
MAX_FILES = 500_000
MAX_FILE_BYTES = 4 << 30
MAX_TOTAL_BYTES = 64 << 30


@dataclass(frozen=True)
class Manifest:
    """The parsed ``.deploysafe/manifest.json`` of an artifact."""

    id: str
    name: str
    version: str
    content_sha256: str
    files: tuple[FileRecord, ...]
    start: str | None = None
    lockfile: str | None = None
    entries: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    manifest_sha256: str = field(default="", compare=False)
    """sha256 of the manifest.json bytes themselves (set when read from an archive)."""

    def file(self, path: str) -> FileRecord | None:
        index = self.__dict__.get("_by_path")
        if index is None:  # built once: callers ask for many files of a large manifest
            index = {item.path: item for item in self.files}
            object.__setattr__(self, "_by_path", index)
        return index.get(path)

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


def content_sha256(files: Iterable[FileRecord]) -> str:
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
    try:
        clean.encode("utf-8")
    except UnicodeEncodeError:
        raise ArtifactError(f"artifact member {name!r} has a name that is not valid UTF-8") from None
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
        raw = safejson.loads(data.decode("utf-8"))
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
    if len(files_raw) > MAX_FILES:
        raise ArtifactError(
            f"{MANIFEST_PATH}: lists {len(files_raw):,} files, over the {MAX_FILES:,} an artifact may hold"
        )
    files: list[FileRecord] = []
    total = 0
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
        if size > MAX_FILE_BYTES:
            raise ArtifactError(
                f"{MANIFEST_PATH}: {path!r} is {size:,} bytes, over the {MAX_FILE_BYTES >> 30} GiB a packed file may hold"
            )
        total += size
        if total > MAX_TOTAL_BYTES:
            raise ArtifactError(
                f"{MANIFEST_PATH}: its files add up to more than the {MAX_TOTAL_BYTES >> 30} GiB an artifact may hold"
            )
        seen.add(path)
        files.append(FileRecord(path=path, sha256=sha, size=size, mode=mode & 0o777))
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


def hash_file(path: str, source: str, keep: bool = False) -> tuple[FileRecord, bytes | None]:
    """The record of one file, and its bytes when ``keep`` and it is small enough to hold."""
    digest = hashlib.sha256()
    kept: bytes | None = None
    try:
        with open(source, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise PackError(f"cannot pack {path}: not a regular file")
            if keep and info.st_size <= _KEEP_FILE:
                kept = handle.read()
                digest.update(kept)
                size = len(kept)
            else:
                size = 0
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
    except OSError as err:
        raise PackError(f"cannot read {path}: {err.strerror or err}") from err
    mode = 0o755 if info.st_mode & 0o111 else 0o644
    return FileRecord(path, digest.hexdigest(), size, mode, source=source), kept


def hash_files(
    sources: dict[str, str], progress: Callable[[int, int], None] | None = None
) -> tuple[list[FileRecord], dict[str, bytes]]:
    """sha256, size and mode of every file (packed path -> absolute source), sorted by packed path, and
    the bytes of as many files as fit in memory (up to 128 MB), so the archive is written from exactly
    the bytes that were hashed without reading them again.

    One thread: on a warm page cache, opening many small files costs more than hashing them, and threads
    only add contention (measured: 2,073 files in 35 ms sequentially, 83 ms on four threads).
    """
    paths = sorted(sources)
    records = []
    contents: dict[str, bytes] = {}
    budget = _KEEP_TOTAL
    for done, path in enumerate(paths, 1):
        record, data = hash_file(path, sources[path], keep=budget > 0)
        records.append(record)
        if data is not None:
            contents[path] = data
            budget -= len(data)
        if progress and (done % 256 == 0 or done == len(paths)):
            progress(done, len(paths))
    return records, contents


def artifact_id(name: str, version: str, digest: str) -> str:
    """``<name>-<version>-<8 hex>``, made safe to name a directory (``@scope/pkg`` -> ``scope-pkg``)."""
    safe = _UNSAFE_ID_CHARS.sub("-", f"{name}-{version}".lstrip("@")).strip("-.") or "app"
    if not safe[0].isalnum():
        safe = "app-" + safe
    return f"{safe}-{digest[:8]}"


def build(
    *,
    name: str,
    version: str,
    records: Iterable[FileRecord],
    entries: list[str],
    node: dict[str, str],
    start: str | None,
    lockfile: str | None,
    dormant: list[str],
    excluded: list[dict[str, str]],
    check: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    files = sorted(records, key=lambda r: r.path)
    digest = content_sha256(files)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "tool": {"name": "deploysafe", "version": __version__},
        "name": name,
        "version": version,
        "id": artifact_id(name, version, digest),
        "content_sha256": digest,
        "entries": entries,
        "node": node,
    }
    if start:
        manifest["start"] = start
    manifest |= {
        "lockfile": lockfile,
        "files": [r.to_json() for r in files],
        "dormant": sorted(_printable(d) for d in dormant),
        "excluded": [{k: _printable(v) for k, v in item.items()} for item in excluded],
        "check": check,
    }
    manifest |= extra or {}
    return manifest


def _printable(path: Any) -> Any:
    """A listed (not packed) path as valid UTF-8: bytes a file name holds that are not UTF-8 become ``\\xNN``."""
    if not isinstance(path, str):
        return path
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return path


def encode(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
