"""`dev-dependency-at-runtime`: code that runs in production imports a package declared only in
devDependencies, whether it is installed here (it will not be after `npm ci --omit=dev`) or not."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check import resolution as r
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import ResolvedModule, Unresolved
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.files import is_project_file
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails
from deploysafe.ecosystems.node.rules.packages import declaring_scope, section_of

ID = "dev-dependency-at-runtime"
DEV = "devDependencies"
LEFT_OUT = "which production installs (npm ci --omit=dev) leave out: move it to dependencies"


class DevDependencyAtRuntimeRule(Rule):
    id = ID
    summary = "Code that runs in production imports a package declared only in devDependencies."
    predicts = "only in `devDependencies`: `npm ci --omit=dev` leaves it out, the import crashes in production"
    help = (
        "Move the package from `devDependencies` to `dependencies`: production installs (`npm ci --omit=dev`) "
        "leave dev dependencies out."
    )

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        res, imp = edge.resolution, edge.imp
        if isinstance(res, Unresolved) and res.reason == r.PACKAGE_NOT_FOUND:
            name = res.package or imp.specifier or ""
            if section_of(ctx, module, name) == DEV:
                message = (
                    f"{when_it_fails(imp)}: Cannot find package '{name}' imported from {ctx.rel(module.path)}; "
                    f"it is only in devDependencies, {LEFT_OUT}"
                )
                yield ctx.edge_finding(ID, module, imp, message)
            return
        if not isinstance(res, ResolvedModule) or not installed_from_elsewhere(ctx, module, res):
            return
        if res.package and section_of(ctx, module, res.package) == DEV:
            message = f"{when_it_fails(imp)} in production: '{res.package}' is only in devDependencies, {LEFT_OUT}"
            yield ctx.edge_finding(ID, module, imp, message)


def installed_from_elsewhere(ctx: RuleContext, module: Module, res: ResolvedModule) -> bool:
    """A project file's bare import that resolved through node_modules to another package than its own:
    what the importer's package.json must declare."""
    if res.package is None or res.builtin or not is_project_file(module.path):
        return False
    scope = declaring_scope(ctx, module)
    return scope is not None and scope.name != res.package
