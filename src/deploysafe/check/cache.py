"""Parse results cached by content hash, so a second check of an unchanged tree parses nothing.

One SQLite file under the user's cache directory (``$DEPLOYSAFE_CACHE_DIR``, else
``$XDG_CACHE_HOME/deploysafe``, else ``~/.cache/deploysafe``); a key is the file's sha256 plus a digest of
the parser's code and grammars (:mod:`deploysafe.ecosystems.node.parse.version`), so a new or edited deploysafe never reads
facts another parser wrote. Any problem with the cache (read-only home, corrupt file, another process
writing) turns it off for the run: it is a speed-up, never a source of truth.

Beside the facts, a second table remembers each source file's sha256 under its stat identity (device,
inode, size, mtime and ctime in nanoseconds), so a warm run finds an unchanged file's facts without
reading it (:func:`stat_identity`). The content hash stays the truth: a stat is recorded only for a file
whose timestamps are older than :data:`RACY_NS` when it was read, as git does with racily clean entries,
so an edit made in the same timestamp tick as the read (a filesystem with one- or two-second mtimes) can
never hide behind an unchanged stat; and ctime, which no program can set back, changes with every write.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import functools
import hashlib
import io
import os
import pickle
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import attrgetter
from pathlib import Path
from typing import Any

from deploysafe.cache_dir import default_cache_dir
from deploysafe.check.facts import AssetRef, Import, ImportedName, ModuleFacts, SyntaxIssue

__all__ = ["FactsCache", "decode", "default_cache_dir", "encode", "format_key", "register"]

SCHEMA = "CREATE TABLE IF NOT EXISTS facts (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
STATS = "CREATE TABLE IF NOT EXISTS stats (path BLOB PRIMARY KEY, stat TEXT NOT NULL, sha256 TEXT NOT NULL)"
RACY_NS = 3_000_000_000  # a file changed this recently when read is read again next time (FAT: 2 s mtimes)


# Facts are pickled as each class with its field values in order, (cls, (v1, v2, ...)), which is twice as
# fast to write as pickle's way for slotted dataclasses (a dict of fields built in Python for every object)
# and 1.5 times as fast to read. Positions make the field layout part of the format, so format_key(), part
# of every cache key, is a digest of that layout: a change to the classes never reads facts written before.
# An ecosystem registers the fact classes it adds (register) when its parser loads.
#
# Reading builds thousands of objects per check, and a frozen dataclass's __init__ sets each field through
# object.__setattr__, ten times slower than a plain slot store. So a frozen, slotted fact class is read
# back through a twin: a plain class with the same slots whose __init__ stores them directly, made the
# fact class by assigning __class__ (same slots, same layout: Python allows it). The object is then
# exactly what the class's own __init__ makes, frozen from there on; a class that has a __post_init__ or
# whose twin Python refuses is built by its own __init__.
_FACT_CLASSES: list[type] = [ModuleFacts, Import, ImportedName, SyntaxIssue, AssetRef]
_TWINS: dict[type, type] = {}


def _twin(cls: type) -> type | None:
    """A class with ``cls``'s bases and own slots, plain attribute stores and a positional __init__ over
    the fields, or None when ``cls`` is not a frozen, slotted dataclass or Python refuses the twin."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        return None
    names = [field.name for field in dataclasses.fields(cls)]
    lines = "".join(f"    self.{name} = {name}\n" for name in names) or "    pass\n"
    namespace: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(names)}):\n{lines}", namespace)  # field names: identifiers
    body = {"__slots__": cls.__dict__["__slots__"], "__setattr__": object.__setattr__, **namespace}
    try:
        twin = type(f"_{cls.__name__}Twin", cls.__bases__, body)
        probe: Any = object.__new__(twin)
        probe.__class__ = cls
    except TypeError:  # not the same layout after all
        return None
    _TWINS[cls] = twin
    return twin


def _rebuild(cls: type, values: tuple[object, ...]) -> object:
    """What pickle calls to read one fact object back (see above)."""
    twin = _TWINS.get(cls)
    if twin is None:
        return cls(*values)
    obj = twin(*values)
    obj.__class__ = cls
    return obj


