"""The edges computed at run time that an entry reaches, as pack must name them.

``check`` lists an edge it could not follow (``import(`./banks/${name}.js`)``, a folder listing whose
folder it could not read) as unverified. What such an edge loads is not in the import closure, so an
artifact may lack it. pack names each one reachable from an entry with its file, line and call, the files
under the folder it may load (the literal folder the expression starts with, when it has one) and the
``[pack] include`` line that would take them; an edge is covered when include globs take every one of
those files (nothing under the folder is left out). An uncovered edge stops pack unless acknowledged (``[pack] unverified = "allow"`` or
``--allow-unverified``, recorded in the manifest).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from deploysafe.check.findings import COMPUTED_SPECIFIER, Unverified

# The literal folder a computed specifier starts with: `./banks/${x}.js`, './routes/' + name.
_PREFIX = re.compile(r"""[`'"](\.{1,2}/(?:[^`'"$/]+/)*)""")


@dataclass(frozen=True)
class OpenEdge:
    file: str
    line: int
    call: str  # the unverified edge's detail: the call and why it was not followed
    folder: str | None  # the folder it loads from, relative to the root; None when unknown
    candidates: tuple[str, ...]  # files under that folder the artifact leaves out
    covered: bool  # include globs take every candidate

    @property
    def include(self) -> str:
        """The ``[pack] include`` line that takes what this edge may load."""
        if self.folder is None:
            return "[pack] include = [...]  # the files this call loads"
        glob = "**" if self.folder in ("", ".") else f"{self.folder}/**"
        return f'[pack] include = ["{glob}"]'

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "call": self.call,
            "folder": self.folder,
            "may_load": list(self.candidates),
            "include": self.include,
            "covered": self.covered,
        }


def open_edges(unverified: Iterable[Unverified], packed: Iterable[str], left_out: Iterable[str]) -> list[OpenEdge]:
    """Reachable computed edges; ``packed`` and ``left_out`` are the project files the artifact holds and
    does not hold (relative to the root)."""
    held = set(packed)
    missing = sorted(set(left_out) - held)
    found = []
    for item in unverified:
        if not item.reachable or item.reason != COMPUTED_SPECIFIER:
            continue
        folder = _folder(item)
        if folder is None:
            found.append(OpenEdge(item.file, item.line, item.detail, None, (), False))
            continue
        prefix = "" if folder in ("", ".") else folder + "/"
        candidates = tuple(path for path in missing if path.startswith(prefix))
        under = any(path.startswith(prefix) and path != item.file for path in held)
        found.append(OpenEdge(item.file, item.line, item.detail, folder, candidates, not candidates and under))
    return found


def _folder(item: Unverified) -> str | None:
    match = _PREFIX.search(item.detail)
    if match is None:
        return None
    folder = posixpath.normpath(posixpath.join(posixpath.dirname(item.file), match.group(1)))
    return None if folder.startswith("..") else folder
