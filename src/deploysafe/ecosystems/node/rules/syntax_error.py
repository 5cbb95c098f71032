"""`syntax-error`: a file Node loads does not parse, a CommonJS file uses import/export, or Node 22 meets
the removed `assert` keyword. tree-sitter's word is checked by node --check or TypeScript first."""

from __future__ import annotations

import os
from collections.abc import Iterator

from deploysafe.check.findings import UNREADABLE
from deploysafe.check.graph import Edge, Module
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.confirm import CONFIRMED, REFUTED, UNCONFIRMED
from deploysafe.ecosystems.node.formats import Format, is_typescript
from deploysafe.ecosystems.node.parse.facts import NodeModuleFacts
from deploysafe.ecosystems.node.rules.context import RuleContext

ID = "syntax-error"


class SyntaxErrorRule(Rule):
    id = ID
    summary = "A file Node loads does not parse."
    predicts = "`SyntaxError` at start (including `import` in a file Node loads as CommonJS)"
    help = "Fix the syntax at the reported position; `node --check FILE` confirms it."

    def check_module(self, ctx: RuleContext, module: Module) -> Iterator[Result]:  # type: ignore[override]
        yield from syntax_errors(ctx, module)
        yield from module_syntax_in_commonjs(ctx, module)

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        yield from removed_import_assertion(ctx, module, edge)


def syntax_errors(ctx: RuleContext, module: Module) -> Iterator[Result]:
    source = module.source
    if source is None:
        return
    if source.error:
        yield ctx.unverified(UNREADABLE, module, 1, 1, f"{ctx.rel(module.path)}: {source.error}")
        return
    if not source.facts.syntax_errors:
        return
    first = source.facts.syntax_errors[0]
    verdict = ctx.syntax.get(module.path)
    if verdict is not None and verdict.status == REFUTED:
        return
    if verdict is not None and verdict.status == CONFIRMED:
        # the judge's place when it names one (node names no column at the end of the input), else the grammar's
        line, column = (verdict.line, verdict.column or 1) if verdict.line else (first.line, first.column)
        yield ctx.finding(
            ID, module, line, column, f"crashes at start: SyntaxError: {verdict.message} (confirmed by {verdict.judge})"
        )
        return
    if verdict is not None and verdict.status == UNCONFIRMED:
        yield ctx.finding(
            ID,
            module,
            first.line,
            first.column,
            f"possible SyntaxError: {first.message} (not confirmed: {verdict.judge})",
            warning=True,
        )
        return
    yield ctx.finding(ID, module, first.line, first.column, f"crashes at start: SyntaxError: {first.message}")


def module_syntax_in_commonjs(ctx: RuleContext, module: Module) -> Iterator[Result]:
    """import/export/import.meta in a file Node loads as CommonJS: V8's error for the first of them, there."""
    source = module.source
    if source is None or module.format is not Format.COMMONJS or is_typescript(module.path):
        return
    facts = source.facts
    # the parser records where the first module syntax is whenever it sees any (esm_syntax)
    if not isinstance(facts, NodeModuleFacts) or facts.first_module_syntax is None or facts.syntax_errors:
        return
    scope = ctx.analysis.packages.scope(os.path.dirname(module.path))
    if scope is not None and scope.type == "commonjs":
        why = f'{ctx.rel(scope.path)} says "type": "commonjs"'
    else:
        why = f'Node {ctx.analysis.node} does not detect module syntax in .js files without "type"'
    line, column, kind = facts.first_module_syntax
    yield ctx.finding(
        ID,
        module,
        line,
        column,
        f'crashes at start: SyntaxError: {V8_ERRORS[kind]} ({why}; rename it .mjs or set "type": "module")',
    )


# What V8 says of the first module syntax in a file it parses as CommonJS.
V8_ERRORS = {
    "import": "Cannot use import statement outside a module",
    "export": "Unexpected token 'export'",
    "import.meta": "Cannot use 'import.meta' outside a module",
}


def removed_import_assertion(ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:
    """`import x from './d.json' assert { type: 'json' }`: Node 22 removed the `assert` keyword; the file no
    longer parses (Node 18 and 20 accept it)."""
    if not edge.imp.asserted or ctx.analysis.node.major < 22 or module.format is not Format.ESM:
        return
    if is_typescript(module.path) and not ctx.analysis.compiled_typescript:
        return
    yield ctx.edge_finding(
        ID,
        module,
        edge.imp,
        f"crashes at start: SyntaxError: Unexpected identifier 'assert' (Node {ctx.analysis.node} removed import "
        "assertions): write `with { type: 'json' }`",
    )
