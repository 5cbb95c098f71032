"""The module graph: every edge of every project file resolved, the closure from the entries, the
dormant rest, and the shortest chain from an entry to any reachable file."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from deploysafe.check.ecosystem import Modules
from deploysafe.check.facts import Import
from deploysafe.check.resolution import Resolution, ResolvedModule, Unresolved
from deploysafe.check.sources import Progress, SourceFile


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # absolute path of the importing file
    imp: Import
    resolution: Resolution | None  # None when the specifier is computed
    for_require: bool  # resolved as a synchronous load (Node's require()), not as a linked import

    @property
    def target_path(self) -> str | None:
        res = self.resolution
        return res.path if isinstance(res, ResolvedModule) else None

    @property
    def followed_path(self) -> str | None:
        """The file this edge leads to for reachability: its target, or the file a mistyped specifier
        clearly meant (other case, missing extension or index), so faults behind it are found too."""
        res = self.resolution
        if isinstance(res, ResolvedModule):
            return res.path
        if isinstance(res, Unresolved) and res.intended:
            return os.path.realpath(res.intended)
        return None


@dataclass(slots=True)
class Module:
    path: str
    format: str  # as the ecosystem names it: Node's "module", "commonjs", "json", ...
    source: SourceFile | None  # None for files that are not parsed (JSON, addons)
    edges: list[Edge] = field(default_factory=list)


CHAIN_HEAD = 20  # files of a long chain a report shows from its entry
CHAIN_TAIL = 20  # and up to the file it explains


@dataclass(slots=True)
class ModuleGraph:
    root: str
    entries: list[str]
    modules: dict[str, Module]  # project files: reachable and dormant
    parents: dict[str, str | None]  # reachable file -> the file that first reached it (None: an entry)
    dormant: list[str]
    # A file of the project itself, not of an installed dependency (node_modules, site-packages).
    in_project: Callable[[str], bool] = field(default=lambda path: True, repr=False, compare=False)
    # The name a file goes by in reports when it is read from elsewhere (a package archive's unpacked copy).
    named: Callable[[str], str] = field(default=lambda path: path, repr=False, compare=False)
    _rels: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _short: dict[str, tuple[tuple[str, ...], int, tuple[str, ...]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def is_project_file(self, path: str) -> bool:
        return self.in_project(path)

    def is_reachable(self, path: str) -> bool:
        return path in self.parents

    def rel(self, path: str) -> str:
        """``path`` relative to the root with ``/`` (computed once per path: chains ask for it often)."""
        rel = self._rels.get(path)
        if rel is None:
            rel = self._rels[path] = _relative(self.named(path), self.root)
        return rel

    def chain(self, path: str) -> list[str]:
        """The shortest import chain from an entry to ``path`` (relative paths), [] when dormant."""
        if path not in self.parents:
            return []
        chain: list[str] = []
        current: str | None = path
        rels, parents = self._rels, self.parents
        while current is not None:
            chain.append(rels.get(current) or self.rel(current))
            current = parents[current]
        return chain[::-1]

    def short_chain(self, path: str) -> list[str]:
        """``chain`` with the middle of a chain longer than ``CHAIN_HEAD + CHAIN_TAIL`` files given as one
        ``… N more …`` element. Memoized per file, so chains for every file of a graph cost linear time
        and memory however deep the imports go (a report listing them stays linear too)."""
        if path not in self.parents:
            return []
        memo = self._short
        pending: list[str] = []
        current: str | None = path
        while current is not None and current not in memo:
            pending.append(current)
            current = self.parents[current]
        above = memo[current] if current is not None else ((), 0, ())
        for node in reversed(pending):
            head, hidden, tail = above
            rel = self.rel(node)
            if len(head) < CHAIN_HEAD and not hidden and not tail:
                above = ((*head, rel), 0, ())
            elif len(tail) < CHAIN_TAIL:
                above = (head, hidden, (*tail, rel))
            else:
                above = (head, hidden + 1, (*tail[1:], rel))
            memo[node] = above
        head, hidden, tail = memo[path]
        return [*head, *([f"… {hidden} more …"] if hidden else []), *tail]

    def reachable_modules(self) -> list[Module]:
        return [self.modules[p] for p in self.parents if p in self.modules]


def _relative(path: str, root: str) -> str:
    """``os.path.relpath(path, root)`` with ``/``; a normalized path under a normalized root by slicing
    (relpath's own work, ten times over, for the thousands of files a report names)."""
    prefix = root if root.endswith(os.sep) else root + os.sep
    if (
        os.sep == "/"
        and path.startswith(prefix)
        and os.path.isabs(root)
        and "/." not in root
        and "//" not in root
        and "/." not in path
        and "//" not in path
        and not path.endswith("/")
    ):
        return path[len(prefix) :]
    return os.path.relpath(path, root).replace(os.sep, "/")


def build_graph(
    analysis: Modules,
    entries: list[str],
    scanned: list[str],
    progress: Progress | None = None,
    preloads: Mapping[str, Sequence[Import]] | None = None,
) -> ModuleGraph:
    """Resolve the closure from ``entries`` (absolute paths), then the ``scanned`` files it misses.

    ``preloads`` maps a file that holds a start command (package.json, Procfile) to the modules that
    command loads before the entry (`node -r dotenv/config`); they count as entries of their own.
    """
    analysis.loader.load([*entries, *scanned], progress)
    modules: dict[str, Module] = {}
    parents: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for command_file, imports in (preloads or {}).items():
        modules[command_file] = Module(command_file, "other", None, analysis.edges_of(command_file, imports))
        parents[command_file] = None
        for edge in modules[command_file].edges:
            target = edge.followed_path
            if target is not None and analysis.is_project_file(target) and target not in parents:
                parents[target] = command_file
                queue.append(target)
    for entry in entries:
        if entry not in parents:
            parents[entry] = None
            queue.append(entry)

    def visit(path: str, on_target: Callable[[str, str], None] | None) -> None:
        module = _module(analysis, path)
        modules[path] = module
        if on_target is None:
            return
        for edge in module.edges:
            target = edge.followed_path
            if target is not None and not edge.imp.type_only and analysis.is_project_file(target):
                on_target(path, target)

    def reach(source: str, target: str) -> None:
        if target not in parents:
            parents[target] = source
            queue.append(target)

    while queue:
        visit(queue.popleft(), reach)
    dormant = [p for p in scanned if p not in parents]
    for path in dormant:
        visit(path, None)
    return ModuleGraph(
        analysis.root, entries, modules, parents, dormant, analysis.is_project_file, analysis.display_path
    )


def _module(analysis: Modules, path: str) -> Module:
    if not analysis.is_source(path):
        return Module(path, analysis.format_of(path), None)
    source = analysis.loader.get(path)
    module = Module(path, analysis.format_of(path), source)
    module.edges = analysis.edges_of(path, source.facts.imports)
    return module


def strongly_connected(nodes: list[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (deep graphs must not hit Python's recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = successors.get(node, [])
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def cycle_through(component: list[str], successors: dict[str, list[str]]) -> list[str]:
    """A shortest cycle inside a strongly connected component, starting at its first-sorted member."""
    members = set(component)
    start = min(component)
    parents: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for nxt in successors[node]:
            if nxt not in members:
                continue
            if nxt == start:
                cycle = [node]
                while cycle[-1] != start:
                    cycle.append(parents[cycle[-1]])
                return cycle[::-1]
            if nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    return sorted(component)
