"""One walk over the project tree: every file (node_modules and VCS folders aside) and whether git ignores it.

Git's rules are read from every ``.gitignore`` between the repository's top (the nearest folder holding
``.git``, if the root is inside one) and each folder of the tree, with git's semantics: a file under an
ignored folder is ignored too. A symlink is listed with where it points, never followed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from deploysafe.ecosystems.node.files import ALWAYS_SKIPPED_DIRS
from deploysafe.globs import Matcher, gitignore_lines


@dataclass(frozen=True, slots=True)
class _Rules:
    """One .gitignore: ``base`` is its folder relative to the root, or (``above``) the root seen from it."""

    base: str
    spec: Matcher
    above: bool = False

    def match(self, rel: str) -> bool:
        if self.above:
            return self.spec.match_file(f"{self.base}/{rel}")
        return self.spec.match_file(rel[len(self.base) + 1 :] if self.base else rel)


_Ignores = list[_Rules]


@dataclass(slots=True)
class Tree:
    root: str
    files: list[str] = field(default_factory=list)  # relative, "/"-separated, sorted; regular files only
    ignored: set[str] = field(default_factory=set)  # those of `files` that git ignores
    symlinks: dict[str, str] = field(default_factory=dict)  # relative path -> realpath of its target

    def is_ignored(self, rel: str) -> bool:
        return rel in self.ignored

    def under(self, directory: str) -> list[str]:
        """The files below ``directory`` (relative), sorted."""
        prefix = directory.rstrip("/") + "/"
        return [f for f in self.files if f.startswith(prefix)]


def walk(root: str) -> Tree:
    tree = Tree(root)
    stack: list[tuple[str, _Ignores, bool]] = [("", _ancestor_ignores(root), False)]
    while stack:
        rel_dir, ignores, dir_ignored = stack.pop()
        abs_dir = os.path.join(root, rel_dir) if rel_dir else root
        ignores = _with_gitignore(abs_dir, rel_dir, ignores)
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                tree.symlinks[rel] = os.path.realpath(entry.path)
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name not in ALWAYS_SKIPPED_DIRS:
                    stack.append((rel, ignores, dir_ignored or _ignored(rel + "/", ignores)))
                continue
            if not is_file:
                continue
            tree.files.append(rel)
            if dir_ignored or _ignored(rel, ignores):
                tree.ignored.add(rel)
    tree.files.sort()
    return tree


def _ancestor_ignores(root: str) -> _Ignores:
    """The .gitignore rules of the folders above ``root`` up to the repository top, as seen from root."""
    chain: list[str] = []
    current = root
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            break
        parent = os.path.dirname(current)
        if parent == current:
            return []  # not inside a repository: only the tree's own .gitignore files count
        chain.append(parent)
        current = parent
    ignores: _Ignores = []
    for directory in reversed(chain):
        spec = _read_gitignore(directory)
        if spec is not None:
            prefix = os.path.relpath(root, directory).replace(os.sep, "/")
            ignores.append(_Rules(prefix, spec, above=True))
    return ignores


def _read_gitignore(directory: str) -> Matcher | None:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            return gitignore_lines(handle.read().splitlines())
    except OSError:
        return None


def _with_gitignore(abs_dir: str, rel_dir: str, ignores: _Ignores) -> _Ignores:
    spec = _read_gitignore(abs_dir)
    return ignores if spec is None else [*ignores, _Rules(rel_dir, spec)]


def _ignored(rel: str, ignores: _Ignores) -> bool:
    return any(rules.match(rel) for rules in ignores)
