"""`missing-import-attribute`: an ES module imports JSON without `with { type: 'json' }`."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check.facts import ImportKind
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import ResolvedModule
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.formats import Format, is_typescript
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails

ID = "missing-import-attribute"


class MissingImportAttributeRule(Rule):
    id = ID
    summary = "An ES module imports JSON without `with { type: 'json' }`."
    predicts = "JSON imported from ESM without `with { type: 'json' }`"
    help = "Add `with { type: 'json' }` to the import of the JSON file."
    edges = "resolved"

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        if isinstance(edge.resolution, ResolvedModule):
            yield from import_attribute(ctx, module, edge, edge.resolution)


def import_attribute(ctx: RuleContext, module: Module, edge: Edge, res: ResolvedModule) -> Iterator[Result]:
    """An ES module that imports JSON must say `with { type: 'json' }` (TypeError at start otherwise)."""
    imp = edge.imp
    if imp.kind is ImportKind.REQUIRE or imp.resolve_only or res.path is None or not res.path.endswith(".json"):
        return
    if module.format is not Format.ESM or (is_typescript(module.path) and not ctx.analysis.compiled_typescript):
        return
    if ("type", "json") in imp.attributes:
        return
    target = ctx.rel(res.path)
    yield ctx.edge_finding(
        ID,
        module,
        imp,
        f'{when_it_fails(imp)}: TypeError [ERR_IMPORT_ASSERTION_TYPE_MISSING]: Module "{target}" needs an import '
        "attribute of type \"json\": write `with { type: 'json' }`",
    )
