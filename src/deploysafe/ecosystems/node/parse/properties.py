"""A property of a JavaScript object literal as :mod:`~deploysafe.ecosystems.node.parse.literals` reads it,
in a module of its own so that its readers need not load the grammars."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Property:
    """One ``key: value`` of an object literal: ``value`` is the literal string, or None when the value is
    computed (``expression`` is its source text); ``siblings`` are the object's other literal strings."""

    key: str
    value: str | None
    expression: str
    line: int  # 1-based
    siblings: dict[str, str]
