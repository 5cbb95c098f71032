"""Reading source files and turning them into facts: hashing, the content cache, and parsing in parallel
for cold runs on large trees."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from deploysafe.cache import FactsCache, decode, encode
from deploysafe.facts import UNPARSABLE, ModuleFacts
from deploysafe.parse.javascript import Dialect, dialect_for, parse_module

PARSER_VERSION = "js-1"
MAX_SOURCE_BYTES = 16 * 1024 * 1024
# Below this many uncached files one process is enough. Forking a helper and collecting its results costs
# about 10 ms; parsing costs about 0.6 ms a file, half of which a second process takes over.
POOL_THRESHOLD = 64
CHUNK = 24  # files per job: small enough that the processes finish together, large enough to be cheap
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str
    sha256: str
    size: int
    facts: ModuleFacts
    error: str | None = None  # why the file could not be read or parsed; facts are then empty


class SourceLoader:
    def __init__(self, cache: FactsCache | None = None, workers: int | None = None) -> None:
        self.cache = cache or FactsCache(enabled=False)
        self.workers = workers if workers is not None else min(_cpus(), 8)
        self._loaded: dict[str, SourceFile] = {}
        self.parsed = 0  # files parsed (cache misses) in this loader's life, for the report

    def get(self, path: str) -> SourceFile:
        if path not in self._loaded:
            self.load([path])
        return self._loaded[path]

    def load(self, paths: Iterable[str], progress: Progress | None = None) -> None:
        todo = [p for p in dict.fromkeys(paths) if p not in self._loaded]
        if not todo:
            return
        read: dict[str, tuple[bytes, str, Dialect]] = {}
        for path in todo:
            dialect = dialect_for(path)
            if dialect is None:
                self._loaded[path] = SourceFile(path, "", 0, UNPARSABLE, "not a JavaScript or TypeScript file")
                continue
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_SOURCE_BYTES + 1)
            except OSError as err:
                self._loaded[path] = SourceFile(path, "", 0, UNPARSABLE, _describe(err))
                continue
            digest = hashlib.sha256(data).hexdigest()
            if len(data) > MAX_SOURCE_BYTES:
                message = f"larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB; not parsed"
                self._loaded[path] = SourceFile(path, digest, len(data), UNPARSABLE, message)
                continue
            read[path] = (data, digest, dialect)

        keys = {path: f"{PARSER_VERSION}:{dialect.name}:{digest}" for path, (_, digest, dialect) in read.items()}
        cached = self.cache.get_many(set(keys.values()))
        missed = [path for path in read if keys[path] not in cached]
        first_with_key: dict[str, str] = {}  # one parse per distinct content: copies of a file share it
        for path in missed:
            first_with_key.setdefault(keys[path], path)
        misses = list(first_with_key.values())
        total, done = len(todo), len(todo) - len(missed)
        if progress:
            progress(done, total)

        fresh: dict[str, bytes] = {}
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
        self.cache.put_encoded(fresh)
        for path, (data, digest, _) in read.items():
            self._loaded[path] = SourceFile(path, digest, len(data), cached[keys[path]])

    def _parse(
        self, misses: list[str], read: dict[str, tuple[bytes, str, Dialect]]
    ) -> Iterator[tuple[str, ModuleFacts, bytes | None]]:
        """(path, facts, facts already encoded for the cache or None) for every miss, in any order."""
        if len(misses) < POOL_THRESHOLD or self.workers < 2:
            for path in misses:
                data, _, dialect = read[path]
                yield path, parse_module(data, dialect), None
            return
        if os.environ.get("DS_MODE") == "fork":
            yield from _parse_forked(misses, read, self.workers - 1)
            return
        yield from _parse_in_parallel(misses, read, self.workers - 1)


def _parse_forked(misses, read, helpers):
    import mmap
    import struct
    import pickle
    import fcntl
    import multiprocessing

    size = int(os.environ.get("DS_CHUNK", CHUNK))
    jobs = [misses[i : i + size] for i in range(0, len(misses), size)]
    shared = mmap.mmap(-1, 8)
    lock = multiprocessing.Lock()
    struct.pack_into("q", shared, 0, 0)

    def claim():
        with lock:
            index = struct.unpack_from("q", shared, 0)[0]
            if index >= len(jobs):
                return None
            struct.pack_into("q", shared, 0, index + 1)
            return index

    children = []
    for _ in range(helpers):
        r, w = os.pipe()
        try:
            fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
        except OSError:
            pass
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 1
            try:
                while (index := claim()) is not None:
                    answers = [(path, encode(parse_module(read[path][0], read[path][2]))) for path in jobs[index]]
                    blob = pickle.dumps((index, answers), protocol=pickle.HIGHEST_PROTOCOL)
                    view = memoryview(struct.pack("q", len(blob)) + blob)
                    while view:
                        view = view[os.write(w, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        os.set_blocking(r, False)
        children.append([pid, r, bytearray(), False])

    done_jobs = set()

    def drain(block):
        for child in children:
            pid, r, buf, eof = child
            if eof:
                continue
            os.set_blocking(r, block)
            while True:
                try:
                    data = os.read(r, 1 << 20)
                except BlockingIOError:
                    break
                if not data:
                    child[3] = True
                    break
                buf += data
                if not block:
                    continue
            while len(buf) >= 8:
                n = struct.unpack_from("q", buf, 0)[0]
                if len(buf) < 8 + n:
                    break
                index, answers = pickle.loads(bytes(buf[8 : 8 + n]))
                del buf[: 8 + n]
                done_jobs.add(index)
                for path, encoded in answers:
                    yield path, decode(encoded), encoded

    while (index := claim()) is not None:
        for path in jobs[index]:
            yield path, parse_module(read[path][0], read[path][2]), None
        done_jobs.add(index)
        yield from drain(False)
    while not all(c[3] for c in children):
        yield from drain(True)
    for pid, r, _, _ in children:
        os.close(r)
        os.waitpid(pid, 0)
    for index, job in enumerate(jobs):
        if index not in done_jobs:
            for path in job:
                yield path, parse_module(read[path][0], read[path][2]), None


def _parse_in_parallel(
    misses: list[str], read: dict[str, tuple[bytes, str, Dialect]], helpers: int
) -> Iterator[tuple[str, ModuleFacts, bytes | None]]:
    """Parse with ``helpers`` forked processes and this one together.

    The jobs are queued for the helpers in order; this process takes jobs from the back of the queue
    (a job is still there while its future can be cancelled) until it meets the helpers, so all finish
    about together however busy the machine is. A helper re-reads the file and sends back encoded facts
    with the digest of what it read; if the file changed in between, its answer is dropped and the bytes
    read here are parsed instead. A helper that dies leaves its jobs to this process.
    """
    from concurrent.futures import ProcessPoolExecutor

    jobs = [[(path, read[path][1], read[path][2]) for path in misses[i : i + CHUNK]] for i in range(0, len(misses), CHUNK)]
    with ProcessPoolExecutor(max_workers=helpers, mp_context=_fork_context()) as pool:
        futures = [pool.submit(_parse_job, job) for job in jobs]
        for job, future in zip(reversed(jobs), reversed(futures), strict=True):
            if not future.cancel():
                break  # a helper has this job, and every one before it
            for path, _, dialect in job:
                yield path, parse_module(read[path][0], dialect), None
        for job, future in zip(jobs, futures, strict=True):
            if future.cancelled():
                continue
            try:
                answers = future.result()
            except Exception:  # a helper died (BrokenProcessPool, out of memory): parse its job here
                answers = [(path, None) for path, _, _ in job]
            for path, encoded in answers:
                if encoded is None:
                    data, _, dialect = read[path]
                    yield path, parse_module(data, dialect), None
                else:
                    yield path, decode(encoded), encoded


def _parse_job(job: list[tuple[str, str, Dialect]]) -> list[tuple[str, bytes | None]]:
    """In a helper: (path, encoded facts), or None when the file no longer has the content hashed."""
    answers: list[tuple[str, bytes | None]] = []
    for path, digest, dialect in job:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_SOURCE_BYTES + 1)
        except OSError:
            answers.append((path, None))
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            answers.append((path, None))
            continue
        answers.append((path, encode(parse_module(data, dialect))))
    return answers


def _fork_context():
    """Fork on Linux: a helper starts in a millisecond with the grammars already loaded, where a spawned
    one would import deploysafe again (a third of a second). Elsewhere the platform's default."""
    import multiprocessing

    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


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
