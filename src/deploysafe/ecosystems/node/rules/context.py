"""What Node's rules share for one check: the graph, the analysis (resolver, formats, Node version), the
export index and the syntax second opinions; how a finding is placed and how a failure is worded."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from deploysafe.check.facts import Import, ImportKind
from deploysafe.check.findings import COMPUTED_SPECIFIER, Finding, Severity, Unverified
from deploysafe.check.graph import Edge, Module, ModuleGraph
from deploysafe.ecosystems.node.analysis import Analysis
from deploysafe.ecosystems.node.confirm import SyntaxVerdict
from deploysafe.ecosystems.node.exports import ExportIndex


@dataclass
class RuleContext:
    graph: ModuleGraph
    analysis: Analysis
    exports: ExportIndex
    syntax: dict[str, SyntaxVerdict] = field(default_factory=dict)  # second opinions, by path
    lazy: set[str] = field(default_factory=set)  # reachable files only a lazy load (require() in a function) reaches
    # files a folder loader loads at start -> "routes/ by app.js:12", said where their faults crash the start
    started_by: dict[str, str] = field(default_factory=dict)
    _by_name: dict[str, list[str]] | None = None
    # what a rule worked out once about a package file, asked again for each import of it: (rule, key) -> answer
    memo: dict[tuple[str, str], object] = field(default_factory=dict)

    def rel(self, path: str) -> str:
        return self.graph.rel(path)

    def finding(
        self,
        rule: str,
        module: Module,
        line: int,
        column: int,
        message: str,
        *,
        handled: bool = False,
        warning: bool = False,
        specifier: str | None = None,
        name: str | None = None,
    ) -> Finding:
        reachable = self.graph.is_reachable(module.path)
        severe = reachable and not handled and not warning
        if module.path in self.lazy and message.startswith(AT_START):
            message = LAZILY + message[len(AT_START) :]
        elif module.path in self.started_by and message.startswith(AT_START + ":"):
            message = f"{AT_START} (loaded from {self.started_by[module.path]}){message[len(AT_START) :]}"
        elif not reachable and message.startswith(AT_START):  # a dormant file crashes nothing until loaded
            message = IF_LOADED + message
        return Finding(
            rule=rule,
            severity=Severity.ERROR if severe else Severity.WARNING,
            file=self.rel(module.path),
            line=line,
            column=column,
            message=message,
            reachable=reachable,
            chain=tuple(self.graph.chain(module.path)),
            specifier=specifier,
            name=name,
        )

    def edge_finding(self, rule: str, module: Module, imp: Import, message: str, *, warning: bool = False) -> Finding:
        """A finding at an import; a failure the code catches itself is said so and is only a warning."""
        return self.finding(
            rule,
            module,
            imp.line,
            imp.column,
            message + handled_note(imp),
            handled=imp.guarded or imp.dev_only or bool(imp.feature_test),
            warning=warning,
            specifier=imp.specifier,
        )

    def files_named(self, basename: str) -> list[str]:
        if self._by_name is None:
            self._by_name = {}
            for path in self.graph.modules:
                self._by_name.setdefault(os.path.basename(path), []).append(path)
        return self._by_name.get(basename, [])

    def files_exporting(self, names: set[str]) -> list[str]:
        return [m.path for m in self.graph.modules.values() if m.source is not None and names <= m.source.facts.exports]

    def unverified(self, reason: str, module: Module, line: int, column: int, detail: str) -> Unverified:
        return Unverified(reason, self.rel(module.path), line, column, detail, self.graph.is_reachable(module.path))

    def not_followed(self, module: Module, edge: Edge) -> Unverified:
        """A specifier computed at run time: the edge is reported, never dropped."""
        imp = edge.imp
        call = "require" if imp.kind is ImportKind.REQUIRE else "import"
        return self.unverified(
            COMPUTED_SPECIFIER,
            module,
            imp.line,
            imp.column,
            f"{call}({imp.expression or '...'}): the specifier is computed at run time and was not followed",
        )


AT_START = "crashes at start"
IF_LOADED = "if loaded, "  # before AT_START in a dormant file: no entry loads it today
LAZILY = "fails when this code runs (only a lazy require() or import() loads this file)"


def when_it_fails(imp: Import) -> str:
    if imp.started_by:
        return f"crashes at start (loaded from {imp.started_by})"
    if imp.resolve_only:
        call = "require.resolve()" if imp.kind is ImportKind.REQUIRE else "import.meta.resolve()"
        return f"fails when this {call} runs" if imp.in_function else "crashes at start"
    if imp.kind is ImportKind.DYNAMIC:
        return "fails when this import() runs"
    if imp.kind is ImportKind.REQUIRE and imp.in_function:
        return "fails when this require() runs"
    return "crashes at start"


def handled_note(imp: Import) -> str:
    if imp.guarded:
        return " (the code catches this failure)"
    if imp.dev_only:
        return " (only when NODE_ENV is not 'production': production never runs it)"
    if imp.feature_test:
        return f" (only where `{imp.feature_test}` says so: a feature test guards it)"
    return ""


def specifier_from(importer: str, path: str) -> str:
    rel = os.path.relpath(path, os.path.dirname(importer)).replace(os.sep, "/")
    return rel if rel.startswith("../") else "./" + rel


def relativize(ctx: RuleContext, text: str) -> str:
    return text.replace(ctx.graph.root + os.sep, "")
