"""Inventory of a directory on an SSH host, hashed there by one command and streamed back.

The connection is :class:`deploysafe.hosts.ssh.SshHost` (host-key checks, channel cap, one-line
errors). Names that are not UTF-8 must pass unchanged, so the commands here run through its byte stream
(:meth:`SshHost.stream`), never its text ``run``.

One command does the whole inventory: the host lists every file with its size, deploysafe drops the
skipped ones, sends the rest back on stdin, and the host hashes them, streaming a record per file.
"""

from __future__ import annotations

import io
import os
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from deploysafe.drift import remote_scripts as scripts
from deploysafe.drift.model import (
    Inventory,
    InventoryError,
    InventoryFile,
    ProgressFn,
    Skip,
    display,
    safe_relative,
)
from deploysafe.errors import TargetError
from deploysafe.hosts.ssh import ByteStream, SshHost

Talk = Callable[[ByteStream], None]


@dataclass
class _Stream:
    """Parser of the inventory stream (see :mod:`remote_scripts`), fed chunk by chunk."""

    tail: bytes = b""
    header: list[bytes] = field(default_factory=list)
    listing: list[tuple[bytes, int]] = field(default_factory=list)
    listed: bool = False
    lines: bool = False  # sha256sum without -z: newline-terminated, escaped names
    hashes: dict[bytes, str] = field(default_factory=dict)
    errors: dict[bytes, str] = field(default_factory=dict)
    _error_name: bytes | None = None

    @property
    def tool(self) -> str:
        words = self.header[0][len(scripts.MAGIC) :].decode("ascii", "replace") if self.header else ""
        return "sha256sum" if words.startswith("sha256sum") else words or "?"

    def feed(self, data: bytes) -> None:
        buf = self.tail + data
        pos = 0
        while True:
            sep = b"\n" if self.listed and self.lines else b"\0"
            end = buf.find(sep, pos)
            if end < 0:
                break
            self._record(buf[pos:end])
            pos = end + 1
        self.tail = buf[pos:]

    def _record(self, record: bytes) -> None:
        if len(self.header) < 3:
            if not self.header:
                start = record.find(scripts.MAGIC)
                if start < 0:
                    return  # a login script's chatter before our output
                record = record[start:]
            self.header.append(record)
            self.lines = self.header[0].endswith(b"sha256sum")
            return
        if not self.listed:
            if not record:
                self.listed = True
                return
            size, _, name = record.partition(b" ")
            self.listing.append((name, int(size)))
            return
        if self._error_name is not None:
            self.errors[self._error_name] = record.decode("utf-8", "replace")
            self._error_name = None
        elif record.startswith(b"!"):
            self._error_name = record[1:]
        elif record.startswith(b"\\") and self.lines:
            self.hashes[_unescape(record[67:])] = record[1:65].decode("ascii")
        elif len(record) > 66:
            self.hashes[record[66:]] = record[:64].decode("ascii")


def _unescape(name: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i : i + 1] == b"\\" and i + 1 < len(name):
            nxt = name[i + 1 : i + 2]
            out += {b"n": b"\n", b"r": b"\r", b"\\": b"\\"}.get(nxt, nxt)
            i += 2
        else:
            out += name[i : i + 1]
            i += 1
    return bytes(out)


