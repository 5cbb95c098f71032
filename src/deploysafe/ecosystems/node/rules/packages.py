"""What the package rules share: where an importer's package.json declares a package (if it does)."""

from __future__ import annotations

from deploysafe.check.graph import Module
from deploysafe.ecosystems.node.packages import PackageJson
from deploysafe.ecosystems.node.rules.context import RuleContext


def declaring_scope(ctx: RuleContext, module: Module) -> PackageJson | None:
    """The package.json that declares the importer's dependencies (the nearest one, never a copy tsc put in
    its output)."""
    return ctx.analysis.manifest_of(module.path)


def section_of(ctx: RuleContext, module: Module, package: str) -> str | None:
    """ "dependencies", "devDependencies", ... where the importer's package declares ``package``; None if not."""
    scope = declaring_scope(ctx, module)
    return scope.dependency_section(package) if scope else None
