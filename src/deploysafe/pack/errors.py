"""Errors of `pack` and `verify`, as :class:`DeploysafeError` subclasses the CLI prints as one line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deploysafe.errors import PackError

if TYPE_CHECKING:
    from deploysafe.check.pipeline import Report

__all__ = ["PackBlocked", "PackError", "UnverifiedEdges"]


class PackBlocked(PackError):
    """``check`` found errors, so pack refuses (unless forced). Carries the report to print."""

    def __init__(self, report: Report) -> None:
        errors = report.errors
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(
            f"pack refused: check found {len(errors)} error{'s' if len(errors) != 1 else ''}: "
            f"{first.location} {first.rule}{more}; fix them, or pass --force "
            "(recorded in the manifest)"
        )
        self.report = report


class UnverifiedEdges(PackError):
    """Reachable edges computed at run time that no include covers: the artifact may lack what they load.
    The message names each with the include line that takes its files."""

    def __init__(self, edges: list[Any]) -> None:
        lines = []
        for edge in edges:
            may = ""
            if edge.candidates:
                shown = ", ".join(edge.candidates[:5]) + (" ..." if len(edge.candidates) > 5 else "")
                may = f"; may load {shown}"
            lines.append(f"  {edge.file}:{edge.line} {edge.call}{may}\n    add: {edge.include}")
        super().__init__(
            f"pack refused: {len(edges)} edge(s) computed at run time, reachable from an entry, not covered by "
            "[pack] include:\n" + "\n".join(lines) + "\n"
            'include what they load, or acknowledge with [pack] unverified = "allow" / --allow-unverified '
            "(recorded in the manifest)"
        )
        self.edges = edges
