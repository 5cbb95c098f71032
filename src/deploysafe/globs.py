"""Gitignore-style patterns: from a ``.gitignore`` file as git reads it, or typed by the user.

git passes over a line it cannot use (a lone ``!``, a lone or trailing backslash): such a line matches
nothing, and :func:`gitignore_lines` does the same. A pattern the user gave (``--exclude``, ``--include``,
``--skip``, ``--allow-secret``, their deploysafe.toml keys) that cannot be read is a :class:`ConfigError`
naming the pattern and the option: a typo must not silently widen or narrow what ships.
"""

from __future__ import annotations

from collections.abc import Iterable

import pathspec
from pathspec.patterns.gitignore import GitIgnorePatternError

__all__ = ["gitignore_lines", "user_patterns"]


def gitignore_lines(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """The rules of a ``.gitignore`` file; unreadable lines match nothing, as in git."""
    lines = list(lines)
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (GitIgnorePatternError, ValueError):
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _readable(line)])


def user_patterns(patterns: Iterable[str], option: str) -> pathspec.GitIgnoreSpec:
    """The user's patterns for ``option``; the first one that cannot be read is a ConfigError."""
    from deploysafe.errors import ConfigError

    patterns = list(patterns)
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise ConfigError(f"{option}: every pattern must be a string, got {pattern!r}")
    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except (GitIgnorePatternError, ValueError):  # each pattern is compiled again only to name the bad one
        bad = next((pattern for pattern in patterns if not _readable(pattern)), None)
        if bad is None:
            raise
    raise ConfigError(f"{option} '{bad}': not a usable gitignore-style pattern (a lone '!' or a trailing backslash)")


def _readable(line: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([line])
    except (GitIgnorePatternError, ValueError):
        return False
    return True