def _reducer(cls: type) -> Callable[[object], tuple[Callable[..., object], tuple[object, ...]]]:
    _twin(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    values = attrgetter(*names)
    if len(names) == 1:
        return lambda obj: (_rebuild, (cls, (values(obj),)))
    return lambda obj: (_rebuild, (cls, values(obj)))


_REDUCERS: dict[type, Callable[..., Any]] = {**copyreg.dispatch_table, **{cls: _reducer(cls) for cls in _FACT_CLASSES}}


def register(*classes: type) -> None:
    """Fact classes an ecosystem adds (subclasses of ModuleFacts and what they hold): pickled the fast way,
    and part of the format key."""
    for cls in classes:
        if cls not in _REDUCERS:
            _FACT_CLASSES.append(cls)
            _REDUCERS[cls] = _reducer(cls)
    format_key.cache_clear()


@functools.cache
def format_key() -> str:
    """A digest of the field layout of every registered fact class (and of how they are pickled)."""
    layout = repr([(cls.__name__, [field.name for field in dataclasses.fields(cls)]) for cls in _FACT_CLASSES])
    layout += _rebuild.__qualname__
    return "p" + hashlib.sha256(layout.encode()).hexdigest()[:8]


def encode(facts: ModuleFacts) -> bytes:
    """Facts as the cache stores them (and as parse helpers send them back)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(facts)
    return buffer.getvalue()


def decode(value: bytes) -> ModuleFacts:
    return pickle.loads(value)


def stat_identity(stat: os.stat_result) -> str:
    """What must be unchanged for a file to be taken as unchanged without reading it."""
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"


def settled(stat: os.stat_result, before_ns: int) -> bool:
    """Whether a file with ``stat``, read after ``before_ns``, was last written long enough before its
    read for any later write to show in its stat (see the module's docstring). A filesystem that keeps no
    times (zero) never settles a file: a write there would not show."""
    mtime, ctime = stat.st_mtime_ns, stat.st_ctime_ns
    return mtime > 0 and ctime > 0 and max(mtime, ctime) < before_ns - RACY_NS


MAX_ENTRIES = 250_000  # about 150 MB of facts; the oldest written go first


class FactsCache:
    def __init__(self, directory: Path | None = None, enabled: bool = True, max_entries: int = MAX_ENTRIES) -> None:
        self._db: sqlite3.Connection | None = None
        self._max_entries = max_entries
        self._wrote = False
        if not enabled or os.environ.get("DEPLOYSAFE_NO_CACHE"):
            return
        directory = directory or default_cache_dir()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(directory / "facts-v1.sqlite", timeout=5, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute(SCHEMA)
            self._db.execute(STATS)
        except (OSError, sqlite3.Error):
            self._db = None

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def get_many(self, keys: Iterable[str]) -> dict[str, ModuleFacts]:
        found: dict[str, ModuleFacts] = {}
        for key, value in self._rows("SELECT key, value FROM facts WHERE key IN", list(keys)):
            try:
                found[key] = decode(value)
            except Exception:  # an unreadable entry is a miss, nothing more
                continue
        return found

    def digests(self, paths: Iterable[str]) -> dict[str, tuple[str, str]]:
        """path -> (stat identity, sha256): the content each path had when it had that stat (see
        :func:`stat_identity`), for the paths recorded."""
        wanted = {os.fsencode(path): path for path in paths}  # bytes: a name need not be UTF-8
        rows = self._rows("SELECT path, stat, sha256 FROM stats WHERE path IN", list(wanted))
        return {wanted[name]: (stat, digest) for name, stat, digest in rows if name in wanted}

    def put_digests(self, items: Iterable[tuple[str, str, str]]) -> None:
        """Record (path, stat identity, sha256) rows: the content hashed when the file had that stat."""
        rows = [(os.fsencode(path), stat, digest) for path, stat, digest in items]
        self._write("INSERT OR REPLACE INTO stats (path, stat, sha256) VALUES (?, ?, ?)", rows)

    def _rows(self, select: str, values: list[Any]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``select`` (ending in ``IN``) over ``values``, 500 at a time; none past an error."""
        if self._db is None:
            return
        try:
            for start in range(0, len(values), 500):
                chunk = values[start : start + 500]
                yield from self._db.execute(f"{select} ({','.join('?' * len(chunk))})", chunk)
        except sqlite3.Error:
            return

    def _write(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        """``statement`` for every row, in one transaction (nothing of it when any fails)."""
        if self._db is None or not rows:
            return
        try:
            self._db.execute("BEGIN")
            self._db.executemany(statement, rows)
            self._db.execute("COMMIT")
            self._wrote = True
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def put_encoded(self, items: Mapping[str, bytes]) -> None:
        """Store facts already passed through :func:`encode`."""
        self._write("INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)", list(items.items()))

    def close(self) -> None:
        if self._db is not None:
            if self._wrote:
                self._prune()
            self._db.close()
            self._db = None

    def _prune(self) -> None:
        """Keep the newest ``max_entries`` (rowids grow with every write, so the oldest are the lowest)."""
        assert self._db is not None
        with contextlib.suppress(sqlite3.Error):
            for table in ("facts", "stats"):
                newest = self._db.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
                self._db.execute(f"DELETE FROM {table} WHERE rowid <= ?", (newest - self._max_entries,))
