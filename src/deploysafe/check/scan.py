"""The project's own source files: everything under ROOT the ecosystem calls a source, minus what git
ignores, the directories it skips (installed dependencies) and configured excludes. Used to list dormant
files and for drift and pack."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from deploysafe.globs import Matcher, gitignore_lines, user_patterns

VCS_AND_TOOL_DIRS = frozenset({".git", ".hg", ".svn", ".deploysafe"})  # never a service's code


@dataclass(frozen=True, slots=True)
class ScanProblem:
    path: str  # relative to root
    message: str


@dataclass(slots=True)
class ScanResult:
    files: list[str] = field(default_factory=list)  # relative, "/"-separated, sorted
    problems: list[ScanProblem] = field(default_factory=list)


def scan(
    root: str,
    *,
    exclude: Iterable[str] = (),
    want: Callable[[str], bool],
    skip_dirs: Iterable[str] = VCS_AND_TOOL_DIRS,
    respect_gitignore: bool = True,
) -> ScanResult:
    """Every file under ``root`` that ``want`` accepts, following symlinked directories once."""
    result = ScanResult()
    skipped = frozenset(skip_dirs)
    excluded = user_patterns(exclude, "--exclude / [check] exclude") if exclude else None
    seen_dirs: set[tuple[int, int]] = set()
    stack: list[tuple[str, list[tuple[str, Matcher]]]] = [("", [])]
    while stack:
        rel_dir, ignores = stack.pop()
        abs_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            stat = os.stat(abs_dir)
        except OSError as err:
            result.problems.append(ScanProblem(rel_dir or ".", _describe(err)))
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in seen_dirs:
            result.problems.append(ScanProblem(rel_dir, "directory reached twice through a symlink (loop); skipped"))
            continue
        seen_dirs.add(key)
        if respect_gitignore:
            ignores = _with_gitignore(abs_dir, rel_dir, ignores)
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            result.problems.append(ScanProblem(rel_dir or ".", _describe(err)))
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError as err:
                result.problems.append(ScanProblem(rel, _describe(err)))
                continue
            if not is_dir and not is_file:
                if entry.is_symlink():
                    result.problems.append(ScanProblem(rel, _odd_symlink(entry.path)))
                continue
            if is_dir and entry.name in skipped:
                continue
            check = rel + "/" if is_dir else rel
            if excluded is not None and excluded.match_file(check):
                continue
            if _ignored(check, ignores):
                continue
            if is_dir:
                stack.append((rel, ignores))
            elif want(entry.name):
                result.files.append(rel)
    result.files.sort()
    return result


def _with_gitignore(abs_dir: str, rel_dir: str, ignores: list[tuple[str, Matcher]]) -> list[tuple[str, Matcher]]:
    path = os.path.join(abs_dir, ".gitignore")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return ignores
    return [*ignores, (rel_dir, gitignore_lines(lines))]


def _ignored(rel: str, ignores: list[tuple[str, Matcher]]) -> bool:
    for base, spec in ignores:
        local = rel[len(base) + 1 :] if base else rel
        if spec.match_file(local):
            return True
    return False


def _describe(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "permission denied; its files were not checked"
    return f"cannot read: {err.strerror or err}"


def _odd_symlink(path: str) -> str:
    """Why a symlink that is neither a file nor a folder is skipped: dangling, looping, or a device."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "dangling symlink; skipped"
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "looping symlink; skipped"
        return f"symlink that cannot be followed ({(err.strerror or str(err)).lower()}); skipped"
    return "symlink to a device, pipe or socket, not a file; skipped"
