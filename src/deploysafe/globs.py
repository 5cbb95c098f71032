"""Gitignore-style patterns: from a ``.gitignore`` file as git reads it, or typed by the user.

git passes over a line it cannot use (a lone ``!``, a lone or trailing backslash): such a line matches
nothing, and :func:`gitignore_lines` does the same. A pattern the user gave (``--exclude``, ``--include``,
``--skip``, ``--allow-secret``, their deploysafe.toml keys) that cannot be read is a :class:`ConfigError`
naming the pattern and the option: a typo must not silently widen or narrow what ships.

Both give a :class:`Matcher`. Patterns that each name one path component by a plain glob (``*.test.*``,
``__tests__/``, ``/test/``, ``node_modules``: no other slash, no ``**``, brackets, escapes or negation) —
Node's default excludes and most .gitignore files — are matched by :class:`NamePatterns` as git
matches them; anything else by pathspec's GitIgnoreSpec, which is loaded then
(importing it is a tenth of a small check's start).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

__all__ = ["Matcher", "NamePatterns", "gitignore_lines", "user_patterns"]

# one path component by a glob of letters, digits, ".", "_", "-", "*" and "?"; optionally "/" before
# (anchored to the patterns' folder) and "/" after (folders only)
_NAME_PATTERN = re.compile(r"/?(?!\.+/?$)[A-Za-z0-9._*?-]+/?")


class Matcher(Protocol):
    def match_file(self, file: str) -> bool: ...  # "a/b.js"; a folder ends in "/" ("a/b/")


class NamePatterns:
    """Gitignore patterns that each name one component, as git reads them: a pattern matches a path when
    it matches one of its components (a file under a matched folder is matched too); ``/name`` only the
    first; ``name/`` only a folder (a component that is not the last, or the last of a path ending in "/")."""

    def __init__(self, patterns: Iterable[str]) -> None:
        kinds: dict[tuple[bool, bool], list[str]] = {}  # (anchored, folders only) -> regexes
        for pattern in patterns:
            anchored, folders = pattern.startswith("/"), pattern.endswith("/")
            kinds.setdefault((anchored, folders), []).append(_glob_regex(pattern.strip("/")))
        self._kinds = [
            (anchored, folders, re.compile("|".join(rx), re.DOTALL)) for (anchored, folders), rx in kinds.items()
        ]

    @staticmethod
    def accepts(pattern: str) -> bool:
        """Whether ``pattern`` is one that names one component (and so is matched here)."""
        return _NAME_PATTERN.fullmatch(pattern) is not None and "**" not in pattern

    def match_file(self, file: str) -> bool:
        parts = file.split("/")
        folder = parts[-1] == ""
        if folder:
            parts.pop()
        last = len(parts) - 1
        for anchored, folders, regex in self._kinds:
            for index, part in enumerate(parts[:1] if anchored else parts):
                if (not folders or index < last or folder) and regex.match(part):
                    return True
        return False


def _glob_regex(glob: str) -> str:
    """A one-component glob as a regex: ``*`` any run of characters, ``?`` one (simpler than fnmatch's
    translation, which is several times slower to compile, and the same on a component without "/")."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob) + r"\Z"


def _matcher(patterns: list[str]) -> Matcher | None:
    """:class:`NamePatterns` when every pattern is one it reads, else None."""
    return NamePatterns(patterns) if all(NamePatterns.accepts(p) for p in patterns) else None


def gitignore_lines(lines: Iterable[str]) -> Matcher:
    """The rules of a ``.gitignore`` file; unreadable lines match nothing, as in git."""
    lines = list(lines)
    fast = _matcher([line for line in lines if line and not line.startswith("#")])
    if fast is not None:
        return fast
    import pathspec
    from pathspec.patterns.gitignore import GitIgnorePatternError

    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (GitIgnorePatternError, ValueError, re.error):
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _readable(line)])


def user_patterns(patterns: Iterable[str], option: str) -> Matcher:
    """The user's patterns for ``option``; the first one that cannot be read is a ConfigError."""
    from deploysafe.errors import ConfigError

    patterns = list(patterns)
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise ConfigError(f"{option}: every pattern must be a string, got {pattern!r}")
    fast = _matcher(patterns)
    if fast is not None:
        return fast
    import pathspec
    from pathspec.patterns.gitignore import GitIgnorePatternError

    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except (GitIgnorePatternError, ValueError, re.error):  # each pattern is compiled again only to name the bad one
        bad = next((pattern for pattern in patterns if not _readable(pattern)), None)
        if bad is None:
            raise
    raise ConfigError(
        f"{option} '{bad}': not a usable gitignore-style pattern (a lone '!', a trailing backslash or a reversed range)"
    )


def _readable(line: str) -> bool:
    import pathspec
    from pathspec.patterns.gitignore import GitIgnorePatternError

    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except (GitIgnorePatternError, ValueError, re.error):
        return False
    return True
