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
        for module in ctx.graph.modules.values():
            for rule in self._rules:
                results.extend(rule.check_module(ctx, module))
            for edge in module.edges:
                if edge.imp.type_only:
                    continue
                for rule in self._rules:
                    results.extend(rule.check_edge(ctx, module, edge))
                if edge.resolution is None:
                    results.append(ctx.not_followed(module, edge))
        for rule in self._rules:
            results.extend(rule.check_graph(ctx))
        found = [x for x in results if isinstance(x, Finding)]
        unverified = [x for x in results if isinstance(x, Unverified)]
        return found, unverified
