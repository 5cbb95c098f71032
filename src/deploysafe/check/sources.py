"""Reading source files and turning them into facts: hashing, the content cache, and parsing in parallel
for cold runs on large trees. The ecosystem's :class:`~deploysafe.check.ecosystem.Parser` decides which
files it reads and what their facts are; this module only reads, caches and schedules."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import struct
import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deploysafe.check.cache import FactsCache, decode, encode, format_key, settled, stat_identity
from deploysafe.check.facts import ModuleFacts

if TYPE_CHECKING:
    from deploysafe.check.ecosystem import Parser

MAX_SOURCE_BYTES = 16 * 1024 * 1024
# Below this many files to parse, one process does it. A forked helper costs 10-20 ms (fork, copy-on-write
# faults, facts sent back and decoded here); a file takes about 0.6 ms to parse, and a helper takes half of
# them. Measured from fresh processes: 48 files 35 ms alone, 41 ms with a helper; 96 files 56 ms, 44 ms.
POOL_THRESHOLD = 64
CHUNK = 16  # files a helper parses before it sends their facts back
SPAWN_POOL_THRESHOLD = 250  # where processes cannot fork, a worker imports deploysafe again (0.3 s)
Progress = Callable[[int, int], None]
Read = dict[str, tuple[bytes, str, Hashable]]  # path -> (content, sha256, dialect)
Parsed = Iterator[tuple[str, ModuleFacts, bytes | None]]  # (path, facts, the facts encoded, if they are)


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    sha256: str
    size: int
    facts: ModuleFacts
    error: str | None = None  # why the file could not be read or parsed; facts are then empty


class SourceLoader:
    def __init__(
        self, cache: FactsCache | None = None, workers: int | None = None, *, parser: Parser | None = None
    ) -> None:
        self.parser = parser or _default_parser()
        self.cache = cache or FactsCache(enabled=False)
        self.workers = workers if workers is not None else min(_cpus(), 8)
        self._loaded: dict[str, SourceFile] = {}
        self.parsed = 0  # files parsed (cache misses) in this loader's life, for the report
        # A file's identity when something cheaper than its bytes pins its content (an installed package's
        # version and integrity, see the ecosystem): its facts are then found without reading it.
        self.pinned: Callable[[str], str | None] | None = None

    def forget(self, paths: Iterable[str]) -> None:
        """These files changed: the next get() or load() reads them again (their facts come from the cache
        when the new content was seen before)."""
        for path in paths:
            self._loaded.pop(path, None)

    def loaded(self) -> list[str]:
        """The files read so far."""
        return list(self._loaded)

    def get(self, path: str) -> SourceFile:
        if path not in self._loaded:
            self.load([path])
        return self._loaded[path]

    def load(self, paths: Iterable[str], progress: Progress | None = None) -> None:
        todo = [p for p in dict.fromkeys(paths) if p not in self._loaded]
        if not todo:
            return
        version, name = self.parser.version(), self.parser.dialect_name
        layout = format_key()
        pinned = self._pinned_keys(todo, f"{version}:{layout}")
        dialects = {path: self.parser.dialect_for(path) for path in todo if path not in self._loaded}
        before = time.time_ns()  # before any stat and read: a stat settled by then cannot hide a later write
        recorded = self.cache.digests([path for path, dialect in dialects.items() if dialect is not None])
        stats: dict[str, os.stat_result] = {}  # each file's stat before it was read (or instead)
        read: Read = {}
        unread: dict[str, int] = {}  # path -> size, for files whose sha256 their unchanged stat gave
        for path, dialect in dialects.items():
            if dialect is None:
                self._loaded[path] = SourceFile(path, "", 0, self.parser.empty, self.parser.not_a_source)
                continue
            if path in recorded and self._unchanged(path, recorded[path][0], stats):
                read[path] = (b"", recorded[path][1], dialect)
                unread[path] = stats[path].st_size
                continue
            error = self._read(path, dialect, read, stats)
            if error is not None:
                self._loaded[path] = error

        keys = {path: f"{version}:{layout}:{name(dialect)}:{digest}" for path, (_, digest, dialect) in read.items()}
        cached = self.cache.get_many(set(keys.values()))
        for path in [p for p in unread if keys[p] not in cached]:  # no facts for it after all: read it now
            del unread[path]
            error = self._read(path, read[path][2], read, stats)
            if error is not None:
                del read[path], keys[path]
                self._loaded[path] = error
            else:
                keys[path] = f"{version}:{layout}:{name(read[path][2])}:{read[path][1]}"
        missed = [path for path in read if keys[path] not in cached]
        first_with_key: dict[str, str] = {}  # one parse per distinct content: copies of a file share it
        for path in missed:
            first_with_key.setdefault(keys[path], path)
        misses = list(first_with_key.values())
        total, done = len(todo), len(todo) - len(missed)
        if progress:
            progress(done, total)

        fresh: dict[str, bytes] = {}
        if misses:
            self.parser.prepare()
        for path, facts, encoded in self._parse(misses, read):
            cached[keys[path]] = facts
            if self.cache.enabled:
                fresh[keys[path]] = encoded if encoded is not None else encode(facts)
            done += 1
            if progress and done % 50 == 0:
                progress(done, total)
        self.parsed += len(missed)
        if progress and done < total:
            progress(total, total)
        for path in read:
            if path in pinned and self.cache.enabled:  # found by its pin next time, without reading it
                fresh.setdefault(pinned[path], fresh.get(keys[path]) or encode(cached[keys[path]]))
        self.cache.put_encoded(fresh)
        self.cache.put_digests(
            (path, stat_identity(stats[path]), digest)
            for path, (_, digest, _) in read.items()
            if path not in unread and path in stats and settled(stats[path], before)
        )
        for path, (data, digest, _) in read.items():
            facts = cached[keys[path]]
            size = unread[path] if path in unread else len(data)
            self._loaded[path] = SourceFile(path, digest, size, facts, facts.fault or None)

    @staticmethod
    def _unchanged(path: str, identity: str, stats: dict[str, os.stat_result]) -> bool:
        """Whether ``path`` has the stat identity recorded with its sha256 (its stat goes in ``stats``)."""
        try:
            stats[path] = os.stat(path)
        except OSError:
            return False
        return stat_identity(stats[path]) == identity

    def _read(self, path: str, dialect: Hashable, read: Read, stats: dict[str, os.stat_result]) -> SourceFile | None:
        """Read ``path`` into ``read`` and its stat, taken before the read, into ``stats``; a file that cannot
        be read or is too large to parse is returned as what it loads as instead."""
        try:
            data, stats[path] = _read_source(path)
        except OSError as err:
            return SourceFile(path, "", 0, self.parser.empty, _describe(err))
        digest = hashlib.sha256(data).hexdigest()
        if len(data) > MAX_SOURCE_BYTES:
            message = f"larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB; not parsed"
            return SourceFile(path, digest, len(data), self.parser.empty, message)
        read[path] = (data, digest, dialect)
        return None

    def _pinned_keys(self, todo: list[str], prefix: str) -> dict[str, str]:
        """Cache keys of the files in ``todo`` that have a pin (``self.pinned``); the ones whose facts the
        cache holds are loaded here and now, unread (their sha256 is left empty)."""
        if self.pinned is None or not self.cache.enabled:
            return {}
        keys = {}
        for path in todo:
            dialect = self.parser.dialect_for(path)
            pin = self.pinned(path) if dialect is not None else None
            if pin is not None:
                keys[path] = f"{prefix}:{self.parser.dialect_name(dialect)}:pin:{pin}"
        found = self.cache.get_many(set(keys.values())) if keys else {}
        for path, key in keys.items():
            if key in found:
                facts = found[key]
                self._loaded[path] = SourceFile(path, "", 0, facts, facts.fault or None)
        return {path: key for path, key in keys.items() if key not in found}

    def _parse(self, misses: list[str], read: Read) -> Parsed:
        """(path, facts, facts encoded for the cache or None) for every path in ``misses``, in any order."""
        if self.workers >= 2 and len(misses) >= POOL_THRESHOLD and _can_fork():
            yield from _parse_forked(misses, read, self.workers - 1, self.parser)
        elif self.workers >= 2 and len(misses) >= SPAWN_POOL_THRESHOLD and not _can_fork():
            yield from _parse_pooled(misses, read, self.workers, self.parser)
        else:
            for path in misses:
                data, _, dialect = read[path]
                yield path, self.parser.parse(data, dialect), None


# --- forked helpers (Linux) ------------------------------------------------------------------------------


def _parse_forked(misses: list[str], read: Read, helpers: int, parser: Parser) -> Parsed:
    """Parse with ``helpers`` forked processes and this one.

    The files are cut into chunks and the chunks into equal, contiguous shares: one per helper, the last
    one for this process. A helper inherits the bytes already read (nothing is sent to it, and it parses
    exactly what was hashed) and sends back each chunk's encoded facts through a pipe. When this
    process is done with its share it takes the helpers' chunks from the back, reading their pipes after
    every file, until every chunk has facts: however busy the machine is, the run never waits for a
    helper that gets no CPU, and a helper that dies only leaves more work here. Helpers still running
    then are killed.
    """
    chunks = [misses[start : start + CHUNK] for start in range(0, len(misses), CHUNK)]
    helpers = min(helpers, len(chunks) - 1)
    bounds = [round(k * len(chunks) / (helpers + 1)) for k in range(helpers + 2)]
    done = [False] * len(chunks)
    given: set[str] = set()  # paths whose facts are out already (a stolen chunk can also arrive half-way)
    running: list[_Helper] = []
    try:
        shares = [range(bounds[k], bounds[k + 1]) for k in range(helpers + 1)]
        for share in shares[:-1]:
            try:
                running.append(_Helper.start(chunks, share, read, running, parser))
            except OSError:  # no process or pipe to spare: this process does that share too
                break
        order = [*shares[-1]]  # this process's share, then the helpers' from the back
        for share in shares[:-1]:
            order += reversed(share)
        for index in order:
            for path in chunks[index]:
                if done[index]:
                    break
                data, _, dialect = read[path]
                given.add(path)
                yield path, parser.parse(data, dialect), None
                for helper in running:
                    for answered, encoded in helper.poll():
                        done[answered] = True
                        for other, value in zip(chunks[answered], encoded, strict=True):
                            if other not in given:
                                given.add(other)
                                yield other, decode(value), value
            done[index] = True
    finally:
        for helper in running:
            helper.stop()


_FRAME = struct.Struct("<Q")  # a helper's message: its length, then pickle((chunk index, [encoded facts]))


class _Helper:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self._pending = bytearray()
        self._finished = False

    @classmethod
    def start(cls, chunks: list[list[str]], share: range, read: Read, others: list[_Helper], parser: Parser) -> _Helper:
        reader, writer = os.pipe()
        try:
            with contextlib.suppress(ImportError, AttributeError, OSError):
                import fcntl

                fcntl.fcntl(writer, fcntl.F_SETPIPE_SZ, 1 << 20)  # room for a share's facts without blocking
            pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            raise
        if pid == 0:  # the helper: parse, write, and leave without running any of the parent's cleanup
            status = 1
            try:
                for fd in (reader, *(other.fd for other in others)):
                    os.close(fd)
                for index in share:
                    encoded = [encode(parser.parse(read[path][0], read[path][2])) for path in chunks[index]]
                    message = pickle.dumps((index, encoded), protocol=pickle.HIGHEST_PROTOCOL)
                    _write_all(writer, _FRAME.pack(len(message)) + message)
                status = 0
            finally:
                os._exit(status)
        os.close(writer)
        os.set_blocking(reader, False)
        return cls(pid, reader)

    def poll(self) -> list[tuple[int, list[bytes]]]:
        """The chunks whose facts have fully arrived since the last poll."""
        while not self._finished:
            try:
                data = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                self._finished = True
            self._pending += data
        answers = []
        while len(self._pending) >= _FRAME.size:
            (length,) = _FRAME.unpack_from(self._pending)
            end = _FRAME.size + length
            if len(self._pending) < end:
                break
            answers.append(pickle.loads(self._pending[_FRAME.size : end]))
            del self._pending[:end]
        return answers

    def stop(self) -> None:
        if not self._finished:
            import signal  # only for a helper stopped before it finished

            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        os.close(self.fd)
        os.waitpid(self.pid, 0)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _can_fork() -> bool:
    """Fork where it is the platform's way and safe here: on Linux, from a process with no other thread
    (a thread could hold a lock the helper would then wait for forever)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


