"""`missing-package`: a bare import of a package that is neither installed nor declared. A package that is
declared but not installed here cannot be judged: it is unverified (run npm ci)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from deploysafe.check import resolution as r
from deploysafe.check.facts import Import
from deploysafe.check.findings import NOT_INSTALLED
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import Unresolved
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.pnp_zip import MISSING_ARCHIVE
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails
from deploysafe.ecosystems.node.rules.packages import declaring_scope

ID = "missing-package"
DEV = "devDependencies"  # a missing dev dependency is dev-dependency-at-runtime's


class MissingPackageRule(Rule):
    id = ID
    summary = "A bare import names a package that is neither installed nor declared."
    predicts = "`Cannot find package 'x'`: neither installed nor declared"
    help = "Add the package to `dependencies` in package.json (`npm install NAME`) so that production installs it."
    edges = "unresolved"

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        res = edge.resolution
        if not isinstance(res, Unresolved) or res.reason != r.PACKAGE_NOT_FOUND:
            return
        imp = edge.imp
        name = res.package or imp.specifier or ""
        scope = declaring_scope(ctx, module)
        section = scope.dependency_section(name) if scope else None
        if section == DEV:
            return
        if ctx.analysis.pnp and res.detail:  # Yarn PnP refuses it (see pnp_map.py)
            yield ctx.edge_finding(ID, module, imp, _pnp_refusal(imp, name, res.detail, section))
            return
        if section is not None and ctx.analysis.pnp:
            return  # said once for the project: the PnP map or the package's archive could not be read
        if section is not None:
            yield ctx.unverified(
                NOT_INSTALLED,
                module,
                imp.line,
                imp.column,
                f"'{name}' is declared in {section} but not installed here; run npm ci to check what is imported "
                "from it",
            )
            return
        where = f" or declared in {ctx.rel(scope.path)}" if scope else ""
        root = ctx.graph.root
        nested = ctx.analysis.installed.unreachable_copy(name)
        deeper = f" (only {nested} has it, for another package; Node does not look there)" if nested else ""
        yield ctx.edge_finding(
            ID,
            module,
            imp,
            f"{when_it_fails(imp)}: Cannot find package '{name}' imported from {ctx.rel(module.path)}; it is not "
            f"installed{where}{deeper}: add it to dependencies ({_adder(ctx, scope.dir if scope else root)} {name})",
        )


def _pnp_refusal(imp: Import, name: str, detail: str, section: str | None) -> str:
    """PnP's own error for an import its map refuses, with the fix."""
    if detail.startswith(MISSING_ARCHIVE):
        fix = "run yarn install and ship .yarn/cache with .pnp.cjs"
    elif section is not None:
        fix = f"it is in {section} of package.json but not in the PnP map: run yarn install and ship the new .pnp.cjs"
    elif "peer dependency" in detail:
        fix = f"add {name} to the dependencies of the package that provides the peer"
    else:
        fix = f"add it to dependencies (yarn add {name})"
    return f"{when_it_fails(imp)}: Yarn PnP: {detail}; {fix}"


_ADD = (("pnpm-lock.yaml", "pnpm add"), ("yarn.lock", "yarn add"), ("package-lock.json", "npm install"))


def _adder(ctx: RuleContext, folder: str) -> str:
    """The command that adds a package in ``folder``, looked up once per folder and check."""
    key = (ID, f"adder:{folder}")
    if key not in ctx.memo:
        ctx.memo[key] = _add_command(folder)
    return str(ctx.memo[key])


def _add_command(folder: str) -> str:
    """How to add a package with the package manager whose lockfile is nearest (npm when none is)."""
    for _ in range(16):
        for lockfile, command in _ADD:
            if os.path.isfile(os.path.join(folder, lockfile)):
                return command
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return "npm install"
