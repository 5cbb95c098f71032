"""`case-mismatch`: an import that finds its file only when letter case is ignored."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check import resolution as r
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import Unresolved
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails

ID = "case-mismatch"


class CaseMismatchRule(Rule):
    id = ID
    summary = "An import matches a file only when letter case is ignored; Linux does not ignore it."
    predicts = "works on macOS and Windows, `ERR_MODULE_NOT_FOUND` on Linux"
    help = (
        "Write the import with the exact letter case of the file on disk: Linux file systems "
        "are case-sensitive, macOS and Windows usually are not."
    )
    edges = "unresolved"

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        res = edge.resolution
        if not isinstance(res, Unresolved) or res.reason != r.CASE_MISMATCH:
            return
        imp = edge.imp
        actual = ctx.rel(res.actual) if res.actual else "?"
        yield ctx.edge_finding(
            ID,
            module,
            imp,
            f"{when_it_fails(imp)} on Linux: Cannot find module '{imp.specifier or ''}' imported from "
            f"{ctx.rel(module.path)}; the file exists as {actual} ({res.detail}; macOS and Windows ignore letter "
            "case, Linux does not)",
        )
