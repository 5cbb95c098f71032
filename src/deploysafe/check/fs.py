"""A read-only, caching view of the file system, shaped for module resolution.

Resolution asks "is there a file here?" thousands of times; reading each directory once and answering
from the listing is much cheaper than a stat per candidate, and the listing also answers the question
Linux makes important: does the file exist with other letter case?
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FILE, DIR, OTHER = "f", "d", "o"


@dataclass(frozen=True, slots=True)
class CaseMatch:
    """A path that exists when letter case is ignored, and the spelling it really has."""

    actual: str  # the existing path
    wrong_component: str  # first component of the asked path whose case differs
    right_component: str


class FileSystem:
    def __init__(self) -> None:
        self._listings: dict[str, dict[str, str] | None] = {}
        self._links: dict[str, set[str]] = {}  # directory -> names in it that are symlinks
        self._realpaths: dict[str, str] = {}

    def listing(self, directory: str) -> dict[str, str] | None:
        """Entry name -> FILE, DIR or OTHER (symlinks followed), or None when not a readable directory."""
        try:
            return self._listings[directory]
        except KeyError:
            pass
        entries: dict[str, str] | None
        links: set[str] = set()
        try:
            with os.scandir(directory) as it:
                entries = {}
                for entry in it:
                    entries[entry.name] = _kind(entry)
                    if _is_link(entry):
                        links.add(entry.name)
        except OSError:
            entries = None
        self._listings[directory] = entries
        self._links[directory] = links
        return entries

    def kind(self, path: str) -> str | None:
        parent, name = _split(path)
        if not name:
            return DIR if os.path.isdir(path) else None
        listing = self.listing(parent)
        if listing is None:
            return None
        return listing.get(name)

    def is_file(self, path: str) -> bool:
        return self.kind(path) == FILE

    def is_dir(self, path: str) -> bool:
        return self.kind(path) == DIR

    def exists(self, path: str) -> bool:
        return self.kind(path) is not None

    def realpath(self, path: str) -> str:
        """``os.path.realpath(path)``. When the parent directory resolves to one already listed, and the
        last component is a plain name that is not a symlink there, it is that directory's real path and
        the name: what realpath itself finds with an lstat for every component of the path."""
        try:
            return self._realpaths[path]
        except KeyError:
            pass
        parent, name = os.path.split(path)
        real = None
        if name and name not in (".", "..") and parent != path and os.path.isabs(path):
            real_parent = self.realpath(parent)
            # Only a listing resolution has made anyway: the project's folders, not the ones above it.
            if self._listings.get(real_parent) is not None and name not in self._links[real_parent]:
                real = os.path.join(real_parent, name)
        if real is None:
            real = os.path.realpath(path)
        self._realpaths[path] = real
        return real

    def case_insensitive(self, path: str) -> CaseMatch | None:
        """The existing path that differs from ``path`` only in letter case, if there is exactly one."""
        path = os.path.normpath(path)
        parts = path.split(os.sep)
        current = os.sep if path.startswith(os.sep) else ""
        wrong = right = ""
        for part in parts:
            if not part:
                continue
            listing = self.listing(current or ".")
            if listing is None:
                return None
            if part in listing:
                current = os.path.join(current, part)
                continue
            folded = part.casefold()
            candidates = [name for name in listing if name.casefold() == folded]
            if len(candidates) != 1:
                return None
            if not wrong:
                wrong, right = part, candidates[0]
            current = os.path.join(current, candidates[0])
        if not wrong:
            return None
        return CaseMatch(actual=current, wrong_component=wrong, right_component=right)


def _posix_split(path: str) -> tuple[str, str]:
    """``os.path.split`` on POSIX, without its generality's cost (resolution splits paths by thousands)."""
    cut = path.rfind("/") + 1
    head = path[:cut]
    if head and head != "/" * len(head):
        head = head.rstrip("/")
    return head, path[cut:]


_split = _posix_split if os.sep == "/" and os.altsep is None else os.path.split


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def _kind(entry: os.DirEntry[str]) -> str:
    try:
        if entry.is_file():
            return FILE
        if entry.is_dir():
            return DIR
    except OSError:  # a symlink loop or a dangling link
        pass
    return OTHER
