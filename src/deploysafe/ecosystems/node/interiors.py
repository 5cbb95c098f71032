"""What installed packages load at start: the closure continues from the service's imports into node_modules.

A package file is entered through a *door*, an import in a reachable project file that lands in node_modules.
Inside packages only what Node runs while loading is followed: static imports, re-exports and top-level
requires (a require() inside a function, an `import()`, or a load the code guards with try/catch, a feature
test or NODE_ENV is lazy or handled and is not followed, so the files only it reaches stay unreported, like
dormant files). Each package file keeps the package's own exports/imports maps, "type" and nested
node_modules, because resolution starts from the file itself.

A fault inside a package is reported at the door: the service's import that brings the package in, with the
package file, the chain through the package, and the fix where one is known (install a missing peer). What a
door reaches is lazy when the door itself is a lazy load or sits in a project file that only a lazy load
reaches; its faults then say "fails when this code runs", never "crashes at start".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from deploysafe.check import resolution as r
from deploysafe.check.facts import Import, ImportKind
from deploysafe.check.findings import (
    BROWSER_GLOBAL,
    COMPUTED_IN_PACKAGE,
    UNKNOWN_EXPORTS,
    UNREADABLE,
    Finding,
    Severity,
    Unverified,
)
from deploysafe.check.graph import Edge, Module, ModuleGraph
from deploysafe.check.resolution import Unresolved
from deploysafe.check.rules import Rule
from deploysafe.ecosystems.node.analysis import Analysis
from deploysafe.ecosystems.node.rules.context import RuleContext

# The rules that judge a package's own loading; the ones about the service's manifest (declared, dev-only)
# and warnings (cycles) are the package author's business, not the service's.
INTERIOR_RULES = (
    "syntax-error",
    "unresolved-import",
    "case-mismatch",
    "missing-export",
    "missing-import-attribute",
    "require-of-esm",
    "unknown-file-extension",
    "browser-global",
)
MISSING_PEER = "missing-package"
_KEPT_DOUBTS = (UNKNOWN_EXPORTS, UNREADABLE, BROWSER_GLOBAL)
_VERDICTS = ("crashes at start", "fails when this require() runs", "fails when this import() runs")


def runs_at_load(imp: Import) -> bool:
    """Node runs this load while the importing module loads (not later, not behind a guard)."""
    if imp.type_only or imp.guarded or imp.dev_only or imp.feature_test or imp.resolve_only:
        return False  # resolve_only: `require.resolve('x')` finds a file and loads nothing
    if imp.kind in (ImportKind.STATIC, ImportKind.REEXPORT) or imp.started_by:
        return True
    return imp.kind is ImportKind.REQUIRE and not imp.in_function


def lazy_project_files(graph: ModuleGraph) -> set[str]:
    """Reachable project files that only lazy loads reach (a require() in a function, an import())."""
    eager = {path for path, parent in graph.parents.items() if parent is None}
    queue = list(eager)
    for path in queue:
        module = graph.modules.get(path)
        for edge in module.edges if module else ():
            target = edge.followed_path
            if target and target not in eager and target in graph.parents and runs_at_load(edge.imp):
                eager.add(target)
                queue.append(target)
    return set(graph.parents) - eager


@dataclass
class Interior:
    modules: dict[str, Module] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)  # package file -> the file that first loads it
    doors: dict[str, tuple[str, Edge]] = field(default_factory=dict)  # package file -> project file, import
    lazy: set[str] = field(default_factory=set)  # package files only a lazy door reaches


def follow(analysis: Analysis, graph: ModuleGraph, lazy_project: set[str]) -> Interior:
    """The package files Node loads at start (or when a lazy door opens), breadth first from the doors,
    eager doors first so that a file both reach is judged as loaded at start."""
    interior = Interior()
    doors: list[tuple[bool, str, Edge]] = []
    for module in graph.reachable_modules():
        for edge in module.edges:
            target = edge.target_path
            if target is None or analysis.is_project_file(target) or not analysis.is_source(target):
                continue
            imp = edge.imp
            if imp.type_only or imp.guarded or imp.dev_only or imp.feature_test or imp.resolve_only:
                continue
            lazy = module.path in lazy_project or not runs_at_load(imp)
            doors.append((lazy, module.path, edge))
    doors.sort(key=lambda door: door[0])
    frontier: list[str] = []
    for lazy, project_file, edge in doors:
        target = edge.target_path or ""
        if target in interior.doors:
            continue
        interior.doors[target] = (project_file, edge)
        interior.parents[target] = project_file
        if lazy:
            interior.lazy.add(target)
        frontier.append(target)
    while frontier:
        analysis.loader.load(frontier)
        following: list[str] = []
        for path in frontier:
            module = _module(analysis, path)
            interior.modules[path] = module
            for edge in module.edges:
                target = edge.target_path
                if target is None or target in interior.doors or not runs_at_load(edge.imp):
                    continue
                if analysis.is_project_file(target) or not analysis.is_source(target):
                    continue
                interior.doors[target] = interior.doors[path]
                interior.parents[target] = path
                if path in interior.lazy:
                    interior.lazy.add(target)
                following.append(target)
        frontier = following
    return interior


def _module(analysis: Analysis, path: str) -> Module:
    source = analysis.loader.get(path)
    module = Module(path, analysis.format_of(path), source)
    module.edges = analysis.edges_of(path, source.facts.imports)
    return module


def interior_graph(graph: ModuleGraph, interior: Interior) -> ModuleGraph:
    """The package files as a graph of their own whose chains run from the service's entries."""
    return ModuleGraph(
        graph.root,
        graph.entries,
        interior.modules,
        {**graph.parents, **interior.parents},
        [],
        graph.in_project,
        graph.named,
    )


