"""The deterministic tar.gz writer (docs/artifact.md): same members and bytes in, same archive bytes out.

``.deploysafe/manifest.json`` first, then every directory and file sorted by path; mtime 0, uid/gid 0,
empty owner names, mode 0644 (0755 for executables), directories 0755, PAX headers only where a name
needs them, and a gzip header with no name and no timestamp.

Compression is the one costly part, so it runs like pigz: the tar stream is cut into fixed 1 MiB pieces,
each deflated (level 6, as ``tar czf``) on a worker thread with the previous 32 KiB as its dictionary and
ended with a sync flush, and the pieces are joined in order into one ordinary gzip member. Where the
pieces are cut depends only on the bytes, never on timing, so the output is still byte-identical from
run to run (for a given zlib). The archive is written to a temporary file beside the output and renamed
into place, so a failed pack never leaves half a file; each file is read again and hashed while it is
copied, and one that changed since the manifest was made stops the pack.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from deploysafe.artifact.manifest import MANIFEST_PATH, FileRecord
from deploysafe.artifact.tarheaders import BLOCK, DIRECTORY, RECORD, header, padding
from deploysafe.errors import PackError

MTIME = 0
COMPRESSLEVEL = 6  # what `tar czf` (gzip -6) uses: the size/speed trade-off people expect
PIECE = 1 << 20  # uncompressed bytes per deflate piece
_READ = 8 << 20
_WINDOW = 1 << 15  # deflate's dictionary size
_GZIP_HEADER = b"\x1f\x8b\x08\x00" + struct.pack("<I", MTIME) + b"\x00\xff"  # deflate, no name, OS unknown


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
    contents: Mapping[str, bytes] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the archive to ``output``; return its size in bytes.

    ``contents`` holds the bytes of files already read and hashed; the others are read again here.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".partial", dir=output.parent)
    except OSError as err:
        raise PackError(f"cannot write the artifact to {output}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as raw:
            with _GzipWriter(raw) as gz:
                _write_tar(gz, manifest, records, contents or {}, progress)
            size = raw.tell()
        os.chmod(temp, 0o644)
        os.replace(temp, output)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(err, OSError):
            raise PackError(f"cannot write the artifact to {output}: {err.strerror or err}") from err
        raise
    return size


def _write_tar(
    out: _GzipWriter,
    manifest: bytes,
    records: Sequence[FileRecord],
    contents: Mapping[str, bytes],
    progress: Callable[[int, int], None] | None,
) -> None:
    total = sum(r.size for r in records)
    done = 0
    out.write(header(MANIFEST_PATH, len(manifest), 0o644) + manifest + padding(len(manifest)))
    for index, (name, record) in enumerate(members(records)):
        if record is None:
            out.write(header(name, 0, 0o755, DIRECTORY))
            continue
        data = contents.get(record.path)
        if data is not None:
            out.write(header(record.path, record.size, record.mode) + data + padding(record.size))
        else:
            out.write(header(record.path, record.size, record.mode))
            _copy(record, out)
            out.write(padding(record.size))
        done += record.size
        if progress and (done == total or index % 64 == 0):
            progress(done, total)
    out.write(b"\0" * (2 * BLOCK))
    out.write(b"\0" * (-out.position % RECORD))  # whole records, as tar writes them


def _copy(record: FileRecord, out: _GzipWriter) -> None:
    """The file's bytes into the stream, hashed on the way: they must still be what the manifest says."""
    if record.source is None:
        raise PackError(f"{record.path}: no source file to pack it from")
    digest = hashlib.sha256()
    size = 0
    try:
        with open(record.source, "rb") as handle:
            while chunk := handle.read(_READ):
                digest.update(chunk)
                size += len(chunk)
                if size > record.size:
                    break
                out.write(chunk)
    except OSError as err:
        raise PackError(f"cannot read {record.path}: {err.strerror or err}") from err
    if size != record.size or digest.hexdigest() != record.sha256:
        raise PackError(f"{record.path} changed while packing; pack again")


def _deflate(piece: bytes, dictionary: bytes, last: bool) -> bytes:
    compressor = zlib.compressobj(COMPRESSLEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, 8, zlib.Z_DEFAULT_STRATEGY, dictionary)
    return compressor.compress(piece) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


class _GzipWriter:
    """One gzip member made of deflate pieces compressed in parallel (see the module docstring)."""

    def __init__(self, raw: BinaryIO, workers: int | None = None) -> None:
        self.raw = raw
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.pool = ThreadPoolExecutor(max_workers=self.workers)
        self.pending: deque[Future[bytes]] = deque()
        self.buffer = bytearray()
        self.dictionary = b""
        self.crc = 0
        self.position = 0
        raw.write(_GZIP_HEADER)

    def __enter__(self) -> _GzipWriter:
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        try:
            if kind is None:
                self._submit(bytes(self.buffer), last=True)
                self._drain(0)
                self.raw.write(struct.pack("<II", self.crc & 0xFFFFFFFF, self.position & 0xFFFFFFFF))
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def write(self, data: bytes) -> None:
        self.position += len(data)
        self.buffer += data
        while len(self.buffer) >= PIECE:
            piece = bytes(self.buffer[:PIECE])
            del self.buffer[:PIECE]
            self._submit(piece, last=False)

    def _submit(self, piece: bytes, last: bool) -> None:
        self.crc = zlib.crc32(piece, self.crc)
        self.pending.append(self.pool.submit(_deflate, piece, self.dictionary, last))
        self.dictionary = piece[-_WINDOW:]
        self._drain(2 * self.workers)

    def _drain(self, keep: int) -> None:
        while len(self.pending) > keep:
            self.raw.write(self.pending.popleft().result())
