"""What an inventory is: every file of a tree with its size and sha256, and what could not be read.

Paths are relative, ``/``-separated, and decoded with :func:`os.fsdecode`, so a name with bytes that are
not UTF-8 keeps them as surrogate escapes: the same name from a directory, an archive or a host compares
equal, and :func:`display` shows it without breaking a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from deploysafe.ecosystems.node.files import ALWAYS_SKIPPED_DIRS, is_source
from deploysafe.errors import DeploysafeError
from deploysafe.globs import user_patterns

# (what is being done, files done, files in all or None while unknown)
ProgressFn = Callable[[str, int, int | None], None]

# Files whose content the import graph reads; everything else only has to exist for it.
CODE_NAMES = frozenset({"package.json", "deploysafe.toml", "Procfile", ".gitignore", ".nvmrc", ".node-version"})
CODE_SUFFIXES = (".json", ".jsonc", ".toml", ".d.ts", ".d.mts", ".d.cts")
CODE_SIZE_LIMIT = 8 << 20


class InventoryError(DeploysafeError):
    """A tree, archive or host cannot be inventoried: missing, malformed, unsafe or unreachable."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class InventoryFile:
    path: str
    size: int
    sha256: str | None  # None: listed, but its content could not be read


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str


@dataclass
class Inventory:
    location: str  # what was read, for messages: a directory, an archive, an ssh:// URL
    files: dict[str, InventoryFile] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    tool: str = "python"  # how the hashes were computed: python, sha256sum, python3 (remote)
    release: str | None = None  # the release ``current`` pointed at, for a deployed layout
    directory: str | None = None  # the directory actually read (``current`` resolved)
    node_modules: list[str] = field(default_factory=list)  # relative dirs skipped as node_modules

    def add(self, record: InventoryFile) -> None:
        self.files[record.path] = record

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    @property
    def total_size(self) -> int:
        return sum(r.size for r in self.files.values())


class Skip:
    """Which paths an inventory leaves out: node_modules, VCS folders, and the configured globs."""

    def __init__(self, globs: Iterable[str] = ()) -> None:
        self.globs = tuple(globs)
        self._spec = user_patterns(self.globs, "--skip") if self.globs else None

    def directory(self, name: str, rel: str) -> bool:
        if name in ALWAYS_SKIPPED_DIRS:
            return True
        return self._spec is not None and self._spec.match_file(rel + "/")

    def file(self, rel: str) -> bool:
        return self._spec is not None and self._spec.match_file(rel)

    def path(self, rel: str) -> bool:
        """For a path seen whole (an archive member, a remote listing): any skipped folder on the way."""
        parts = rel.split("/")
        if any(part in ALWAYS_SKIPPED_DIRS for part in parts[:-1]):
            return True
        return self.file(rel)


def is_code(path: str, size: int = 0) -> bool:
    """A file the import graph reads the content of (sources, JSON, package.json, configs)."""
    if size > CODE_SIZE_LIMIT:
        return False
    name = path.rsplit("/", 1)[-1]
    return is_source(name) or name in CODE_NAMES or name.endswith(CODE_SUFFIXES)


def display(path: str) -> str:
    """A path safe to print: undecodable bytes as ``\\xNN``, control characters escaped."""
    raw = os.fsencode(path)
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def safe_relative(name: str) -> str | None:
    """``name`` as a clean relative path, or None when it is absolute or climbs out with ``..``."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":" and name[0].isalpha()):
        return None
    if ".." in name.replace("\\", "/").split("/"):  # a Windows-made archive may separate with \
        return None
    return "/".join(p for p in name.split("/") if p not in ("", "."))
