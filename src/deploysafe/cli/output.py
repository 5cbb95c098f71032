"""Where a command's report goes: stdout or ``--output FILE``, written so that writing never crashes.

A file name that is not UTF-8 (surrogate-escaped by Python) is written as ``\\udcNN``, which a JSON reader
takes back as the same character; an ``--output`` in a missing folder gets the folder; a full disk or a
refused write is one line naming the file and the reason (exit 2). Its suffix chooses the report format
only when ``--format`` does not; a suffix that names none is an error (exit 2), never a silent text file.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from deploysafe.errors import ConfigError

__all__ = ["SUFFIXES", "format_for", "opened", "write"]

SUFFIXES = {
    ".json": "json",
    ".sarif": "sarif",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".text": "text",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}


def format_for(output: Path, formats: tuple[str, ...]) -> str:
    """The format of ``formats`` that ``output``'s suffix names."""
    suffix = output.suffix.lower()
    fmt = SUFFIXES.get(suffix)
    if fmt is not None and fmt in formats:
        return fmt
    valid = ", ".join(s for s, f in SUFFIXES.items() if f in formats)
    said = f"suffix {suffix!r} names no report format" if suffix else "no suffix to choose a report format by"
    raise ConfigError(f"--output {output}: {said} (use {valid}, or --format)")


def write(output: Path | None, text: str) -> None:
    """``text`` to stdout (``output`` None) or into the file ``output``."""
    with opened(output) as handle:
        handle.write(text)


@contextlib.contextmanager
def opened(output: Path | None) -> Iterator[TextIO]:
    """A text handle on stdout or on the file ``output``; an OS error while writing is a ConfigError."""
    if output is None:
        stream = sys.stdout
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
        yield stream
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8", errors="backslashreplace") as handle:
            yield handle
    except OSError as err:
        raise ConfigError(f"cannot write {output}: {err.strerror or err}") from err
