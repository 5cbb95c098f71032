"""`circular-import`: project modules that import each other, statically, in a cycle. A warning: Node
loads cycles, but a binding used while the cycle is still loading is undefined or in its temporal dead
zone."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check.facts import ImportKind
from deploysafe.check.findings import Severity
from deploysafe.check.graph import cycle_through, strongly_connected
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.rules.context import RuleContext

ID = "circular-import"


class CircularImportRule(Rule):
    id = ID
    summary = "Modules import each other in a cycle; bindings may be undefined while it loads."
    predicts = "modules that import each other (warning)"
    help = (
        "Break the cycle (move the shared code to a module both import), or make sure no binding is used "
        "while the cycle is still loading."
    )
    level = Severity.WARNING

    def check_graph(self, ctx: RuleContext) -> Iterator[Result]:  # type: ignore[override]
        yield from circular_imports(ctx)


def circular_imports(ctx: RuleContext) -> Iterator[Result]:
    """One warning per cycle of statically linked project modules (strongly connected component)."""
    graph = ctx.graph
    nodes = [p for p in graph.parents if p in graph.modules]
    successors: dict[str, list[str]] = {}
    for path in nodes:
        targets = []
        for edge in graph.modules[path].edges:
            target = edge.target_path
            static = edge.imp.kind.is_esm_link or (
                edge.imp.kind is ImportKind.REQUIRE and not edge.imp.in_function and not edge.imp.resolve_only
            )
            if target and static and not edge.imp.type_only and target in graph.modules and target != path:
                targets.append(target)
        successors[path] = targets
    for component in strongly_connected(nodes, successors):
        if len(component) < 2:
            continue
        cycle = cycle_through(component, successors)
        first = graph.modules[cycle[0]]
        edge = next(e for e in first.edges if e.target_path == cycle[1])
        shown = " → ".join(graph.rel(p) for p in [*cycle, cycle[0]])
        yield ctx.finding(
            ID,
            first,
            edge.imp.line,
            edge.imp.column,
            f"circular import: {shown}; bindings used while the cycle loads are undefined or in their "
            "temporal dead zone",
            warning=True,
            specifier=edge.imp.specifier,
        )
