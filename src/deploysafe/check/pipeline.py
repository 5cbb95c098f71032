"""`deploysafe.check()`: from a project root to a verdict, in four named steps.

load the project  ->  find the entries  ->  build the module graph  ->  run the rules
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deploysafe import config as config_file
from deploysafe.check.findings import UNREADABLE, Finding, Severity, Unverified
from deploysafe.check.fs import FileSystem
from deploysafe.check.scan import DEFAULT_EXCLUDES, ScanProblem, scan
from deploysafe.ecosystems.node.entries import Entry, compiled_output_for, detect_entries
from deploysafe.ecosystems.node.nodeversion import NodeVersion, assume
from deploysafe.ecosystems.node.packages import PackageJson, PackageJsonCache
from deploysafe.errors import ConfigError, ProjectError

if TYPE_CHECKING:
    from deploysafe.check.graph import Analysis, ModuleGraph

REPORT_VERSION = 1


@dataclass
class Report:
    root: str
    entries: list[Entry]
    node: NodeVersion
    findings: list[Finding]
    unverified: list[Unverified]
    dormant: list[str]
    files: int
    reachable: int
    seconds: float
    parsed: int
    problems: list[ScanProblem] = field(default_factory=list)
    graph: ModuleGraph | None = field(default=None, repr=False)
    # How TypeScript entries run, and why we think so (None when no entry is TypeScript).
    typescript: TypeScriptRun | None = None

    @property
    def errors(self) -> list[Finding]:
        return [x for x in self.findings if x.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [x for x in self.findings if x.severity is Severity.WARNING]

    @property
    def deployable(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.deployable else 1

    def summary(self) -> dict[str, int]:
        return {
            "files": self.files,
            "reachable": self.reachable,
            "dormant": len(self.dormant),
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "unverified": len(self.unverified),
        }

    def to_json(self) -> dict[str, object]:
        return {
            "version": REPORT_VERSION,
            "root": self.root,
            "entries": [e.path for e in self.entries],
            "summary": self.summary(),
            "findings": [x.to_json() for x in self.findings],
            "dormant": self.dormant,
            "unverified": [x.to_json() for x in self.unverified],
            "entry_reasons": {e.path: e.reason for e in self.entries},
            "node": {"version": str(self.node), "source": self.node.source},
            **({"typescript": self.typescript.to_json()} if self.typescript else {}),
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Project:
    root: str
    config: config_file.Config
    package: PackageJson | None


def load_project(root: str | os.PathLike[str]) -> Project:
    path = Path(root)
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError as err:
        raise ProjectError(f"{root}: {err.strerror}") from err
    if not exists:
        raise ConfigError(f"{root}: no such directory")
    if not is_dir:
        raise ConfigError(f"{root}: not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ProjectError(f"{root}: permission denied")
    real = os.path.realpath(path)
    config = config_file.load(Path(real))
    fs = FileSystem()
    package = PackageJsonCache(fs).at(real)
    if package is not None and package.error:
        if "nested too deeply" in package.error:  # Node reads it; deploysafe cannot follow it
            raise ProjectError(f"{package.path}: {package.error}; deploysafe cannot check this project")
        raise ProjectError(f"{package.path}: {package.error} (Node refuses to load a malformed package.json)")
    return Project(real, config, package)


def check(
    root: str | os.PathLike[str],
    entries: list[str] | None = None,
    *,
    node_version: str | None = None,
    exclude: list[str] | None = None,
    cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Check that the import closure of ``entries`` (detected when None) will load in production."""
    started = time.perf_counter()
    project = load_project(root)
    settings = project.config.check
    found_entries = detect_entries(project.root, list(entries or []), list(settings.entries), project.package)
    typescript = typescript_run(project.root, project.package, found_entries, settings.typescript)
    engines = project.package.engines_node if project.package else None
    node = assume(node_version, settings.node, engines)
    scanned = scan(project.root, exclude=[*DEFAULT_EXCLUDES, *settings.exclude, *(exclude or [])])

    analysis = _analysis(project.root, node, typescript, cache)
    graph = _graph(analysis, project.root, found_entries, scanned.files, progress)
    findings, unverified = _findings(analysis, graph)
    unverified += [Unverified(UNREADABLE, p.path, 1, 1, p.message, False) for p in scanned.problems]
    unverified.sort(key=lambda x: (not x.reachable, x.file, x.line))
    analysis.loader.cache.close()

    reachable = [p for p in graph.parents if p in graph.modules and graph.modules[p].source is not None]
    return Report(
        root=project.root,
        entries=found_entries,
        node=node,
        findings=findings,
        unverified=unverified,
        dormant=[graph.rel(p) for p in graph.dormant],
        files=len(set(reachable) | {os.path.join(project.root, f) for f in scanned.files}),
        reachable=len(reachable),
        seconds=time.perf_counter() - started,
        parsed=analysis.loader.parsed,
        problems=scanned.problems,
        graph=graph,
        typescript=typescript,
    )