def judge(
    ctx: RuleContext, rules: Iterable[Rule], graph: ModuleGraph, interior: Interior
) -> tuple[list[Finding], list[Unverified]]:
    """The interior rules over every package file loaded, and missing peers; each fault moved to its door."""
    chosen = [rule for rule in rules if rule.id in INTERIOR_RULES]
    findings: dict[tuple[str, int, str], Finding] = {}
    doubts: dict[tuple[str, int, str], Unverified] = {}
    computed: dict[str, list[tuple[Module, Edge]]] = {}
    for module in interior.modules.values():
        results: list[object] = []
        for rule in chosen:
            results.extend(rule.check_module(ctx, module))
        for edge in module.edges:
            if not runs_at_load(edge.imp):
                continue
            if edge.imp.specifier is None:
                computed.setdefault(_package_of(graph.rel(module.path)), []).append((module, edge))
                continue
            for rule in chosen:
                results.extend(rule.check_edge(ctx, module, edge))
            results.extend(_missing_peer(ctx, module, edge))
        for result in results:
            if isinstance(result, Finding) and result.severity is Severity.ERROR:
                moved = _at_door(ctx, graph, interior, module.path, result)
                findings.setdefault((moved.file, moved.line, moved.message), moved)
            elif isinstance(result, Unverified) and result.reason in _KEPT_DOUBTS:
                if result.reason == BROWSER_GLOBAL and module.path in interior.lazy:
                    continue  # a lazily loaded package file needs the browser only when that code runs
                doubt = _doubt_at_door(ctx, graph, interior, module.path, result)
                doubts.setdefault((doubt.file, doubt.line, doubt.detail), doubt)
    counted = [_computed_at_door(graph, interior, package, loads) for package, loads in sorted(computed.items())]
    return list(findings.values()), list(doubts.values()) + counted


def _package_of(rel: str) -> str:
    """The package a file under node_modules belongs to (the innermost one): `@scope/name` or `name`."""
    parts = rel.split("/")
    last = max((i for i, part in enumerate(parts) if part == "node_modules"), default=-1)
    rest = parts[last + 1 :]
    return "/".join(rest[:2]) if rest and rest[0].startswith("@") else (rest[0] if rest else rel)


def _computed_at_door(
    graph: ModuleGraph, interior: Interior, package: str, loads: list[tuple[Module, Edge]]
) -> Unverified:
    """One line for every load a package makes at start with a computed specifier: none is followed, and
    listing each would flood the report."""
    module, edge = loads[0]
    project_file, door = interior.doors[module.path]
    call = "require" if edge.imp.kind is ImportKind.REQUIRE else "import"
    example = f"{graph.rel(module.path)}:{edge.imp.line} {call}({edge.imp.expression or '...'})"
    count = f"{len(loads)} computed load{'s' if len(loads) != 1 else ''}"
    detail = f"{count} inside {package} not followed (e.g. {example})"
    return Unverified(COMPUTED_IN_PACKAGE, graph.rel(project_file), door.imp.line, door.imp.column, detail, True)


def _missing_peer(ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Finding]:
    """A package's load of a package that is not installed anywhere it can see (a peer the service lacks)."""
    res = edge.resolution
    if not isinstance(res, Unresolved) or res.reason != r.PACKAGE_NOT_FOUND:
        return
    if ctx.analysis.pnp and not res.detail:
        return  # Yarn PnP with a map or archive deploysafe could not read: said once as unverified
    name = res.package or edge.imp.specifier or ""
    owner = ctx.analysis.manifest_of(module.path)
    section = owner.dependency_section(name) if owner is not None else None
    who = owner.name if owner is not None and owner.name else "the package"
    role = {"peerDependencies": "a peer dependency", "optionalDependencies": "an optional dependency"}.get(
        section or "", "a dependency"
    )
    call = "Cannot find module" if edge.for_require else "Cannot find package"
    yield ctx.finding(
        MISSING_PEER,
        module,
        edge.imp.line,
        edge.imp.column,
        f"crashes at start: {call} '{name}' imported from {ctx.rel(module.path)}: it is {role} of {who} "
        f"that is not installed; install it (npm install {name})",
        specifier=edge.imp.specifier,
    )


def _through(graph: ModuleGraph, interior: Interior, path: str) -> list[str]:
    chain: list[str] = []
    current: str | None = path
    while current is not None and current in interior.parents:
        chain.append(graph.rel(current))
        current = interior.parents[current]
    return chain[::-1]


def _at_door(ctx: RuleContext, graph: ModuleGraph, interior: Interior, path: str, found: Finding) -> Finding:
    project_file, door = interior.doors[path]
    message = found.message
    for verdict in _VERDICTS:
        if message.startswith(verdict + ": "):
            message = message[len(verdict) + 2 :]
            break
    through = _through(graph, interior, path)
    via = f" (loaded through {' → '.join(through)})" if len(through) > 1 else ""
    verdict = "fails when this code runs" if path in interior.lazy else "crashes at start"
    text = f"{verdict}: in {found.location}: {message}{via}"
    return replace(
        found,
        file=graph.rel(project_file),
        line=door.imp.line,
        column=door.imp.column,
        message=text,
        reachable=True,
        chain=(*graph.chain(project_file), *through),
        specifier=door.imp.specifier,
    )


def _doubt_at_door(
    ctx: RuleContext, graph: ModuleGraph, interior: Interior, path: str, doubt: Unverified
) -> Unverified:
    project_file, door = interior.doors[path]
    detail = f"in {doubt.file}:{doubt.line}:{doubt.column}: {doubt.detail}"
    return Unverified(doubt.reason, graph.rel(project_file), door.imp.line, door.imp.column, detail, True)
