"""`undeclared-dependency`: a package that loads today only because another package brought it into
node_modules (hoisting); it breaks when that package changes. A warning: nothing fails yet."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check.findings import Severity
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import ResolvedModule
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.rules.context import RuleContext
from deploysafe.ecosystems.node.rules.dev_dependency_at_runtime import installed_from_elsewhere
from deploysafe.ecosystems.node.rules.packages import declaring_scope

ID = "undeclared-dependency"


class UndeclaredDependencyRule(Rule):
    id = ID
    summary = "A bare import names a package that is installed but not declared in package.json."
    predicts = "loads today because another package hoisted it; breaks when that package changes (warning)"
    help = (
        "Declare the package in `dependencies`: today it is only there because another package brings it, "
        "and it disappears when that package changes."
    )
    edges = "resolved"
    level = Severity.WARNING

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        res, imp = edge.resolution, edge.imp
        if not isinstance(res, ResolvedModule) or not installed_from_elsewhere(ctx, module, res) or res.package is None:
            return
        scope = declaring_scope(ctx, module)
        if scope is None or scope.dependency_section(res.package) is not None:
            return
        yield ctx.finding(
            ID,
            module,
            imp.line,
            imp.column,
            f"'{res.package}' loads today only because another package brought it into node_modules; it is not "
            f"in {ctx.rel(scope.path)}, so it breaks when that package changes: add it to dependencies",
            warning=True,
            specifier=imp.specifier,
        )
