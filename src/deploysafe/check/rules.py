"""Rules as units: one small class per rule id, a registry per ecosystem, and the one loop that runs them.

A :class:`Rule` carries everything said about it anywhere: its stable ``id`` (the JSON and SARIF contracts
name it), a one-line ``summary``, what the runtime does when the fault ships (``predicts``: the README's
rule table), ``help`` (how to fix it; SARIF shows it), its default ``level``, and its check. A rule looks
at one module, one edge or the whole graph and yields findings, or :class:`Unverified` for what it cannot
prove; it never prints. ``deploysafe rules``, the SARIF rule metadata and the README's table all come from
(or are tested against) a :class:`RuleSet`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol

from deploysafe.check.findings import Finding, Severity, Unverified
from deploysafe.check.resolution import Unresolved

if TYPE_CHECKING:
    from deploysafe.check.graph import Edge, Module, ModuleGraph

Result = Finding | Unverified


class Context(Protocol):
    """What every rule of an ecosystem shares for one check (the ecosystem's own context adds the rest)."""

    graph: ModuleGraph

    def not_followed(self, module: Module, edge: Edge) -> Unverified: ...  # a computed specifier


class Rule:
    """One rule. Subclasses set the class attributes and override the hooks they need."""

    id: ClassVar[str]
    summary: ClassVar[str]  # one line: what the rule finds
    predicts: ClassVar[str]  # what the runtime does when this ships
    help: ClassVar[str]  # how to fix it
    level: ClassVar[Severity] = Severity.ERROR  # when the file is reachable and nothing handles the failure
    # The edges check_edge looks at: "resolved", "unresolved" or "any" (the runner skips the others, so a
    # rule costs nothing on edges it never judges).
    edges: ClassVar[str] = "any"

    def check_module(self, ctx: Context, module: Module) -> Iterable[Result]:
        return ()

    def check_edge(self, ctx: Context, module: Module, edge: Edge) -> Iterable[Result]:
        """Called for every edge that is not type-only (erased before anything runs)."""
        return ()

    def check_graph(self, ctx: Context) -> Iterable[Result]:
        return ()

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "summary": self.summary,
            "predicts": self.predicts,
            "help": self.help,
            "level": str(self.level),
        }


class RuleSet(Sequence[Rule]):
    """An ecosystem's rules, in their stable order (SARIF rule indexes follow it); ids are unique."""

    def __init__(self, ecosystem: str, rules: Iterable[Rule], *, tag: str | None = None) -> None:
        self.ecosystem = ecosystem
        self.tag = tag or ecosystem  # how code scanning tags the language ("nodejs")
        self._rules = tuple(rules)
        self._by_id = {rule.id: rule for rule in self._rules}
        if len(self._by_id) != len(self._rules):
            raise ValueError(f"{ecosystem}: two rules share an id")
        # Each hook is called only on the rules that define it (a check runs it for every module and edge).
        self._on_module = [r for r in self._rules if _defines(r, "check_module")]
        self._on_graph = [r for r in self._rules if _defines(r, "check_graph")]
        on_edge = [r for r in self._rules if _defines(r, "check_edge")]
        if any(r.edges not in ("any", "resolved", "unresolved") for r in on_edge):
            raise ValueError(f"{ecosystem}: a rule's edges must be 'any', 'resolved' or 'unresolved'")
        self._on_any = [r for r in on_edge if r.edges == "any"]
        self._on_resolved = [r for r in on_edge if r.edges == "resolved"]
        self._on_unresolved = [r for r in on_edge if r.edges == "unresolved"]

    def __getitem__(self, index):
        return self._rules[index]

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    @property
    def ids(self) -> list[str]:
        return [rule.id for rule in self._rules]

    def get(self, rule_id: str) -> Rule | None:
        return self._by_id.get(rule_id)

    def run(self, ctx: Context) -> tuple[list[Finding], list[Unverified]]:
        """Every rule over the graph: module by module, each edge once, then the graph as a whole. An
        edge whose specifier is computed is unverified, never dropped."""
        results: list[Result] = []
        on_module, on_any, on_resolved, on_unresolved = (
            self._on_module,
            self._on_any,
            self._on_resolved,
            self._on_unresolved,
        )
        for module in ctx.graph.modules.values():
            for rule in on_module:
                results.extend(rule.check_module(ctx, module))
            for edge in module.edges:
                if edge.imp.type_only:
                    continue
                for rule in on_any:
                    results.extend(rule.check_edge(ctx, module, edge))
                if edge.resolution is None:
                    results.append(ctx.not_followed(module, edge))
                    continue
                for rule in on_unresolved if isinstance(edge.resolution, Unresolved) else on_resolved:
                    results.extend(rule.check_edge(ctx, module, edge))
        for rule in self._on_graph:
            results.extend(rule.check_graph(ctx))
        found = [x for x in results if isinstance(x, Finding)]
        unverified = [x for x in results if isinstance(x, Unverified)]
        return found, unverified


def _defines(rule: Rule, hook: str) -> bool:
    return getattr(type(rule), hook) is not getattr(Rule, hook)
