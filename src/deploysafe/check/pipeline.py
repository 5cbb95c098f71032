"""`deploysafe.check()`: from a project root to a verdict, in named steps.

load the project  ->  open its ecosystem (entries, runtime)  ->  scan  ->  build the module graph
->  run the rules

A folder below the root that is a project of its own (a ``frontend/`` with its own package.json) and that
no entry loads from is another application: it is listed once in ``nested`` and not scanned, so its files
are neither dormant code nor warnings. When an entry does load a file in it, it is part of the service and
scanned like the rest. ``[check] include_nested = true`` scans every such folder.

Nothing here knows a language: the ecosystem (:mod:`deploysafe.check.ecosystem`) answers every question
that depends on one.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploysafe import config as config_file
from deploysafe.check.ecosystem import Ecosystem, Entry, LanguageCheck, Project, Runtime, RuntimeChoice
from deploysafe.check.findings import UNREADABLE, Finding, Severity, Unverified
from deploysafe.check.scan import ScanProblem, ScanResult, scan
from deploysafe.errors import ConfigError, ProjectError

if TYPE_CHECKING:
    from deploysafe.check.graph import ModuleGraph
    from deploysafe.check.rules import RuleSet

REPORT_VERSION = 1


@dataclass
class Report:
    root: str
    entries: Sequence[Entry]
    runtime: Runtime
    findings: list[Finding]
    unverified: list[Unverified]
    dormant: list[str]
    files: int
    reachable: int
    seconds: float
    parsed: int
    problems: list[ScanProblem] = field(default_factory=list)
    graph: ModuleGraph | None = field(default=None, repr=False)
    rules: RuleSet | None = field(default=None, repr=False)  # the rules that judged it, for SARIF
    nested: list[NestedProject] = field(default_factory=list)  # other projects inside the root, not scanned
    root_reason: str | None = None  # why ``root`` is the root, when it was found from a folder inside it
    root_start: str | None = None  # the folder the root was found from

    def __getattr__(self, name: str) -> Any:  # the ecosystem's own types: a Node run's NodeVersion, ...
        """What the ecosystem knows of the run, by its own names (``report.node``, ``report.typescript``)."""
        if name.startswith("_") or name == "runtime":
            raise AttributeError(name)
        try:
            return getattr(self.runtime, name)
        except AttributeError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}") from None

    @property
    def errors(self) -> list[Finding]:
        return [x for x in self.findings if x.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [x for x in self.findings if x.severity is Severity.WARNING]

    @property
    def root_moved(self) -> bool:
        """True when the root was found above the folder the command was pointed at."""
        return self.root_start is not None and self.root_start != self.root

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
            "root_reason": self.root_reason,
            "entries": [e.path for e in self.entries],
            "summary": self.summary(),
            "findings": [x.to_json() for x in self.findings],
            "dormant": self.dormant,
            "unverified": [x.to_json() for x in self.unverified],
            "entry_reasons": {e.path: e.reason for e in self.entries},
            **self.runtime.to_json(),
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "nested": [{"path": n.path, "reason": n.reason} for n in self.nested],
            "seconds": round(self.seconds, 3),
        }


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
    return Project(real, config_file.load(Path(real)))


def check(
    root: str | os.PathLike[str],
    entries: list[str] | None = None,
    *,
    node_version: str | RuntimeChoice | None = None,
    exclude: list[str] | None = None,
    cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
    ecosystem: Ecosystem | None = None,
) -> Report:
    """Check that the import closure of ``entries`` (detected when None) will load in production.

    ``node_version`` is the runtime version to assume (the ecosystem's own default otherwise), a
    :class:`RuntimeChoice` when a deploy target's recorded version says why;
    ``ecosystem`` is detected from the project's manifest when None.
    """
    session = CheckSession(root, entries, node_version=node_version, exclude=exclude, cache=cache, ecosystem=ecosystem)
    try:
        return session.check(progress=progress)
    finally:
        session.close()


class CheckSession:
    """A check kept open between runs (``check --watch``): the project's ecosystem with its resolver caches,
    and every file's facts, stay in memory. After edits that only change the content of files the last
    graph holds, a re-check reads those files again and rebuilds the graph and the verdict from what is
    known; anything else (a file added, removed or renamed, a manifest or config edited) opens the project
    afresh, as a new check would (the facts cache still spares parsing unchanged files)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        entries: list[str] | None = None,
        *,
        node_version: str | RuntimeChoice | None = None,
        exclude: list[str] | None = None,
        cache: bool = True,
        ecosystem: Ecosystem | None = None,
    ) -> None:
        self.root = root
        self._options = (entries, node_version, exclude, cache, ecosystem)
        self._open: tuple[Project, LanguageCheck, ScanResult, list[NestedProject]] | None = None
        self._known: frozenset[str] = frozenset()  # project files the last graph holds, absolute

    def check(
        self, changed: Collection[str] | None = None, progress: Callable[[int, int], None] | None = None
    ) -> Report:
        """A verdict on the project as it is now. ``changed``: absolute paths changed since the last call
        (None: unknown, open afresh)."""
        with _collector_paused():
            return self._check(changed, progress)

    def _check(self, changed: Collection[str] | None, progress: Callable[[int, int], None] | None) -> Report:
        started = time.perf_counter()
        if self._open is not None and (changed is None or not self.reusable(changed)):
            self.close()
        if self._open is None:
            entries, node_version, exclude, cache, ecosystem = self._options
            project = load_project(self.root)
            settings = project.config.check
            chosen = ecosystem or _ecosystem_of(project)
            language = _open(project, settings, entries, node_version, cache, chosen)
            try:
                scanned = _scan(project, settings, language, exclude)
            except BaseException:
                language.close()
                raise
            nested = [] if settings.include_nested else nested_projects(chosen, project.root, scanned.files)
            self._open = (project, language, scanned, nested)
        else:
            language = self._open[1]
            language.modules.forget(changed or ())
        project, language, scanned, nested = self._open
        graph = _graph(language, _outside(scanned.files, nested), progress)
        reached = [n for n in nested if _reaches_into(graph, project.root, n.path)]
        if reached:  # part of the service after all: its files are the service's, dormant ones included
            nested = [n for n in nested if n not in reached]
            graph = _graph(language, _outside(scanned.files, nested), progress)
        scanned = ScanResult(_outside(scanned.files, nested), scanned.problems)
        findings, unverified = _findings(language, graph, scanned.problems)
        # Source files only: a manifest, a tsconfig or a process file changes more than its own facts.
        self._known = frozenset(
            path
            for path, module in graph.modules.items()
            if module.source is not None
            and language.modules.is_project_file(path)
            and language.is_source(os.path.basename(path))
        )
        return _report(project, language, scanned, graph, findings, unverified, started, nested)

    @property
    def ecosystem(self) -> Ecosystem:
        """The ecosystem checking the project: the one given, else the one its manifest names."""
        from deploysafe.ecosystems import for_root

        return self._options[4] or for_root(os.path.realpath(self.root))

    def reusable(self, changed: Collection[str]) -> bool:
        """Whether a re-check after ``changed`` can keep what is open: only the content of project files of
        the last graph changed, and nothing is built from sources (a build's freshness depends on them)."""
        if self._open is None or self._open[1].built_from:
            return False
        return all(path in self._known and os.path.isfile(path) for path in changed)

    def close(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a check runs: a check makes tens of thousands of objects that
    live until its report is made (facts, edges, modules) and few cycles, so the collector's passes over
    them find nothing and cost about 5 % of a warm check. It runs again, as it was, when the check ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _report(
    project: Project,
    language: LanguageCheck,
    scanned: ScanResult,
    graph: ModuleGraph,
    findings: list[Finding],
    unverified: list[Unverified],
    started: float,
    nested: list[NestedProject],
) -> Report:
    reachable = [p for p in graph.parents if p in graph.modules and graph.modules[p].source is not None]
    return Report(
        root=project.root,
        entries=language.entries,
        runtime=language.runtime,
        findings=findings,
        unverified=unverified,
        dormant=[graph.rel(p) for p in graph.dormant],
        files=len(set(reachable) | {os.path.join(project.root, f) for f in scanned.files}),
        reachable=len(reachable),
        seconds=time.perf_counter() - started,
        parsed=language.modules.loader.parsed,
        problems=scanned.problems,
        graph=graph,
        rules=language.rules,
        nested=nested,
    )


@dataclass(frozen=True)
class NestedProject:
    """A folder under the root that is a project of its own, which no entry loads from."""

    path: str  # relative to the root, ending in "/"
    reason: str  # "its own package.json; not part of this service"


def nested_projects(ecosystem: Ecosystem, root: str, files: Sequence[str]) -> list[NestedProject]:
    """The outermost folders below ``root`` holding a scanned file that the ecosystem calls projects of
    their own (their own manifest)."""
    found: dict[str, bool] = {}
    for file in files:
        parts = file.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in found:
                found[folder] = ecosystem.detect(os.path.join(root, folder))
            if found[folder]:
                break
    outermost = sorted(f for f, mine in found.items() if mine)
    kept = [f for f in outermost if not any(f.startswith(o + "/") for o in outermost if o != f)]
    return [NestedProject(f"{f}/", f"its own {ecosystem.manifest}; not part of this service") for f in kept]


def _outside(files: list[str], nested: Sequence[NestedProject]) -> list[str]:
    if not nested:
        return files
    prefixes = tuple(n.path for n in nested)
    return [f for f in files if not f.startswith(prefixes)]


def _reaches_into(graph: ModuleGraph, root: str, folder: str) -> bool:
    inside = os.path.join(os.path.realpath(root), folder)
    return any(p.startswith(inside) and graph.is_reachable(p) for p in graph.parents)


def _ecosystem_of(project: Project) -> Ecosystem:
    from deploysafe.ecosystems import for_root

    return for_root(project.root)


def _open(
    project: Project,
    settings: config_file.CheckTable,
    entries: list[str] | None,
    runtime: str | RuntimeChoice | None,
    cache: bool,
    ecosystem: Ecosystem,
) -> LanguageCheck:
    """The project's ecosystem, opened on it: entries found, runtime assumed, resolver ready."""
    return ecosystem.open(project, settings, list(entries or []), runtime=runtime, cache=cache)


def _scan(
    project: Project, settings: config_file.CheckTable, language: LanguageCheck, exclude: list[str] | None
) -> ScanResult:
    """The project's files, less what the ecosystem says never runs and the sources of a build (what runs
    is the build's output; its sources are neither dormant nor checked a second time)."""
    patterns = [*language.excludes, *settings.exclude, *(exclude or [])]
    scanned = scan(project.root, exclude=patterns, want=language.is_source, skip_dirs=language.skipped_dirs)
    built_from = language.built_from
    if built_from:
        scanned.files = [f for f in scanned.files if f not in built_from]
    return scanned


def _graph(language: LanguageCheck, scanned: list[str], progress: Callable[[int, int], None] | None) -> ModuleGraph:
    from deploysafe.check.graph import build_graph

    root = language.modules.root
    return build_graph(
        language.modules,
        [os.path.realpath(os.path.join(root, e.path)) for e in language.entries],
        [os.path.join(root, f) for f in scanned],
        progress,
        language.preloads(),
    )


def _findings(
    language: LanguageCheck, graph: ModuleGraph, problems: list[ScanProblem]
) -> tuple[list[Finding], list[Unverified]]:
    """The ecosystem's rules over the graph, in a stable order, then what fails before any import (how
    the project starts); what the scan could not read is unverified."""
    findings, unverified = language.findings(graph)
    findings.sort(key=lambda x: (x.severity is not Severity.ERROR, x.file, x.line, x.column, x.rule))
    before_imports, doubts = language.project_findings()
    findings += before_imports
    unverified += doubts
    unverified += [Unverified(UNREADABLE, p.path, 1, 1, p.message, False) for p in problems]
    unverified.sort(key=lambda x: (not x.reachable, x.file, x.line))
    return findings, unverified
