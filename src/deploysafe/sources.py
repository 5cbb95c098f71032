"""Reading source files and turning them into facts: hashing, the content cache, and a process pool
for cold runs on large trees."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from deploysafe.cache import FactsCache
from deploysafe.facts import UNPARSABLE, ModuleFacts
from deploysafe.parse.javascript import Dialect, dialect_for, parse_module

PARSER_VERSION = "js-1"
MAX_SOURCE_BYTES = 16 * 1024 * 1024
POOL_THRESHOLD = 250  # below this many uncached files a pool costs more than it saves
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
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
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
        misses = [path for path in read if keys[path] not in cached]
        total, done = len(todo), len(todo) - len(misses)
        if progress:
            progress(done, total)

        fresh: dict[str, ModuleFacts] = {}
        for path, facts in self._parse(misses, read, progress, done, total):
            fresh[keys[path]] = facts
            cached[keys[path]] = facts
        self.parsed += len(misses)
        self.cache.put_many(fresh)
        for path, (data, digest, _) in read.items():
            self._loaded[path] = SourceFile(path, digest, len(data), cached[keys[path]])

    def _parse(self, misses: list[str], read: dict[str, tuple[bytes, str, Dialect]], progress, done, total):
        if len(misses) < POOL_THRESHOLD or self.workers < 2:
            for path in misses:
                data, _, dialect = read[path]
                yield path, parse_module(data, dialect)
                done += 1
                if progress and done % 50 == 0:
                    progress(done, total)
            return
        chunk = max(16, len(misses) // (self.workers * 8))
        jobs = [(path, read[path][2]) for path in misses]
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            for path, facts in pool.map(_parse_path, jobs, chunksize=chunk):
                yield path, facts
                done += 1
                if progress and done % 50 == 0:
                    progress(done, total)


def _parse_path(job: tuple[str, Dialect]) -> tuple[str, ModuleFacts]:
    path, dialect = job
    try:
        with open(path, "rb") as handle:
            return path, parse_module(handle.read(), dialect)
    except OSError:
        return path, UNPARSABLE


def _describe(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "permission denied"
    if isinstance(err, IsADirectoryError):
        return "is a directory"
    return f"cannot read: {err.strerror or err}"
