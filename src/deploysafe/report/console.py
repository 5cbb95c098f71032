"""Where a text report prints: rich's Console on a terminal; on a pipe or a file, :class:`PlainConsole`,
which prints the same characters without loading rich (importing rich is about a sixth of a small check's
CPU time, and a pipe gets no colours, no wrapping and no cursor control from it anyway).

Reports write rich's console markup (``[bold red]BLOCKED[/]``) and quote what they did not write with
:func:`escape`; :class:`PlainConsole` drops the tags as rich's markup parser does and keeps escaped
brackets. Neither turns ``:name:`` into an emoji: ``index.js:100:5`` is a place, not a symbol.
"""

from __future__ import annotations

import os
import re
import sys
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.console import Console

# rich.markup's patterns: a tag, with the backslashes before it (an odd number escapes it)
_TAG = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
_ESCAPABLE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_CONTROL = str.maketrans(dict.fromkeys((7, 8, 11, 12, 13)))  # what rich strips: bell, backspace, VT, FF, CR


class Printer(Protocol):
    """What a text report needs of a console: rich's :class:`~rich.console.Console` or :class:`PlainConsole`."""

    @property
    def is_terminal(self) -> bool: ...

    @property
    def width(self) -> int: ...

    def print(
        self, *objects: object, end: str = "\n", soft_wrap: bool | None = None, highlight: bool | None = None
    ) -> None: ...


def escape(text: str) -> str:
    """``text`` as markup that prints as itself (rich.markup.escape: a tag-like ``[x]`` gets a backslash)."""
    text = _ESCAPABLE.sub(lambda m: f"{m[1]}{m[1]}\\{m[2]}", text)
    return text + "\\" if text.endswith("\\") and not text.endswith("\\\\") else text


def plain(markup: str) -> str:
    """The characters ``markup`` prints as: tags dropped, escaped ones kept, as rich.markup.render reads it."""
    out: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        full, escapes, _ = match.groups()
        start, end = match.span()
        if start > position:
            out.append(markup[position:start].replace("\\[", "["))
        backslashes, escaped = divmod(len(escapes), 2)
        out.append("\\" * backslashes)
        if escaped:
            out.append(full[len(escapes) :])
        position = end
    out.append(markup[position:].replace("\\[", "["))
    return "".join(out)


class PlainConsole:
    """Prints markup as plain text, one ``print`` a line, never wrapped: the pipe and file console."""

    is_terminal = False

    def __init__(self, file: IO[str] | None = None, width: int = 80) -> None:
        self._file = file
        self.width = width

    def print(
        self, *objects: object, end: str = "\n", soft_wrap: bool | None = None, highlight: bool | None = None
    ) -> None:
        text = " ".join(plain(str(o)) for o in objects).translate(_CONTROL)
        file = self._file if self._file is not None else sys.stdout
        file.write("\n".join(line.expandtabs(8) for line in text.split("\n")) + end)


def terminal(file: IO[str]) -> bool:
    """Whether ``file`` gets a terminal's output: rich's rule (TTY_COMPATIBLE, then FORCE_COLOR, then isatty)."""
    forced = os.environ.get("TTY_COMPATIBLE", "")
    if forced in ("0", "1"):
        return forced == "1"
    if "FORCE_COLOR" in os.environ:
        return os.environ["FORCE_COLOR"] != ""
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False


def rich_console(**options: object) -> Console:
    """rich's Console with emoji codes off (``:100:`` in ``index.js:100:9`` stays a line number) and, unless
    asked for, no highlighting of numbers and paths: every rich console of the CLI comes from here."""
    from rich.console import Console

    options.setdefault("highlight", False)
    return Console(emoji=False, **options)  # type: ignore[arg-type]


def console_for(file: IO[str] | None = None) -> Console | PlainConsole:
    """rich's Console for a terminal (stdout when ``file`` is None), else a :class:`PlainConsole`."""
    if not terminal(file if file is not None else sys.stdout):
        return PlainConsole(file)
    return rich_console(file=file)
