"""`unknown-file-extension`: an import or require() reaches a file of an installed package that Node cannot
load as a module: a stylesheet, a `.d.ts`, a source map. `import` knows only .js, .mjs, .cjs and .json
(ERR_UNKNOWN_FILE_EXTENSION); require() loads any other extension as JavaScript, which fails only when the
file does not parse as JavaScript, so that is what decides it (a file over 4 MiB, or one that cannot be
read, is not parsed: its require() is reported unverified)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from deploysafe.check.facts import ImportKind
from deploysafe.check.findings import UNREADABLE
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import ResolvedModule
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.formats import TYPESCRIPT_EXTENSIONS
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails

ID = "unknown-file-extension"

IMPORTABLE = (".js", ".mjs", ".cjs", ".json")
REQUIRABLE = (".js", ".cjs", ".mjs", ".json", ".node")
_READ_LIMIT = 4 * 1024 * 1024  # a larger file of another extension is not parsed: its require() is unverified


class UnknownFileExtensionRule(Rule):
    id = ID
    summary = "An import or require() reaches a package file Node cannot load as a module (.css, .d.ts, .map)."
    predicts = "`TypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension` (import), `SyntaxError` (require)"
    help = "Import the package's JavaScript entry; a stylesheet or type declaration is for a bundler or tsc."
    edges = "resolved"

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        res = edge.resolution
        if isinstance(res, ResolvedModule) and res.path and res.package and not ctx.analysis.is_project_file(res.path):
            yield from unknown_extension(ctx, module, edge, res.path)


def unknown_extension(ctx: RuleContext, module: Module, edge: Edge, path: str) -> Iterator[Result]:
    imp = edge.imp
    if imp.type_only or imp.resolve_only:
        return  # `require.resolve('x.css')` finds the file and loads nothing
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1].lower()
    if not ext:
        return  # an extensionless file: its package's "type" decides, other rules judge it
    ts_runner = ctx.analysis.typescript is not None and not ctx.analysis.typescript.compiled
    if ts_runner and name.endswith(TYPESCRIPT_EXTENSIONS):
        return  # tsx or ts-node load TypeScript
    target = ctx.rel(path)
    if edge.for_require or imp.kind is ImportKind.REQUIRE:
        if ext in REQUIRABLE:
            return
        parses = _parses_as_javascript(path)
        if parses is None:
            yield ctx.unverified(
                UNREADABLE,
                module,
                imp.line,
                imp.column,
                f"require() loads {target} as JavaScript ({ext} is not a module format Node knows); deploysafe did "
                f"not parse it (larger than {_READ_LIMIT // (1024 * 1024)} MiB, or unreadable)",
            )
            return
        if parses:
            return
        message = (
            f"{when_it_fails(imp)}: SyntaxError: require() loads {target} as JavaScript ({ext} is not a module "
            "format Node knows) and it does not parse"
        )
    else:
        if ext in IMPORTABLE:
            return
        message = (
            f'{when_it_fails(imp)}: TypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension "{ext}" for {target}'
        )
    yield ctx.edge_finding(ID, module, imp, message)


def _parses_as_javascript(path: str) -> bool | None:
    """Whether the file parses as JavaScript; None when it was not read (too large, or unreadable)."""
    try:
        if os.path.getsize(path) > _READ_LIMIT:
            return None
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    from deploysafe.ecosystems.node.parse.javascript import Dialect, parse_module  # tree-sitter, when needed

    return not parse_module(source, Dialect.JAVASCRIPT).syntax_errors
