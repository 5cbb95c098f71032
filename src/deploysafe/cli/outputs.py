"""``--output FILE``: the report format a file name asks for, or a one-line error when it names none.

A suffix chooses the format only when ``--format`` does not; an unknown suffix is an error (exit 2), never
a silent text file.
"""

from __future__ import annotations

from pathlib import Path

from deploysafe.errors import ConfigError

SUFFIXES = {".json": "json", ".sarif": "sarif", ".html": "html", ".htm": "html", ".txt": "text", ".text": "text"}


def format_for(output: Path, formats: tuple[str, ...]) -> str:
    """The format of ``formats`` that ``output``'s suffix names."""
    suffix = output.suffix.lower()
    fmt = SUFFIXES.get(suffix)
    if fmt in formats:
        return fmt
    valid = ", ".join(s for s, f in SUFFIXES.items() if f in formats)
    said = f"suffix {suffix!r} names no report format" if suffix else "no suffix to choose a report format by"
    raise ConfigError(f"--output {output}: {said} (use {valid}, or --format)")
