"""What the checks report: findings (faults, with where and why) and unverified edges (what could not
be followed, so a clean verdict is never a quiet blind spot).

A finding prints itself as ``file:line:col rule message`` (:meth:`Finding.render`); every report that
shows findings one per line goes through it. Rule ids and what each rule means live with the rules
(:mod:`deploysafe.check.rules` and an ecosystem's ``rules`` package).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


def _same(text: str) -> str:
    return text


class Severity(StrEnum):
    ERROR = "error"  # the file is reachable and Node will fail: the deploy is blocked
    WARNING = "warning"  # dormant file, handled failure, or a fault that does not stop loading today


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    file: str  # relative to root, "/" separators
    line: int  # 1-based
    column: int  # 1-based
    message: str
    reachable: bool
    chain: tuple[str, ...] = ()  # entry ... file, empty when dormant
    specifier: str | None = None
    name: str | None = None

    @property
    def location(self) -> str:
        """``file:line:col``, as editors and CI logs link it."""
        return f"{self.file}:{self.line}:{self.column}"

    def render(self, *, text: Callable[[str], str] = _same, rule: Callable[[str], str] = _same) -> str:
        """``file:line:col rule message``; ``text`` escapes the file and message for a markup, ``rule``
        styles the rule id."""
        return f"{text(self.file)}:{self.line}:{self.column} {rule(self.rule)} {text(self.message)}"

    def __str__(self) -> str:
        return self.render()

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"rule": self.rule, "severity": str(self.severity), "file": self.file}
        data |= {"line": self.line, "column": self.column, "specifier": self.specifier, "name": self.name}
        data |= {"message": self.message, "reachable": self.reachable, "chain": list(self.chain)}
        return data


# Why an edge could not be followed.
COMPUTED_SPECIFIER = "computed-specifier"
NOT_INSTALLED = "not-installed"
UNREADABLE = "unreadable"
UNKNOWN_EXPORTS = "unknown-exports"
PACKAGE_MANAGER = "package-manager"  # packages resolved by a loader deploysafe does not read (Yarn PnP)
COMPUTED_ENTRY = "computed-entry"  # a start the process manager computes at run time (PM2 script: path.join(...))
STALE_BUILD = "stale-build"  # build output older than its sources: the checked files may not be what ships
# loads inside an installed package whose specifier is computed at run time: counted once per package
COMPUTED_IN_PACKAGE = "computed-in-package"
# code that runs at load reads a browser-only global (`window`), which Node does not define
BROWSER_GLOBAL = "browser-global"


@dataclass(frozen=True, slots=True)
class Unverified:
    reason: str
    file: str
    line: int
    column: int
    detail: str
    reachable: bool

    def __str__(self) -> str:
        """``file:line:col detail``."""
        return f"{self.file}:{self.line}:{self.column} {self.detail}"

    def to_json(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "detail": self.detail,
            "reachable": self.reachable,
        }