def _analysis(root: str, node: NodeVersion, typescript: TypeScriptRun | None, cache: bool) -> Analysis:
    """The caches and the resolver one check shares between its stages."""
    # The parse, resolve and rule stages load here, not at import: `deploysafe --help` stays instant.
    from deploysafe.check.cache import FactsCache
    from deploysafe.check.graph import Analysis
    from deploysafe.check.sources import SourceLoader
    from deploysafe.ecosystems.node.resolve import NodeResolver
    from deploysafe.ecosystems.node.tsconfig import TsconfigLoader

    fs = FileSystem()
    packages = PackageJsonCache(fs)
    return Analysis(
        root=root,
        node=node,
        fs=fs,
        packages=packages,
        resolver=NodeResolver(fs, packages, node, TsconfigLoader(fs, stop_at=os.path.dirname(root))),
        loader=SourceLoader(FactsCache(enabled=cache)),
        compiled_typescript=typescript is not None and typescript.compiled,
        aliases_rewritten=typescript is not None and typescript.aliases_rewritten,
    )


def _graph(
    analysis: Analysis,
    root: str,
    entries: list[Entry],
    scanned: list[str],
    progress: Callable[[int, int], None] | None,
) -> ModuleGraph:
    from deploysafe.check.graph import build_graph

    return build_graph(
        analysis,
        [os.path.realpath(os.path.join(root, e.path)) for e in entries],
        [os.path.join(root, f) for f in scanned],
        progress,
        _preload_imports(root, entries),
    )


def _findings(analysis: Analysis, graph: ModuleGraph) -> tuple[list[Finding], list[Unverified]]:
    """Every rule over the graph; syntax errors get a second opinion first."""
    from deploysafe.ecosystems.node.confirm import confirm
    from deploysafe.ecosystems.node.exports import ExportIndex
    from deploysafe.ecosystems.node.rules import RuleContext, run_rules

    broken = [m.path for m in graph.modules.values() if m.source and m.source.facts.syntax_errors]
    broken.sort(key=lambda p: (not graph.is_reachable(p), p))
    context = RuleContext(graph, analysis, ExportIndex(analysis), confirm(broken, analysis.root))
    findings, unverified = run_rules(context)
    findings.sort(key=lambda x: (x.severity is not Severity.ERROR, x.file, x.line, x.column, x.rule))
    return findings, unverified


@dataclass(frozen=True)
class TypeScriptRun:
    """How the TypeScript entries run: their sources under tsx/ts-node, or tsc's output under node."""

    compiled: bool
    reason: str
    aliases_rewritten: bool = False

    def to_json(self) -> dict[str, object]:
        return {"mode": "compiled" if self.compiled else "source", "reason": self.reason}


_ALIAS_TOOLS = ("tsc-alias", "tsconfig-paths", "module-alias", "tspc", "ts-patch")


def typescript_run(
    root: str, package: PackageJson | None, entries: list[Entry], configured: str | None
) -> TypeScriptRun | None:
    """Compiled when deploysafe.toml says so, when the start command runs tsc's output of an entry
    (`node dist/index.js` for src/index.ts), else the sources run under tsx or ts-node."""
    if not any(e.path.endswith((".ts", ".mts", ".cts", ".tsx")) for e in entries):
        return None
    scripts = package.data.get("scripts") if package else None
    text = " ".join(v for v in scripts.values() if isinstance(v, str)) if isinstance(scripts, dict) else ""
    aliases = any(tool in text for tool in _ALIAS_TOOLS)
    if configured is not None:
        return TypeScriptRun(configured == "compiled", "deploysafe.toml [check] typescript", aliases)
    for entry in entries:
        output = entry.compiled_to or compiled_output_for(root, package, entry.path)
        if output:
            reason = f"node runs {output}, which tsc compiles from {entry.path}"
            return TypeScriptRun(True, reason, aliases)
    return TypeScriptRun(False, "the sources run under tsx or ts-node", aliases)


def _preload_imports(root: str, entries: list[Entry]) -> dict[str, list]:
    """The `node -r X` / `--import X` modules of the start commands, as imports of the file holding them."""
    from deploysafe.check.facts import Import, ImportKind

    found: dict[str, list] = {}
    for entry in entries:
        for preload in entry.preloads:
            path = os.path.join(root, preload.declared_in)
            line, column = _locate(path, preload.specifier)
            kind = ImportKind.STATIC if preload.esm else ImportKind.REQUIRE
            imports = found.setdefault(path, [])
            if all(i.specifier != preload.specifier for i in imports):
                imports.append(Import(kind, preload.specifier, line, column))
    return found


def _locate(path: str, text: str) -> tuple[int, int]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if text in line:
                    return number, line.index(text) + 1
    except OSError:
        pass
    return 1, 1
