"""`deploysafe.why()`: why is this file shipped, or why not?

For a file an entry loads: every entry that reaches it, each with its shortest import chain. For a dormant
file: that no entry reaches it, and which files import it (all of them dormant too). For a file that is
not there: which files import it anyway (the broken imports). The answer to "which files are actually
used?", one file at a time.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from deploysafe.check.graph import ModuleGraph
from deploysafe.check.pipeline import check
from deploysafe.check.resolution import ResolvedModule, Unresolved

REACHABLE = "reachable"  # at least one entry loads it
DORMANT = "dormant"  # a project file no entry loads
MISSING = "missing"  # no such file (an import may still name it)
NOT_CHECKED = "not-checked"  # exists, but not a source file the check scans (excluded, or not code)


@dataclass(frozen=True, slots=True)
class Reach:
    entry: str
    chain: tuple[str, ...]  # entry ... file, the shortest from this entry


@dataclass(frozen=True, slots=True)
class Importer:
    file: str  # the importing file, relative to root
    line: int
    column: int
    specifier: str
    kind: str  # import | export-from | require | dynamic-import
    reachable: bool  # the importing file is loaded by an entry
    resolves: bool  # False when the import does not resolve to the file (wrong case, missing file)


@dataclass(frozen=True, slots=True)
class WhyResult:
    root: str
    file: str  # relative to root, "/" separators
    status: str  # reachable | dormant | missing | not-checked
    entries: tuple[str, ...]
    reached_by: tuple[Reach, ...] = ()
    importers: tuple[Importer, ...] = field(default=())

    @property
    def reachable(self) -> bool:
        return self.status == REACHABLE

    @property
    def dormant_importers(self) -> tuple[Importer, ...]:
        return tuple(x for x in self.importers if not x.reachable)

    def to_json(self) -> dict[str, object]:
        return {
            "version": 1,
            "root": self.root,
            "file": self.file,
            "status": self.status,
            "entries": list(self.entries),
            "reached_by": [{"entry": r.entry, "chain": list(r.chain)} for r in self.reached_by],
            "importers": [
                {
                    "file": x.file,
                    "line": x.line,
                    "column": x.column,
                    "specifier": x.specifier,
                    "kind": x.kind,
                    "reachable": x.reachable,
                    "resolves": x.resolves,
                }
                for x in self.importers
            ],
        }


def why(
    root: str | os.PathLike[str],
    file: str | os.PathLike[str],
    entries: list[str] | None = None,
    *,
    node_version: str | None = None,
    exclude: list[str] | None = None,
    cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> WhyResult:
    """Which entries load ``file`` (relative to ``root``, or absolute) and through which imports."""
    report = check(root, entries, node_version=node_version, exclude=exclude, cache=cache, progress=progress)
    graph = report.graph
    assert graph is not None  # check() always builds one
    path = locate(report.root, file)
    rel = graph.rel(path)
    found_entries = tuple(e.path for e in report.entries)
    importers = tuple(_importers(graph, path))
    if graph.is_reachable(path):
        reached = tuple(_reaches(graph, path))
        return WhyResult(report.root, rel, REACHABLE, found_entries, reached, importers)
    if path in graph.modules:
        return WhyResult(report.root, rel, DORMANT, found_entries, (), importers)
    status = NOT_CHECKED if os.path.exists(path) else MISSING
    return WhyResult(report.root, rel, status, found_entries, (), importers)


def locate(root: str, file: str | os.PathLike[str]) -> str:
    """The absolute real path ``file`` names: as given when absolute; else relative to ``root``, or to the
    current folder when that names an existing file inside ``root``."""
    name = os.fspath(file)
    if os.path.isabs(name):
        return _real(name)
    here = _real(os.path.abspath(name))
    if os.path.exists(here) and _inside(here, root):
        return here
    return _real(os.path.join(root, name))


def _real(path: str) -> str:
    """realpath for a file that may not exist: its folder resolved (the graph keeps real paths)."""
    if os.path.exists(path):
        return os.path.realpath(path)
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(os.path.realpath(folder), name)


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _successors(graph: ModuleGraph) -> dict[str, list[str]]:
    """The edges reachability follows (the same ones the graph's closure follows)."""
    successors: dict[str, list[str]] = {}
    for path, module in graph.modules.items():
        targets = []
        for edge in module.edges:
            target = edge.followed_path
            if target is not None and not edge.imp.type_only and graph.is_project_file(target):
                targets.append(target)
        successors[path] = targets
    return successors


def _reaches(graph: ModuleGraph, path: str) -> list[Reach]:
    """For each entry that reaches ``path``: its shortest chain (breadth first, from that entry alone)."""
    successors = _successors(graph)
    reaches = []
    for entry in graph.entries:
        parents: dict[str, str | None] = {entry: None}
        queue = deque([entry])
        while queue and path not in parents:
            current = queue.popleft()
            for target in successors.get(current, []):
                if target not in parents:
                    parents[target] = current
                    queue.append(target)
        if path in parents:
            chain: list[str] = []
            step: str | None = path
            while step is not None:
                chain.append(graph.rel(step))
                step = parents[step]
            reaches.append(Reach(graph.rel(entry), tuple(reversed(chain))))
    return reaches


def _importers(graph: ModuleGraph, path: str) -> list[Importer]:
    """Every import in the project that loads ``path``, or names it and fails (wrong case, no file)."""
    found = []
    for source in sorted(graph.modules):
        for edge in graph.modules[source].edges:
            res = edge.resolution
            if isinstance(res, ResolvedModule) and res.path == path:
                resolves = True
            elif isinstance(res, Unresolved) and path in (_maybe_real(res.path), _maybe_real(res.intended)):
                resolves = False
            else:
                continue
            imp = edge.imp
            found.append(
                Importer(
                    graph.rel(source),
                    imp.line,
                    imp.column,
                    imp.specifier or "",
                    str(imp.kind),
                    graph.is_reachable(source),
                    resolves,
                )
            )
    return found


def _maybe_real(path: str | None) -> str | None:
    return _real(path) if path else None