class SshTree:
    """A directory on a host as a tree: its inventory, and the bytes of chosen files on request."""

    def __init__(self, target: SshHost, path: str, skip: Skip | None = None) -> None:
        self.target = target
        self.path = path
        self.skip = skip or Skip()
        self.directory: str | None = None
        self.sizes: dict[str, int] = {}

    @property
    def location(self) -> str:
        return self.target.url

    def inventory(self, progress: ProgressFn | None = None) -> Inventory:
        stream = _Stream()
        label = f"hashing on {self.target.address.host}"
        state = {"last": 0.0}

        def report(done: int, total: int) -> None:
            if progress is not None and (done == total or time.monotonic() - state["last"] > 0.1):
                state["last"] = time.monotonic()
                progress(label, done, total)

        def talk(host: ByteStream) -> None:
            while not stream.listed and (chunk := host.read()):
                stream.feed(chunk)
            if not stream.listed:
                return
            names = [n for n, _ in stream.listing if not self.skip.path(os.fsdecode(n))]
            report(0, len(names))
            host.send(_records(names))
            for chunk in host:
                stream.feed(chunk)
                report(len(stream.hashes) + len(stream.errors), len(names))
            report(len(names), len(names))

        argv = ["sh", "-c", scripts.INVENTORY_SH, "deploysafe-inventory", self.path, scripts.INVENTORY_PY]
        status, stderr = _converse(self.target, argv, talk, "inventory")
        if not stream.listed:
            raise InventoryError(self._failure(status, stderr))
        return self._assemble(stream, stderr)

    def _assemble(self, stream: _Stream, stderr: str) -> Inventory:
        release = os.fsdecode(stream.header[1]) or None
        self.directory = os.fsdecode(stream.header[2])
        inventory = Inventory(location=self.location, tool=stream.tool, release=release, directory=self.directory)
        for raw, size in stream.listing:
            rel = os.fsdecode(raw)
            if safe_relative(rel) != rel:
                inventory.problem(rel, "the host listed a path that is not plain and relative; ignored")
                continue
            if self.skip.path(rel):
                continue
            self.sizes[rel] = size
            digest = stream.hashes.get(raw)
            if digest is not None:
                inventory.add(InventoryFile(rel, size, digest))
                continue
            message = stream.errors.get(raw) or _stderr_about(stderr, rel)
            if "No such file" in message:
                inventory.problem(
                    rel, "vanished during the scan (deleted or renamed on the host while deploysafe read it)"
                )
                continue
            inventory.problem(rel, f"cannot read it on the host: {message}")
            inventory.add(InventoryFile(rel, size, None))
        for line in stderr.splitlines():
            if line.startswith("find:") or line.startswith("[Errno"):
                inventory.problem(".", f"on the host: {line}")
        return inventory

    def _failure(self, status: int | None, stderr: str) -> str:
        host = self.target.address.host
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        if status == scripts.NO_DIRECTORY:
            return f"{self.location}: no such directory on {host}: {display(self.path)}"
        if status == scripts.NO_TOOLS:
            return (
                f"{self.location}: cannot hash files on {host}: it has neither python3 nor sha256sum "
                "(with GNU find); install one of them (e.g. apt-get install coreutils findutils)"
            )
        if status is None:
            return f"{self.location}: the connection to {host} was lost during the inventory"
        return f"{self.location}: the inventory command failed on {host} (exit {status}): {last or 'no message'}"

    def read(self, paths: list[str], progress: ProgressFn | None = None) -> dict[str, bytes]:
        """The bytes of ``paths``, fetched as one tar stream from the directory the inventory read."""
        if not paths:
            return {}
        directory = self.directory or self.path
        buffer = bytearray()
        expected = sum(self.sizes.get(p, 0) for p in paths) or 1
        label = f"fetching {len(paths)} files from {self.target.address.host} (KiB)"
        last = [0.0]

        def talk(host: ByteStream) -> None:
            host.send(_records([b"./" + os.fsencode(p) for p in paths]))
            for chunk in host:
                buffer.extend(chunk)
                if progress is not None and time.monotonic() - last[0] > 0.1:
                    last[0] = time.monotonic()
                    progress(label, min(len(buffer), expected) >> 10, expected >> 10)

        argv = ["sh", "-c", scripts.FETCH_SH, "deploysafe-fetch", directory, scripts.FETCH_PY]
        status, stderr = _converse(self.target, argv, talk, "fetching files")
        if status is None:
            raise InventoryError(f"{self.location}: the connection was lost while fetching files")
        out: dict[str, bytes] = {}
        start = buffer.find(scripts.FETCH_MAGIC)
        if start < 0:
            detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {status}"
            raise InventoryError(f"{self.location}: fetching files failed: {detail}")
        try:
            payload = io.BytesIO(bytes(buffer[start + len(scripts.FETCH_MAGIC) :]))
            with tarfile.open(fileobj=payload, mode="r:") as archive:
                for member in archive:
                    rel = safe_relative(member.name)
                    handle = archive.extractfile(member) if member.isreg() else None
                    if rel and handle is not None:
                        out[rel] = handle.read()
        except tarfile.TarError as err:
            detail = stderr.strip().splitlines()[-1] if stderr.strip() else str(err)
            raise InventoryError(f"{self.location}: fetching files failed: {detail}") from err
        return out


def _records(names: Sequence[bytes]) -> bytes:
    """NUL-terminated names, as the host scripts read them on stdin."""
    return b"\0".join(names) + b"\0" if names else b""


def _converse(target: SshHost, argv: list[str], talk: Talk, what: str) -> tuple[int | None, str]:
    """Run ``argv`` on the target as a byte stream that ``talk`` drives; (exit status, stderr)."""
    try:
        with target.stream(argv, what=what) as host:
            talk(host)
            status, stderr = host.wait()
    except TargetError as err:
        raise InventoryError(str(err)) from err
    return status, stderr.decode("utf-8", "replace")


def _stderr_about(stderr: str, rel: str) -> str:
    for line in stderr.splitlines():
        if rel in line:
            return line.rsplit(": ", 1)[-1]
    return "it could not be hashed"
