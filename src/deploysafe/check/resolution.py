"""What a resolver says about one import: the module it lands on (:class:`ResolvedModule`), or why the
runtime would not find it (:class:`Unresolved`). A reason is a stable string; the rule that reports it words it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResolvedModule:
    """A resolved import. Exactly one of ``path`` and ``builtin`` is set, except for ``data:`` URLs."""

    path: str | None = None  # absolute real path of the file Node loads
    builtin: str | None = None  # 'fs' for 'fs' and 'node:fs'
    package: str | None = None  # the package name when the import went through node_modules or self
    package_dir: str | None = None


# Reasons an import does not resolve. Each maps to the rule and message the report uses.
NOT_FOUND = "not-found"  # a relative or absolute path that is not there
CASE_MISMATCH = "case-mismatch"  # there, with other letter case (works on macOS/Windows, not Linux)
EXTENSIONLESS = "extensionless"  # ESM import without the extension; the file with one exists
DIRECTORY_IMPORT = "directory-import"  # ESM import of a directory
PACKAGE_NOT_FOUND = "package-not-found"  # no node_modules/<name> up the directory chain
NOT_EXPORTED = "not-exported"  # the package's "exports" does not list this subpath
IMPORT_NOT_DEFINED = "import-not-defined"  # "#name" not in the package's "imports"
INVALID_PACKAGE = "invalid-package-config"  # package.json unreadable or an invalid exports target
INVALID_SPECIFIER = "invalid-specifier"
UNSUPPORTED_SCHEME = "unsupported-scheme"  # http:, https:, ...
ALIAS_NOT_REWRITTEN = "alias-not-rewritten"  # a tsconfig paths alias that tsc leaves as written in its output


@dataclass(frozen=True, slots=True)
class Unresolved:
    reason: str
    path: str | None = None  # the absolute path Node looked for, when there is one
    package: str | None = None  # the package name for bare specifiers
    detail: str = ""  # Node's own wording for the cause, where it adds something
    suggestion: str | None = None  # a specifier or path that would work, when one is known
    actual: str | None = None  # for case-mismatch: the existing path
    # The file Node would load once the specifier is fixed (case, extension, index): the graph follows
    # it, so faults behind a mistyped import are found in the same run.
    intended: str | None = None
    package_dir: str | None = None  # the package's folder, when the package was found


Resolution = ResolvedModule | Unresolved
