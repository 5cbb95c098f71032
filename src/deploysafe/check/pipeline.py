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
from deploysafe.check.findings import STALE_BUILD, UNREADABLE, UNRESOLVED_IMPORT, Finding, Severity, Unverified
from deploysafe.check.fs import FileSystem
from deploysafe.check.scan import DEFAULT_EXCLUDES, ScanProblem, scan
from deploysafe.ecosystems.node.entries import Entry, detect_entries
from deploysafe.ecosystems.node.nodeversion import NodeVersion, assume
from deploysafe.ecosystems.node.packages import PackageJson, PackageJsonCache
from deploysafe.ecosystems.node.typescript import TypeScriptRun, typescript_run
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
    findings += _start_problems(project.root, typescript)
    unverified += _stale_build(project.root, typescript)
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
        typescript=typescript,
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


def _start_problems(root: str, typescript: TypeScriptRun | None) -> list[Finding]:
    """The start command runs a file tsc writes elsewhere: Node stops before any import."""
    found = []
    for problem in typescript.start_problems if typescript else ():
        line, column = _locate(os.path.join(root, "package.json"), problem.start)
        message = (
            f"crashes at start: Cannot find module '{problem.start}': tsc compiles {problem.source} to "
            f"{problem.emitted}, not {problem.start}; {problem.why}"
        )
        found.append(
            Finding(UNRESOLVED_IMPORT, Severity.ERROR, "package.json", line, column, message, True, (), problem.start)
        )
    return found


def _stale_build(root: str, typescript: TypeScriptRun | None) -> list[Unverified]:
    """tsc's output on disk predates its sources: what is checked is not what a build would give."""
    if typescript is None or not typescript.stale or typescript.build is None:
        return []
    out_dir = os.path.relpath(typescript.build.out_dir or root, root).replace(os.sep, "/")
    shown = ", ".join(typescript.stale[:3]) + (
        f" and {len(typescript.stale) - 3} more" if len(typescript.stale) > 3 else ""
    )
    detail = f"{out_dir}/ is stale: rebuild before pack ({shown} changed after the last build or has no output)"
    return [Unverified(STALE_BUILD, typescript.stale[0], 1, 1, detail, True)]


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
