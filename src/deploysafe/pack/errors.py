"""Errors of `pack` and `verify`, as :class:`DeploysafeError` subclasses the CLI prints as one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploysafe.errors import PackError

if TYPE_CHECKING:
    from deploysafe.check.pipeline import Report

__all__ = ["PackBlocked", "PackError"]


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
