"""The module graph: every edge of every project file resolved, the closure from the entries, the
dormant rest, and the shortest chain from an entry to any reachable file."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from deploysafe.check.facts import Import, ImportKind
from deploysafe.check.fs import FileSystem
from deploysafe.check.resolution import PACKAGE_NOT_FOUND, Resolution, Target, Unresolved
from deploysafe.check.scan import is_source
from deploysafe.check.sources import Progress, SourceFile, SourceLoader
from deploysafe.ecosystems.node.formats import Format, emitted_format, is_typescript, module_format
from deploysafe.ecosystems.node.nodeversion import NodeVersion
from deploysafe.ecosystems.node.packages import PackageJson, PackageJsonCache
from deploysafe.ecosystems.node.resolve import CompiledTypeScript, NodeResolver
from deploysafe.ecosystems.node.typescript import TypeScriptRun, erased_by_compiler


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # absolute path of the importing file
    imp: Import
    resolution: Resolution | None  # None when the specifier is computed
    for_require: bool  # resolved with require() rules and conditions

    @property
    def target_path(self) -> str | None:
        res = self.resolution
        return res.path if isinstance(res, Target) else None

    @property
    def followed_path(self) -> str | None:
        """The file this edge leads to for reachability: its target, or the file a mistyped specifier
        clearly meant (other case, missing extension or index), so faults behind it are found too."""
        res = self.resolution
        if isinstance(res, Target):
            return res.path
        if isinstance(res, Unresolved) and res.intended:
            return os.path.realpath(res.intended)
        return None


@dataclass(slots=True)
class Module:
    path: str
    format: Format
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
    _rels: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _short: dict[str, tuple[tuple[str, ...], int, tuple[str, ...]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def is_reachable(self, path: str) -> bool:
        return path in self.parents

    def rel(self, path: str) -> str:
        """``path`` relative to the root with ``/`` (computed once per path: chains ask for it often)."""
        rel = self._rels.get(path)
        if rel is None:
            rel = self._rels[path] = os.path.relpath(path, self.root).replace(os.sep, "/")
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


def is_project_file(path: str) -> bool:
    return f"{os.sep}node_modules{os.sep}" not in path


@dataclass
class Analysis:
    """Everything the stages share for one check: caches, resolver, Node version."""

    root: str
    node: NodeVersion
    fs: FileSystem
    packages: PackageJsonCache
    resolver: NodeResolver
    loader: SourceLoader
    # TypeScript that tsc compiles and Node runs as output (not tsx/ts-node running the sources).
    compiled_typescript: bool = False
    aliases_rewritten: bool = False  # tsc-alias rewrites tsconfig paths in tsc's output
    typescript: TypeScriptRun | None = None  # how TypeScript runs: runner, tsc's build, run-time hooks
    _resolved: dict[tuple[str, str, bool, bool, bool], Resolution] = field(default_factory=dict)
    _formats: dict[str, Format] = field(default_factory=dict)

    def format_of(self, path: str) -> Format:
        if path not in self._formats:
            if self.compiled_typescript and is_typescript(path):
                config = self.resolver.tsconfigs.nearest(os.path.dirname(path)) if self.resolver.tsconfigs else None
                self._formats[path] = emitted_format(path, config.module if config else None, self.packages)
            else:
                facts = self.loader.get(path).facts if is_source(path) else None
                self._formats[path] = module_format(path, facts, self.packages, self.node)
        return self._formats[path]

    def resolve(self, specifier: str, importer: str, for_require: bool) -> Resolution:
        typescript = is_typescript(importer)
        compiled = None
        if typescript and self.compiled_typescript:
            esm = not for_require and self.format_of(importer) is Format.ESM
            full_paths = self.typescript is not None and self.typescript.full_paths
            compiled = CompiledTypeScript(esm=esm, aliases_rewritten=self.aliases_rewritten, full_paths=full_paths)
        key = (os.path.dirname(importer), specifier, for_require, typescript, compiled is not None and compiled.esm)
        if key not in self._resolved:
            hooked = self._runtime_paths(specifier, importer, for_require)
            self._resolved[key] = hooked or self.resolver.resolve(
                specifier, importer, for_require=for_require, typescript=typescript, compiled=compiled
            )
        return self._resolved[key]

    def _runtime_paths(self, specifier: str, importer: str, for_require: bool) -> Resolution | None:
        """`node -r tsconfig-paths/register` hooks require() of the running JavaScript."""
        run = self.typescript
        if run is None or run.runtime_paths is None or not for_require or not run.compiled:
            return None
        if specifier.startswith((".", "/")) or not is_project_file(importer):
            return None
        from deploysafe.ecosystems.node import tsconfig_paths

        found, tried = tsconfig_paths.resolve_mapped(specifier, run.runtime_paths, self.fs, run.build, run.built)
        if found is not None or not tried:
            return found
        fallback = self.resolver.resolve(specifier, importer, for_require=True)
        if isinstance(fallback, Unresolved) and fallback.reason == PACKAGE_NOT_FOUND:
            return tsconfig_paths.not_found(specifier, run.runtime_paths, tried, self.root, run.build)
        return fallback

    def manifest_of(self, path: str) -> PackageJson | None:
        """The package.json that declares ``path``'s dependencies: the nearest one, but never a copy tsc
        put in its output (resolveJsonModule copies package.json there; npm never reads it)."""
        build = self.typescript.build if self.typescript else None
        scope = self.packages.scope(os.path.dirname(path))
        while scope is not None and build is not None and build.in_output(scope.dir):
            parent = os.path.dirname(scope.dir)
            scope = self.packages.scope(parent) if parent != scope.dir else None
        return scope

    def edges_of(self, path: str, imports: tuple[Import, ...] | list[Import]) -> list[Edge]:
        edges = []
        typescript = is_typescript(path)
        for imp in imports:
            for_require = imp.kind is ImportKind.REQUIRE
            if typescript and erased_by_compiler(imp, self._verbatim(path)):
                imp = replace(imp, type_only=True)
            if typescript and imp.kind in (ImportKind.STATIC, ImportKind.REEXPORT):
                # tsx, ts-node and tsc compile a CommonJS file's imports to require().
                for_require = self.format_of(path) is Format.COMMONJS
            if imp.specifier is None:
                edges.append(Edge(path, imp, None, for_require))
                continue
            resolution = None if imp.type_only else self.resolve(imp.specifier, path, for_require)
            edges.append(Edge(path, imp, resolution, for_require))
        return edges

    def _verbatim(self, path: str) -> bool:
        config = self.resolver.tsconfigs.nearest(os.path.dirname(path)) if self.resolver.tsconfigs else None
        return bool(config and config.verbatim_module_syntax)


def build_graph(
    analysis: Analysis,
    entries: list[str],
    scanned: list[str],
    progress: Progress | None = None,
    preloads: dict[str, list[Import]] | None = None,
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
        modules[command_file] = Module(command_file, Format.OTHER, None, analysis.edges_of(command_file, imports))
        parents[command_file] = None
        for edge in modules[command_file].edges:
            target = edge.followed_path
            if target is not None and is_project_file(target) and target not in parents:
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
            if target is not None and not edge.imp.type_only and is_project_file(target):
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
    return ModuleGraph(analysis.root, entries, modules, parents, dormant)


def _module(analysis: Analysis, path: str) -> Module:
    if not is_source(path):
        return Module(path, analysis.format_of(path), None)
    source = analysis.loader.get(path)
    module = Module(path, analysis.format_of(path), source)
    module.edges = analysis.edges_of(path, source.facts.imports)
    return module
