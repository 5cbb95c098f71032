"""The parser's identity, part of every facts-cache key: a digest of what turns bytes into facts.

Computed from the bytes of every module in this package and of ``deploysafe.check.facts``, plus the installed
versions of tree-sitter and its grammars, so any change to the parser (an upgrade, an edit in a checkout)
makes a new key and facts an older parser wrote are never read. Nobody has to remember to bump a constant.
Computed once per process (about a millisecond).
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

from deploysafe.check import facts

GRAMMARS = ("tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript")


def _producers() -> list[Path]:
    """Source files whose code decides the facts: this package (new modules included) and the fact classes."""
    package = Path(__file__).resolve().parent
    return [*sorted(package.rglob("*.py")), Path(facts.__file__).resolve()]


@functools.cache
def parser_version() -> str:
    digest = hashlib.sha256()
    for path in _producers():
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:  # no source on disk (a frozen build): its own version stands in for the code
            digest.update(f"deploysafe={_version('deploysafe')}".encode())
    for name in GRAMMARS:
        digest.update(f"\0{name}={_version(name)}".encode())
    return "js-" + digest.hexdigest()[:16]


def _version(distribution: str) -> str:
    """The installed version, from the name of its ``.dist-info`` folder on sys.path, first found first,
    as importlib.metadata finds it (whose import alone costs 50 ms of CPU, a sixth of a warm check)."""
    prefix = distribution.replace("-", "_").lower() + "-"
    for name in _dist_infos():
        if name.lower().startswith(prefix):
            return name[len(prefix) : -len(".dist-info")]
    return "unknown"


@functools.cache
def _dist_infos() -> tuple[str, ...]:
    """The ``.dist-info`` folder names on sys.path, in its order: listed once for every distribution asked."""
    found: list[str] = []
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        found.extend(name for name in names if name.endswith(".dist-info"))
    return tuple(found)
