"""JSON with comments and trailing commas, as tsconfig.json and jsconfig.json allow."""

from __future__ import annotations

import json
from typing import Any


class JsoncError(ValueError):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.line = line
        self.column = column


def strip_jsonc(text: str) -> str:
    """Replace comments and trailing commas with spaces, keeping every offset where it was."""
    out = list(text)
    i, n = 0, len(text)
    last_comma = -1  # index of a comma that may turn out to be trailing
    while i < n:
        ch = text[i]
        if ch == '"':
            i = _skip_string(text, i)
            last_comma = -1
            continue
        if ch == "/" and i + 1 < n and text[i + 1] == "/":
            end = text.find("\n", i)
            end = n if end == -1 else end
            _blank(out, i, end)
            i = end
            continue
        if ch == "/" and i + 1 < n and text[i + 1] == "*":
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            _blank(out, i, end)
            i = end
            continue
        if ch == ",":
            last_comma = i
        elif ch in "}]":
            if last_comma != -1:
                out[last_comma] = " "
            last_comma = -1
        elif not ch.isspace():
            last_comma = -1
        i += 1
    return "".join(out)


def loads(text: str) -> Any:
    """Parse JSONC text; a leading byte-order mark is allowed. Raises :class:`JsoncError`."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(strip_jsonc(text))
    except json.JSONDecodeError as err:
        raise JsoncError(err.msg, err.lineno, err.colno) from err
    except RecursionError:
        raise JsoncError("nested too deeply to read", 1, 1) from None


def _skip_string(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    return i


def _blank(out: list[str], start: int, end: int) -> None:
    for k in range(start, end):
        if out[k] != "\n":
            out[k] = " "
