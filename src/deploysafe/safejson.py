"""``json.loads`` for input nobody vouches for: nesting too deep to read is a ``JSONDecodeError``.

Python's parser recurses once per level and gives up with ``RecursionError`` somewhere past a thousand
levels (fewer when called from deep in a stack). Node reads such files, but no real package.json,
tsconfig.json, manifest or record nests that deep, so they are refused as unreadable with a clear reason,
and every caller that already handles malformed JSON handles this too.
"""

from __future__ import annotations

import json
from typing import IO, Any

__all__ = ["load", "loads"]


def loads(data: str | bytes | bytearray) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        doc = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
        raise json.JSONDecodeError("nested too deeply to read", doc, _depth_start(doc)) from None


def load(handle: IO[str] | IO[bytes]) -> Any:
    return loads(handle.read())


def _depth_start(doc: str) -> int:
    """Where the nesting starts to run deep: the first of a run of 64 opening brackets, else 0."""
    run = 0
    for index, char in enumerate(doc):
        if char in "[{":
            run += 1
            if run == 64:
                return index - 63
        elif not char.isspace():
            run = 0
    return 0
