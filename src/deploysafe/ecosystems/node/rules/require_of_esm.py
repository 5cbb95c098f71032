"""`require-of-esm`: require() of an ES module on a Node that cannot do it, or of an ES module graph with
top-level await (which no Node can require)."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check.facts import ImportKind
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import ResolvedModule
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.formats import Format, is_typescript
from deploysafe.ecosystems.node.parse.facts import NodeModuleFacts
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails

ID = "require-of-esm"


class RequireOfEsmRule(Rule):
    id = ID
    summary = "require() of an ES module that this Node version cannot load synchronously."
    predicts = "`require()` of ESM on a Node without it, or of a graph with top-level await"
    help = (
        "Load the ES module with `await import()`, convert the importing file to an ES module, or run a Node "
        "version that supports require() of ES modules."
    )
    edges = "resolved"

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        if isinstance(edge.resolution, ResolvedModule):
            yield from require_of_esm(ctx, module, edge, edge.resolution)


def require_of_esm(ctx: RuleContext, module: Module, edge: Edge, res: ResolvedModule) -> Iterator[Result]:
    imp = edge.imp
    if imp.kind is not ImportKind.REQUIRE or imp.resolve_only or res.path is None or is_typescript(module.path):
        return
    if ctx.analysis.format_of(res.path) is not Format.ESM:
        return
    node = ctx.analysis.node
    target = ctx.rel(res.path)
    if not node.requires_esm:
        message = f"Error [ERR_REQUIRE_ESM]: require() of ES Module {target} not supported on Node {node}"
    elif _has_top_level_await(ctx, res.path, set()):
        message = "Error [ERR_REQUIRE_ASYNC_MODULE]: require() cannot be used on an ESM graph with top-level await"
    else:
        return
    yield ctx.edge_finding(ID, module, imp, f"{when_it_fails(imp)}: {message} (use import() instead)")


def _has_top_level_await(ctx: RuleContext, path: str, seen: set[str]) -> bool:
    if path in seen or not path.endswith((".js", ".mjs", ".ts", ".mts")):
        return False
    seen.add(path)
    source = ctx.analysis.loader.get(path)
    if isinstance(source.facts, NodeModuleFacts) and source.facts.top_level_await:
        return True
    for imp in source.facts.imports:
        if imp.kind.is_esm_link and imp.specifier and not imp.type_only:
            res = ctx.analysis.resolve(imp.specifier, path, for_require=False)
            if isinstance(res, ResolvedModule) and res.path and _has_top_level_await(ctx, res.path, seen):
                return True
    return False
