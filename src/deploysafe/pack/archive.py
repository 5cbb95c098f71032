"""The deterministic tar.gz writer (docs/artifact.md): same members and bytes in, same archive bytes out.

``.deploysafe/manifest.json`` first, then every directory and file sorted by path; mtime 0, uid/gid 0,
empty owner names, mode 0644 (0755 for executables), directories 0755, PAX headers only where a name
needs them, gzip at level 6 with no name and no timestamp in its header. The archive is written to a
temporary file beside the output and renamed into place, so a failed pack never leaves half a file.
Each file is hashed again while it is copied: a file that changed since the manifest was made stops
the pack instead of shipping bytes the manifest does not describe.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from deploysafe.pack.errors import PackError
from deploysafe.pack.manifest import MANIFEST_PATH, FileRecord

MTIME = 0
COMPRESSLEVEL = 6  # what `tar czf` (gzip -6) uses: the size/speed trade-off people expect
_BUFFER = 1 << 20


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing what it hands over."""

    def __init__(self, handle: io.BufferedReader) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data

    def readable(self) -> bool:
        return True


def _info(name: str, size: int, mode: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.mtime = MTIME
    info.type = kind
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def members(records: Sequence[FileRecord]) -> list[tuple[str, FileRecord | None]]:
    """Every directory and file, sorted by name (a folder sorts before what it holds); None for folders."""
    found: dict[str, FileRecord | None] = {}
    for record in records:
        parts = record.path.split("/")
        for i in range(1, len(parts)):
            found.setdefault("/".join(parts[:i]), None)
        found[record.path] = record
    return sorted(found.items())


def write(
    output: Path,
    manifest: bytes,
    records: Sequence[FileRecord],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the archive to ``output``; return its size in bytes."""
    directory = output.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=directory)
    except OSError as err:
        raise PackError(f"cannot write the artifact to {output}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as raw:
            _write_stream(raw, manifest, records, progress)
            raw.flush()
            size = raw.tell()
        os.chmod(temp, 0o644)
        os.replace(temp, output)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise PackError(f"cannot write the artifact to {output}: {err.strerror or err}") from err
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return size


def _write_stream(
    raw: io.BufferedWriter,
    manifest: bytes,
    records: Sequence[FileRecord],
    progress: Callable[[int, int], None] | None,
) -> None:
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=COMPRESSLEVEL, mtime=MTIME) as gz:
        sink = _Sink(gz)
        with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            _write_members(tar, manifest, records, progress)
        sink.flush()


def _write_members(
    tar: tarfile.TarFile,
    manifest: bytes,
    records: Sequence[FileRecord],
    progress: Callable[[int, int], None] | None,
) -> None:
    total = sum(r.size for r in records)
    done = 0
    tar.addfile(_info(MANIFEST_PATH, len(manifest), 0o644), io.BytesIO(manifest))
    for name, record in members(records):
        if record is None:
            tar.addfile(_info(name, 0, 0o755, tarfile.DIRTYPE))
            continue
        _add_file(tar, record)
        done += record.size
        if progress:
            progress(done, total)


def _add_file(tar: tarfile.TarFile, record: FileRecord) -> None:
    try:
        with open(record.source, "rb") as handle:
            if os.fstat(handle.fileno()).st_size != record.size:
                raise PackError(f"{record.path} changed while packing; pack again")
            reader = _HashingReader(handle)
            tar.addfile(_info(record.path, record.size, record.mode), reader)
    except OSError as err:
        raise PackError(f"cannot read {record.path}: {err.strerror or err}") from err
    except tarfile.TarError as err:
        raise PackError(f"{record.path} changed while packing ({err}); pack again") from err
    if reader.digest.hexdigest() != record.sha256:
        raise PackError(f"{record.path} changed while packing; pack again")


class _Sink:
    """What tarfile writes to: batches its 512-byte writes into large ones before zlib sees them."""

    def __init__(self, gz: gzip.GzipFile) -> None:
        self.gz = gz
        self.buffer = bytearray()
        self.position = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        self.position += len(data)
        if len(self.buffer) >= _BUFFER:
            self.flush()
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        if self.buffer:
            self.gz.write(self.buffer)
            self.buffer.clear()
