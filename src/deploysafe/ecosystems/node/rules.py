"""The checks. Each rule looks at the graph and yields findings; none of them prints anything.

A rule speaks only when Node would really fail (error) or when a fault sleeps in a file no entry
loads (warning). What a rule cannot prove it hands back as :class:`Unverified`, never as silence.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from deploysafe.check import findings as f
from deploysafe.check import resolution as r
from deploysafe.check.facts import Import, ImportedName, ImportKind
from deploysafe.check.findings import Finding, Severity, Unverified
from deploysafe.check.graph import Edge, Module, ModuleGraph
from deploysafe.check.resolution import Target, Unresolved
from deploysafe.ecosystems.node.analysis import Analysis
from deploysafe.ecosystems.node.confirm import CONFIRMED, REFUTED, UNCONFIRMED, SyntaxVerdict
from deploysafe.ecosystems.node.declared_types import is_declared_type
from deploysafe.ecosystems.node.exports import ExportIndex, ExportNames
from deploysafe.ecosystems.node.files import is_project_file
from deploysafe.ecosystems.node.formats import Format, is_typescript

Result = Finding | Unverified


@dataclass
class RuleContext:
    graph: ModuleGraph
    analysis: Analysis
    exports: ExportIndex
    syntax: dict[str, SyntaxVerdict] = field(default_factory=dict)  # second opinions, by path
    _by_name: dict[str, list[str]] | None = None

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
            handled=imp.guarded or imp.dev_only,
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


def run_rules(ctx: RuleContext) -> tuple[list[Finding], list[Unverified]]:
    results: list[Result] = []
    for module in ctx.graph.modules.values():
        results.extend(syntax_errors(ctx, module))
        results.extend(module_syntax_in_commonjs(ctx, module))
        for edge in module.edges:
            if edge.imp.type_only:
                continue
            results.extend(removed_import_assertion(ctx, module, edge))
            if edge.resolution is None:
                results.append(computed_specifier(ctx, module, edge))
            elif isinstance(edge.resolution, Unresolved):
                results.extend(unresolved_import(ctx, module, edge, edge.resolution))
            else:
                results.extend(package_declaration(ctx, module, edge, edge.resolution))
                results.extend(missing_exports(ctx, module, edge, edge.resolution))
                results.extend(import_attribute(ctx, module, edge, edge.resolution))
                results.extend(require_of_esm(ctx, module, edge, edge.resolution))
    results.extend(circular_imports(ctx))
    found = [x for x in results if isinstance(x, Finding)]
    unverified = [x for x in results if isinstance(x, Unverified)]
    return found, unverified


# ---- how a failure shows itself ---------------------------------------------------------------------


def when_it_fails(imp: Import) -> str:
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
    return ""


# ---- file rules ---------------------------------------------------------------------------------------


def syntax_errors(ctx: RuleContext, module: Module) -> Iterator[Result]:
    source = module.source
    if source is None:
        return
    if source.error:
        yield ctx.unverified(f.UNREADABLE, module, 1, 1, f"{ctx.rel(module.path)}: {source.error}")
        return
    if not source.facts.syntax_errors:
        return
    first = source.facts.syntax_errors[0]
    verdict = ctx.syntax.get(module.path)
    if verdict is not None and verdict.status == REFUTED:
        return
    if verdict is not None and verdict.status == CONFIRMED:
        yield ctx.finding(
            f.SYNTAX_ERROR,
            module,
            verdict.line or first.line,
            verdict.column or first.column,
            f"crashes at start: SyntaxError: {verdict.message} (confirmed by {verdict.judge})",
        )
        return
    if verdict is not None and verdict.status == UNCONFIRMED:
        yield ctx.finding(
            f.SYNTAX_ERROR,
            module,
            first.line,
            first.column,
            f"possible SyntaxError: {first.message} (not confirmed: {verdict.judge})",
            warning=True,
        )
        return
    yield ctx.finding(
        f.SYNTAX_ERROR, module, first.line, first.column, f"crashes at start: SyntaxError: {first.message}"
    )


def module_syntax_in_commonjs(ctx: RuleContext, module: Module) -> Iterator[Result]:
    """import/export in a file Node loads as CommonJS: 'Cannot use import statement outside a module'."""
    source = module.source
    if source is None or module.format is not Format.COMMONJS or is_typescript(module.path):
        return
    facts = source.facts
    if not facts.esm_syntax or facts.syntax_errors:
        return
    scope = ctx.analysis.packages.scope(os.path.dirname(module.path))
    if scope is not None and scope.type == "commonjs":
        why = f'{ctx.rel(scope.path)} says "type": "commonjs"'
    else:
        why = f'Node {ctx.analysis.node} does not detect module syntax in .js files without "type"'
    first = next((i for i in facts.imports if i.kind.is_esm_link), None)
    line, column = (first.line, first.column) if first else (1, 1)
    yield ctx.finding(
        f.SYNTAX_ERROR,
        module,
        line,
        column,
        "crashes at start: SyntaxError: Cannot use import statement outside a module "
        f'({why}; rename it .mjs or set "type": "module")',
    )


# ---- edge rules ---------------------------------------------------------------------------------------


def computed_specifier(ctx: RuleContext, module: Module, edge: Edge) -> Unverified:
    imp = edge.imp
    call = "require" if imp.kind is ImportKind.REQUIRE else "import"
    return ctx.unverified(
        f.COMPUTED_SPECIFIER,
        module,
        imp.line,
        imp.column,
        f"{call}({imp.expression or '...'}): the specifier is computed at run time and was not followed",
    )


def unresolved_import(ctx: RuleContext, module: Module, edge: Edge, res: Unresolved) -> Iterator[Result]:
    imp = edge.imp
    spec = imp.specifier or ""
    when = when_it_fails(imp)
    importer = ctx.rel(module.path)

    def emit(rule: str, message: str, *, warning: bool = False) -> Finding:
        return ctx.edge_finding(rule, module, imp, message, warning=warning)

    if res.reason == r.PACKAGE_NOT_FOUND:
        yield from _missing_package(ctx, module, edge, res, emit)
        return
    if res.reason == r.CASE_MISMATCH:
        actual = ctx.rel(res.actual) if res.actual else "?"
        yield emit(
            f.CASE_MISMATCH,
            f"{when} on Linux: Cannot find module '{spec}' imported from {importer}; the file exists as "
            f"{actual} ({res.detail}; macOS and Windows ignore letter case, Linux does not)",
        )
        return
    target = ctx.rel(res.path) if res.path else spec
    if res.reason == r.EXTENSIONLESS:
        message = (
            f"{when}: Cannot find module '{spec}' imported from {importer}; ES modules need the full "
            f"file name: write '{res.suggestion}'"
        )
    elif res.reason == r.DIRECTORY_IMPORT:
        message = f"{when}: Directory import '{target}' is not supported resolving ES modules imported from {importer}"
        if res.suggestion:
            message += f"; write '{res.suggestion}'"
    elif res.reason == r.NOT_FOUND:
        message = f"{when}: Cannot find module '{spec}' imported from {importer}"
        if res.package and res.detail:
            message += f" ({res.detail})"
        elif res.path and not res.package:
            message += f" (no file at {target})"
        hint = None if res.package else _suggest_file(ctx, module, imp, res)
        if hint:
            message += f"; {hint}"
    elif res.reason == r.ALIAS_NOT_REWRITTEN:
        message = (
            f"{when}: Cannot find package '{res.package or spec}' imported from {importer}: tsc leaves the path "
            f"alias '{spec}' as written in its output, so Node looks for a package of that name; import "
            f"'{_output_specifier(module.path, res.intended or '')}' by its relative path, or rewrite aliases at build "
            "time (tsc-alias) or run time (node -r tsconfig-paths/register)"
        )
    elif res.reason == r.NOT_EXPORTED:
        message = f"{when}: {_relativize(ctx, res.detail)} (imported as '{spec}' from {importer})"
    else:
        message = f"{when}: cannot load '{spec}' from {importer}: {_relativize(ctx, res.detail)}"
    yield emit(f.UNRESOLVED_IMPORT, message)


def _suggest_file(ctx: RuleContext, module: Module, imp: Import, res: Unresolved) -> str | None:
    """Where the missing file most likely is: a project file that exports every name the import asks
    for, or one with the same file name; else a file with a similar name next to the missing one."""
    wanted = {n.name for n in imp.names if not n.type_only and n.name != "default"}
    base = os.path.basename(res.path or "")
    same_name = [p for p in ctx.files_named(base) if p != res.path]
    exporting = [p for p in ctx.files_exporting(wanted)] if wanted else []
    candidates = [p for p in exporting if p in same_name] or exporting or same_name
    if 0 < len(candidates) <= 2:
        shown = " or ".join(f"'{_specifier_from(module.path, p)}'" for p in candidates)
        because = (
            f" (it exports {', '.join(repr(n) for n in sorted(wanted))})" if exporting and len(candidates) == 1 else ""
        )
        return f"did you mean {shown}{because}?"
    if res.suggestion:
        return f"did you mean '{_specifier_from(module.path, res.suggestion)}'?"
    return None


def _output_specifier(importer: str, source: str) -> str:
    """The relative specifier that names tsc's output of ``source`` from tsc's output of ``importer``."""
    base, ext = os.path.splitext(source)
    output = {".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs"}.get(ext, ext)
    return _specifier_from(importer, base + output)


def _specifier_from(importer: str, path: str) -> str:
    rel = os.path.relpath(path, os.path.dirname(importer)).replace(os.sep, "/")
    return rel if rel.startswith("../") else "./" + rel


def _missing_package(ctx: RuleContext, module: Module, edge: Edge, res: Unresolved, emit) -> Iterator[Result]:
    imp = edge.imp
    name = res.package or imp.specifier or ""
    scope = ctx.analysis.manifest_of(module.path)
    section = scope.dependency_section(name) if scope else None
    importer = ctx.rel(module.path)
    when = when_it_fails(imp)
    if section == "devDependencies":
        yield emit(
            f.DEV_DEPENDENCY_AT_RUNTIME,
            f"{when}: Cannot find package '{name}' imported from {importer}; it is only in devDependencies, "
            "which production installs (npm ci --omit=dev) leave out: move it to dependencies",
        )
    elif section is not None:
        yield ctx.unverified(
            f.NOT_INSTALLED,
            module,
            imp.line,
            imp.column,
            f"'{name}' is declared in {section} but not installed here; run npm ci to check what is imported from it",
        )
    else:
        where = f" or declared in {ctx.rel(scope.path)}" if scope else ""
        nested = _installed_deeper(ctx.graph.root, name)
        deeper = f" (only {nested} has it, for another package; Node does not look there)" if nested else ""
        yield emit(
            f.MISSING_PACKAGE,
            f"{when}: Cannot find package '{name}' imported from {importer}; it is not installed{where}{deeper}: "
            f"add it to dependencies (npm install {name})",
        )


def _installed_deeper(root: str, name: str) -> str | None:
    """Where a package sits that the importer cannot reach: pnpm's store or another package's own
    node_modules (a transitive dependency that was not hoisted)."""
    modules = os.path.join(root, "node_modules")
    store = os.path.join(modules, ".pnpm")
    prefix = name.replace("/", "+") + "@"
    try:
        for entry in sorted(os.listdir(store)):
            if entry.startswith(prefix) and os.path.isdir(os.path.join(store, entry, "node_modules", name)):
                return f"node_modules/.pnpm/{entry}/node_modules/{name}"
    except OSError:
        pass
    try:
        owners = sorted(os.listdir(modules))
    except OSError:
        return None
    for owner in owners:
        if owner.startswith("."):
            continue
        scoped = (
            [f"{owner}/{child}" for child in _listdir(os.path.join(modules, owner))]
            if owner.startswith("@")
            else [owner]
        )
        for package in scoped:
            if os.path.isdir(os.path.join(modules, package, "node_modules", name)):
                return f"node_modules/{package}/node_modules/{name}"
    return None


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def package_declaration(ctx: RuleContext, module: Module, edge: Edge, res: Target) -> Iterator[Result]:
    """A bare import that resolves through node_modules must be declared by the importer's package."""
    if res.package is None or res.builtin or not is_project_file(module.path):
        return
    scope = ctx.analysis.manifest_of(module.path)
    if scope is None or scope.name == res.package:
        return
    imp = edge.imp
    section = scope.dependency_section(res.package)
    if section == "devDependencies":
        yield ctx.edge_finding(
            f.DEV_DEPENDENCY_AT_RUNTIME,
            module,
            imp,
            f"{when_it_fails(imp)} in production: '{res.package}' is only in devDependencies, which production "
            "installs (npm ci --omit=dev) leave out: move it to dependencies",
        )
    elif section is None:
        yield ctx.finding(
            f.UNDECLARED_DEPENDENCY,
            module,
            imp.line,
            imp.column,
            f"'{res.package}' loads today only because another package brought it into node_modules; it is not "
            f"in {ctx.rel(scope.path)}, so it breaks when that package changes: add it to dependencies",
            warning=True,
            specifier=imp.specifier,
        )


