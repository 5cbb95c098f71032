"""Counted nouns for people: ``1 file``, ``2 files``, ``1 failed deploy``."""

from __future__ import annotations

__all__ = ["count"]


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun in the number it takes (``plural`` defaults to ``singular`` + "s")."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"