# --- a pool of spawned workers (other platforms) ---------------------------------------------------------


def _parse_pooled(misses: list[str], read: Read, workers: int, parser: Parser) -> Parsed:
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(path, read[path][1], read[path][2], parser) for path in misses]
    chunk = max(16, len(jobs) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for (path, _, _, _), encoded in zip(jobs, pool.map(_parse_path, jobs, chunksize=chunk), strict=True):
            if encoded is None:  # the file changed or went since it was read here: parse what was read
                data, _, dialect = read[path]
                yield path, parser.parse(data, dialect), None
            else:
                yield path, decode(encoded), encoded


def _parse_path(job: tuple[str, str, Hashable, Parser]) -> bytes | None:
    """In a worker: the file's encoded facts, or None unless it still has the content hashed."""
    path, digest, dialect, parser = job
    try:
        data = _read_source(path)[0]
    except OSError:
        return None
    return encode(parser.parse(data, dialect)) if hashlib.sha256(data).hexdigest() == digest else None


def _default_parser() -> Parser:
    """The first registered ecosystem's parser, for a loader made without one."""
    from deploysafe.ecosystems import default

    return default().parser


def _read_source(path: str) -> tuple[bytes, os.stat_result]:
    """The file's first MAX_SOURCE_BYTES + 1 bytes (all of it, for any source file), and its stat as it
    was just before they were read.

    Asking for that many bytes at once would make Python allocate a 16 MiB buffer for every file, which
    costs more than reading a typical source; the file's size gives the right buffer, and a file that
    grew meanwhile is read on up to the limit.
    """
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        data = handle.read(min(stat.st_size, MAX_SOURCE_BYTES) + 1)
        if stat.st_size < len(data) <= MAX_SOURCE_BYTES:
            data += handle.read(MAX_SOURCE_BYTES + 1 - len(data))
    return data, stat


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on (containers, taskset)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _describe(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "permission denied"
    if isinstance(err, IsADirectoryError):
        return "is a directory"
    return f"cannot read: {err.strerror or err}"