def missing_exports(ctx: RuleContext, module: Module, edge: Edge, res: Target) -> Iterator[Result]:
    imp = edge.imp
    if not imp.names or imp.kind not in (ImportKind.STATIC, ImportKind.REEXPORT):
        return
    importer_ts = is_typescript(module.path)
    names = ctx.exports.of_builtin(res.builtin) if res.builtin else ctx.exports.of(res.path) if res.path else None
    if names is None:
        broken = res.path is not None and ctx.analysis.loader.get(res.path).facts.syntax_errors
        if (res.path or res.builtin) and not broken:
            target = res.builtin or ctx.rel(res.path or "")
            yield ctx.unverified(
                f.UNKNOWN_EXPORTS,
                module,
                imp.line,
                imp.column,
                f"the names imported from '{imp.specifier}' were not checked: the exports of {target} "
                "could not be read",
            )
        return
    # A CommonJS importer (TypeScript compiled to require()) gets `undefined`, not a crash at link time.
    lenient = module.format is Format.COMMONJS
    for wanted in imp.names:
        if wanted.type_only:
            continue
        if wanted.name in names.values or (importer_ts and wanted.name in names.types):
            continue
        yield from _missing_name(ctx, module, edge, res, names, wanted, lenient, importer_ts)


def _missing_name(
    ctx: RuleContext,
    module: Module,
    edge: Edge,
    res: Target,
    names: ExportNames,
    wanted: ImportedName,
    lenient: bool,
    importer_ts: bool,
) -> Iterator[Result]:
    imp = edge.imp
    spec = imp.specifier or ""
    if not names.complete:
        yield ctx.unverified(
            f.UNKNOWN_EXPORTS,
            module,
            wanted.line,
            wanted.column,
            f"'{wanted.name}' was not found in '{spec}', but part of its export * chain could not be read",
        )
        return
    from_package_types = importer_ts and res.package is not None
    if from_package_types and res.package_dir and is_declared_type(res.package_dir, res.package or "", wanted.name):
        return  # an interface or type alias: the compiled import is erased
    if wanted.name in names.conflicts:
        message = f"The requested module '{spec}' contains conflicting star exports for name '{wanted.name}'"
    elif names.format is Format.COMMONJS and not is_typescript(res.path or ""):
        message = (
            f"SyntaxError: Named export '{wanted.name}' not found. The requested module '{spec}' is a CommonJS "
            "module, which may not support all module.exports as named exports"
        )
    else:
        message = f"SyntaxError: The requested module '{spec}' does not provide an export named '{wanted.name}'"
    offered = names.values | (names.types if importer_ts else frozenset())
    suggestion = _closest(wanted.name, offered)
    listed = sorted(n for n in offered if n != "default")
    if suggestion:
        message += f" (did you mean '{suggestion}'?)"
    elif 0 < len(listed) <= 6:
        message += f" (it exports {', '.join(listed)})"
    if lenient:
        message = f"'{wanted.name}' is undefined at run time: " + message.removeprefix("SyntaxError: ")
    elif from_package_types:
        message = f"{when_it_fails(imp)} unless '{wanted.name}' is only a type: {message}"
    else:
        message = f"{when_it_fails(imp)}: {message}"
    yield ctx.finding(
        f.MISSING_EXPORT,
        module,
        wanted.line,
        wanted.column,
        message,
        warning=lenient or from_package_types,
        specifier=spec,
        name=wanted.name,
    )


