"""Which grammar reads a file, by its name: JavaScript, TypeScript or TSX, or none (not a source, or a
TypeScript declaration file that only declares types). Kept apart from the parser so that a check whose
facts all come from the cache never loads tree-sitter."""

from __future__ import annotations

import re
from enum import Enum


class Dialect(Enum):
    JAVASCRIPT = "javascript"  # .js .mjs .cjs .jsx (JSX is part of this grammar)
    TYPESCRIPT = "typescript"  # .ts .mts .cts
    TSX = "tsx"  # .tsx


_DIALECTS = {
    ".js": Dialect.JAVASCRIPT,
    ".mjs": Dialect.JAVASCRIPT,
    ".cjs": Dialect.JAVASCRIPT,
    ".jsx": Dialect.JAVASCRIPT,
    ".ts": Dialect.TYPESCRIPT,
    ".mts": Dialect.TYPESCRIPT,
    ".cts": Dialect.TYPESCRIPT,
    ".tsx": Dialect.TSX,
}
# x.d.ts, x.d.mts, x.d.cts and TypeScript 5's x.d.<ext>.ts declare types only and are never loaded.
_DECLARATION_FILE = re.compile(r"\.d(?:\.[^./\\]+)?\.[mc]?ts$")


def dialect_for(path: str) -> Dialect | None:
    """The grammar for a file name; None for non-source files and TypeScript declaration files."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if _DECLARATION_FILE.search(name):
        return None
    dot = name.rfind(".")
    return _DIALECTS.get(name[dot:]) if dot > 0 else None
