"""The files @fastify/autoload loads from its ``dir``, as its own walk (lib/find-plugins.js, v5 and v6) picks
them, with the options the service passes.

At each folder: with ``autoHooks: true`` the first file matching ``autoHooksPattern`` is loaded as a hook; a
file matching ``indexPattern`` is loaded, and then no other file of that folder is (a folder with an index
and no sub-folder ends there); otherwise every file matching ``scriptPattern`` is loaded except hooks files
(those matching ``autoHooksPattern`` are never plugins, whether autoHooks is on or not). An entry whose name
``ignorePattern`` matches is skipped, file or folder; folders deeper than ``maxDepth`` are not entered.
``matchFilter`` / ``ignoreFilter`` (a string the path contains, or a regular expression) are tested on the
path relative to ``dir`` with a leading ``/``.

TypeScript files load only where the service runs its sources under tsx or ts-node (autoload refuses them
under plain node). A regular expression Python's ``re`` cannot read, a filter given as a function or a
variable, or any other computed option makes the expansion unknown (None): the load is then unverified.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["autoload_files"]

SCRIPT = r"(?:(?:^.?|\.[^d]|[^.]d|[^.][^d])\.ts|\.js|\.cjs|\.mjs|\.cts|\.mts)$/iu"
INDEX = r"^index(?:\.ts|\.js|\.cjs|\.mjs|\.cts|\.mts)$/iu"
AUTO_HOOKS = r"^[_.]?auto_?hooks(?:\.ts|\.js|\.cjs|\.mjs|\.cts|\.mts)$/iu"
_TYPESCRIPT = re.compile(r"\.(ts|mts|cts)$", re.I)
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
_MAX_FILES = 5000

Options = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class _Walk:
    script: re.Pattern[str]
    index: re.Pattern[str]
    hooks: re.Pattern[str]
    auto_hooks: bool
    ignore: re.Pattern[str] | None
    max_depth: float
    keep: Callable[[str], bool]


def autoload_files(folder: str, options: Options, *, typescript: bool) -> list[str] | None:
    """The files (absolute, in load order) @fastify/autoload loads from ``folder``; None when an option
    cannot be applied without running the code."""
    walk = _settings(options)
    if walk is None:
        return None
    found: list[str] = []
    _visit(walk, folder, folder, 0, found)
    return [path for path in found if typescript or not _TYPESCRIPT.search(path)]


def unknown_option(options: Options) -> str:
    """The first option the expansion cannot apply, as written (for the report)."""
    for name, kind, value in options:
        if kind == "other" or (kind == "regex" and _regex(value) is None):
            return f"{name}: {value}"
    return ""


def _settings(options: Options) -> _Walk | None:
    given = {name: (kind, value) for name, kind, value in options}
    if "..." in given:
        return None
    patterns = {}
    for name, default in (("scriptPattern", SCRIPT), ("indexPattern", INDEX), ("autoHooksPattern", AUTO_HOOKS)):
        kind, value = given.get(name, ("regex", default))
        pattern = _regex(value) if kind == "regex" else None
        if pattern is None:
            return None
        patterns[name] = pattern
    ignore = None
    if "ignorePattern" in given:
        kind, value = given["ignorePattern"]
        ignore = _regex(value) if kind == "regex" else _regex(value + "/") if kind == "string" else None
        if ignore is None:
            return None
    max_depth = float("inf")
    if "maxDepth" in given:
        kind, value = given["maxDepth"]
        if kind != "number":
            return None
        max_depth = float(value)
    auto_hooks = given.get("autoHooks", ("bool", "false"))
    if auto_hooks[0] != "bool":
        return None
    keep = _filters(given.get("matchFilter"), given.get("ignoreFilter"))
    if keep is None:
        return None
    return _Walk(
        patterns["scriptPattern"],
        patterns["indexPattern"],
        patterns["autoHooksPattern"],
        auto_hooks[1] == "true",
        ignore,
        max_depth,
        keep,
    )


def _filters(match: tuple[str, str] | None, ignore: tuple[str, str] | None) -> Callable[[str], bool] | None:
    tests = []
    for option, wanted in ((match, True), (ignore, False)):
        if option is None:
            continue
        test = _path_test(*option)
        if test is None:
            return None
        tests.append((test, wanted))
    return lambda path: all(test(path) is wanted for test, wanted in tests)


def _path_test(kind: str, value: str) -> Callable[[str], bool] | None:
    if kind == "string":
        return lambda path: value in path
    pattern = _regex(value) if kind == "regex" else None
    return (lambda path: pattern.search(path) is not None) if pattern is not None else None


def _regex(text: str) -> re.Pattern[str] | None:
    """A JavaScript ``pattern/flags`` as Python's ``re`` reads it; None where the two may differ."""
    pattern, _, flags = text.rpartition("/")
    if "(?<" in pattern.replace("(?<=", "").replace("(?<!", "") or "\\k<" in pattern or "\\p{" in pattern:
        return None  # named groups and property escapes are written differently in Python
    value = 0
    for flag in flags:
        value |= _FLAGS.get(flag, 0)
    try:
        return re.compile(pattern, value)
    except re.error:
        return None


def _visit(walk: _Walk, top: str, folder: str, depth: int, found: list[str]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return
    if walk.auto_hooks:
        hook = next((entry for entry in entries if walk.hooks.search(entry.name)), None)
        if hook is not None:
            _add(walk, top, hook.path, found, filtered=False)
    index = next((entry for entry in entries if walk.index.search(entry.name)), None)
    if index is not None:
        _add(walk, top, index.path, found)
        if not any(entry.is_dir() for entry in entries):
            return
    for entry in entries:
        if len(found) >= _MAX_FILES:
            return
        if walk.ignore is not None and walk.ignore.search(entry.name):
            continue
        if entry.is_dir() and not walk.max_depth <= depth:
            _visit(walk, top, entry.path, depth + 1, found)
        elif index is None and entry.is_file() and walk.script.search(entry.name) and not walk.hooks.search(entry.name):
            _add(walk, top, entry.path, found)  # a hooks file is never a plugin


def _add(walk: _Walk, top: str, path: str, found: list[str], *, filtered: bool = True) -> None:
    relative = "/" + os.path.relpath(path, top).replace(os.sep, "/")
    if (not filtered or walk.keep(relative)) and path not in found:
        found.append(path)
