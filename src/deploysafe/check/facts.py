"""What one source file says about its imports and exports, before anything is resolved.

Parsers (``deploysafe.ecosystems.node.parse.*``) turn bytes into :class:`ModuleFacts`; resolvers turn the
:class:`Import` records into edges. Everything here is plain, immutable, picklable data so it can be
cached by content hash and sent between processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ImportKind(StrEnum):
    STATIC = "import"  # import x from 'a' / import 'a'           (linked before any code runs)
    REEXPORT = "export-from"  # export * from 'a' / export {x} from 'a'  (linked before any code runs)
    REQUIRE = "require"  # require('a') / TS `import x = require('a')`
    DYNAMIC = "dynamic-import"  # import('a')                          (loaded when that line runs)

    @property
    def is_esm_link(self) -> bool:
        """Statically linked: a fault anywhere in the graph stops the start."""
        return self in (ImportKind.STATIC, ImportKind.REEXPORT)


@dataclass(frozen=True, slots=True)
class ImportedName:
    """One name an import asks of its target: ``default`` for a default import."""

    name: str
    line: int
    column: int
    type_only: bool = False  # `import { type X }` / `export { type X } from`
    # TypeScript: the binding is certainly read as a value outside the import (not only in types), so a
    # compiler keeps it and the target must export it as a value, not only as a type
    value_read: bool = False


@dataclass(frozen=True, slots=True)
class Import:
    """One edge as written in the source. Lines and columns are 1-based and point at the specifier."""

    kind: ImportKind
    specifier: str | None  # None when the argument is computed and could not be read
    line: int
    column: int
    expression: str = ""  # source text of a computed argument (shortened), for the report
    names: tuple[ImportedName, ...] = ()  # names asked of the target
    namespace: bool = False  # import * as ns / export * as ns from
    star: bool = False  # export * from 'a'
    type_only: bool = False  # import type ... / export type ... from: erased, never loaded
    attributes: tuple[tuple[str, str], ...] = ()  # with { type: 'json' } / assert { type: 'json' }
    asserted: bool = False  # the attributes are written `assert {...}`, a SyntaxError from Node 22 on
    in_function: bool = False  # inside a function body: runs only when that code runs
    guarded: bool = False  # inside try {...} or import(...).catch(): a miss is handled by the code
    # behind a NODE_ENV test that is false when NODE_ENV=production (`if (process.env.NODE_ENV !==
    # 'production') require('pino-pretty')`): production never runs it
    dev_only: bool = False
    # behind a feature or version test (`typeof fetch === 'function' ? fetch : require('node-fetch')`,
    # `x ?? require('y')`, `if (process.versions.bun)`): runs only where the test says the feature is
    # missing, which the check cannot know; the test's source text
    feature_test: str = ""
    # `require.resolve('x')` / `import.meta.resolve('pkg')`: resolved (and failing as a load would) but not
    # loaded; the file is still part of what ships
    resolve_only: bool = False
    # TypeScript: no binding of this import is used as a value, only in types (`import { Request } from
    # 'express'` for a parameter's type). tsc, ts-node and tsx drop such an import unless
    # verbatimModuleSyntax keeps it.
    values_unused: bool = False
    # ... and one of them is a type in a decorated class's signatures: emitDecoratorMetadata makes it a value.
    decorator_metadata: bool = False
    # A load a loader makes while the service starts (a folder listed by a call that runs at load), worded
    # for the report: "routes/ by app.js:12". It runs at load like a top-level require(), whatever its kind.
    started_by: str = ""


@dataclass(frozen=True, slots=True)
class SyntaxIssue:
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class AssetRef:
    """A non-code file the code reads by a literal path relative to its own directory.

    Found in forms such as ``new URL('./q.sql', import.meta.url)`` and ``path.join(__dirname, 'x.html')``.
    ``path`` is relative to the directory of the file that holds the reference, with ``/`` separators.
    """

    path: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class ModuleFacts:
    """What any language's file says: its imports, its exports, where it does not parse, the files it reads.
    An ecosystem's parser may return a subclass that adds what only its runtime cares about."""

    imports: tuple[Import, ...] = ()
    # Value names this file exports with ESM syntax, 'default' included; `export {a as b} from` gives b,
    # `export * as ns from` gives ns. `export * from` is not here: it is an Import with star=True.
    exports: frozenset[str] = frozenset()
    # Names exported only as types (interfaces, type aliases, `export type {...}`): they satisfy a
    # TypeScript importer, never a JavaScript one.
    type_exports: frozenset[str] = frozenset()
    syntax_errors: tuple[SyntaxIssue, ...] = ()
    assets: tuple[AssetRef, ...] = ()
    # Why the parser could not read the file (an internal fault), "" when it could: the file's imports are
    # then unknown, and the check lists it as unverified instead of taking it for a file with no imports.
    fault: str = ""


UNPARSABLE = ModuleFacts()