def _closest(name: str, candidates: frozenset[str]) -> str | None:
    options = [c for c in candidates if c != "default"]
    for option in options:
        if option.lower() == name.lower():
            return option
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return close[0] if close else None


def import_attribute(ctx: RuleContext, module: Module, edge: Edge, res: Target) -> Iterator[Result]:
    """An ES module that imports JSON must say `with { type: 'json' }` (TypeError at start otherwise)."""
    imp = edge.imp
    if imp.kind is ImportKind.REQUIRE or res.path is None or not res.path.endswith(".json"):
        return
    if module.format is not Format.ESM or (is_typescript(module.path) and not ctx.analysis.compiled_typescript):
        return
    if ("type", "json") in imp.attributes:
        return
    target = ctx.rel(res.path)
    yield ctx.edge_finding(
        f.MISSING_IMPORT_ATTRIBUTE,
        module,
        imp,
        f'{when_it_fails(imp)}: TypeError [ERR_IMPORT_ASSERTION_TYPE_MISSING]: Module "{target}" needs an import '
        "attribute of type \"json\": write `with { type: 'json' }`",
    )


def removed_import_assertion(ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:
    """`import x from './d.json' assert { type: 'json' }`: Node 22 removed the `assert` keyword; the file no
    longer parses (Node 18 and 20 accept it)."""
    if not edge.imp.asserted or ctx.analysis.node.major < 22 or module.format is not Format.ESM:
        return
    if is_typescript(module.path) and not ctx.analysis.compiled_typescript:
        return
    yield ctx.edge_finding(
        f.SYNTAX_ERROR,
        module,
        edge.imp,
        f"crashes at start: SyntaxError: Unexpected identifier 'assert' (Node {ctx.analysis.node} removed import "
        "assertions): write `with { type: 'json' }`",
    )


def require_of_esm(ctx: RuleContext, module: Module, edge: Edge, res: Target) -> Iterator[Result]:
    imp = edge.imp
    if imp.kind is not ImportKind.REQUIRE or res.path is None or is_typescript(module.path):
        return
    if ctx.analysis.format_of(res.path) is not Format.ESM:
        return
    node = ctx.analysis.node
    target = ctx.rel(res.path)
    if not node.requires_esm:
        message = f"Error [ERR_REQUIRE_ESM]: require() of ES Module {target} not supported on Node {node}"
    elif _has_top_level_await(ctx, res.path, set()):
        message = "Error [ERR_REQUIRE_ASYNC_MODULE]: require() cannot be used on an ESM graph with top-level await"
    else:
        return
    yield ctx.edge_finding(f.REQUIRE_OF_ESM, module, imp, f"{when_it_fails(imp)}: {message} (use import() instead)")


def _has_top_level_await(ctx: RuleContext, path: str, seen: set[str]) -> bool:
    if path in seen or not path.endswith((".js", ".mjs", ".ts", ".mts")):
        return False
    seen.add(path)
    source = ctx.analysis.loader.get(path)
    if source.facts.top_level_await:
        return True
    for imp in source.facts.imports:
        if imp.kind.is_esm_link and imp.specifier and not imp.type_only:
            res = ctx.analysis.resolve(imp.specifier, path, for_require=False)
            if isinstance(res, Target) and res.path and _has_top_level_await(ctx, res.path, seen):
                return True
    return False


def _relativize(ctx: RuleContext, text: str) -> str:
    return text.replace(ctx.graph.root + os.sep, "")


# ---- graph rules --------------------------------------------------------------------------------------


def circular_imports(ctx: RuleContext) -> Iterator[Result]:
    """One warning per cycle of statically linked project modules (strongly connected component)."""
    graph = ctx.graph
    nodes = [p for p in graph.parents if p in graph.modules]
    successors: dict[str, list[str]] = {}
    for path in nodes:
        targets = []
        for edge in graph.modules[path].edges:
            target = edge.target_path
            static = edge.imp.kind.is_esm_link or (edge.imp.kind is ImportKind.REQUIRE and not edge.imp.in_function)
            if target and static and not edge.imp.type_only and target in graph.modules and target != path:
                targets.append(target)
        successors[path] = targets
    for component in _strongly_connected(nodes, successors):
        if len(component) < 2:
            continue
        cycle = _cycle_through(component, successors)
        first = graph.modules[cycle[0]]
        edge = next(e for e in first.edges if e.target_path == cycle[1])
        shown = " → ".join(graph.rel(p) for p in [*cycle, cycle[0]])
        yield ctx.finding(
            f.CIRCULAR_IMPORT,
            first,
            edge.imp.line,
            edge.imp.column,
            f"circular import: {shown}; bindings used while the cycle loads are undefined or in their "
            "temporal dead zone",
            warning=True,
            specifier=edge.imp.specifier,
        )


def _strongly_connected(nodes: list[str], successors: dict[str, list[str]]) -> list[list[str]]:
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


def _cycle_through(component: list[str], successors: dict[str, list[str]]) -> list[str]:
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
