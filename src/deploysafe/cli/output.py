"""Where a command's report goes: stdout or ``--output FILE``, written so that writing never crashes.

A file name that is not UTF-8 (surrogate-escaped by Python) is written as ``\\udcNN``, which a JSON reader
takes back as the same character; an ``--output`` in a missing folder gets the folder; a full disk or a
refused write is one line naming the file and the reason (exit 2).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from deploysafe.errors import ConfigError

__all__ = ["opened", "write"]


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
