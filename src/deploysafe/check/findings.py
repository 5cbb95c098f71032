"""What the checks report: findings (faults, with where and why) and unverified edges (what could not
be followed, so a clean verdict is never a quiet blind spot)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the file is reachable and Node will fail: the deploy is blocked
    WARNING = "warning"  # dormant file, handled failure, or a fault that does not stop loading today


# Stable rule ids (the JSON and SARIF contracts name them).
SYNTAX_ERROR = "syntax-error"
UNRESOLVED_IMPORT = "unresolved-import"
CASE_MISMATCH = "case-mismatch"
MISSING_EXPORT = "missing-export"
MISSING_PACKAGE = "missing-package"
UNDECLARED_DEPENDENCY = "undeclared-dependency"
DEV_DEPENDENCY_AT_RUNTIME = "dev-dependency-at-runtime"
CIRCULAR_IMPORT = "circular-import"
MISSING_IMPORT_ATTRIBUTE = "missing-import-attribute"
REQUIRE_OF_ESM = "require-of-esm"

RULES: dict[str, str] = {
    SYNTAX_ERROR: "A file Node loads does not parse.",
    UNRESOLVED_IMPORT: "An import names a file or package path that Node cannot find.",
    CASE_MISMATCH: "An import matches a file only when letter case is ignored; Linux does not ignore it.",
    MISSING_EXPORT: "A named or default import asks for a name the target module does not export.",
    MISSING_PACKAGE: "A bare import names a package that is neither installed nor declared.",
    UNDECLARED_DEPENDENCY: "A bare import names a package that is installed but not declared in package.json.",
    DEV_DEPENDENCY_AT_RUNTIME: "Code that runs in production imports a package declared only in devDependencies.",
    CIRCULAR_IMPORT: "Modules import each other in a cycle; bindings may be undefined while it loads.",
    MISSING_IMPORT_ATTRIBUTE: "An ES module imports JSON without `with { type: 'json' }`.",
    REQUIRE_OF_ESM: "require() of an ES module that this Node version cannot load synchronously.",
}


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

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"rule": self.rule, "severity": str(self.severity), "file": self.file}
        data |= {"line": self.line, "column": self.column}
        if self.specifier is not None:
            data["specifier"] = self.specifier
        if self.name is not None:
            data["name"] = self.name
        data |= {"message": self.message, "reachable": self.reachable, "chain": list(self.chain)}
        return data


# Why an edge could not be followed.
COMPUTED_SPECIFIER = "computed-specifier"
NOT_INSTALLED = "not-installed"
UNREADABLE = "unreadable"
UNKNOWN_EXPORTS = "unknown-exports"
STALE_BUILD = "stale-build"  # build output older than its sources: the checked files may not be what ships


@dataclass(frozen=True, slots=True)
class Unverified:
    reason: str
    file: str
    line: int
    column: int
    detail: str
    reachable: bool

    def to_json(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "detail": self.detail,
            "reachable": self.reachable,
        }
