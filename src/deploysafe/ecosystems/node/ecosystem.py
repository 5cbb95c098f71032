"""Node.js — JavaScript and TypeScript — as a :class:`~deploysafe.check.ecosystem.Ecosystem`.

``open`` reads package.json (a malformed one stops here: Node refuses it too), finds the entries, decides
how TypeScript runs and which Node version to assume, and builds the resolver. The :class:`NodeCheck` it
returns answers the pipeline's questions for that one project.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deploysafe.check.cache import FactsCache
from deploysafe.check.ecosystem import Project, RuntimeChoice
from deploysafe.check.facts import Import, ImportKind
from deploysafe.check.findings import (
    COMPUTED_ENTRY,
    PACKAGE_MANAGER,
    STALE_BUILD,
    UNREADABLE,
    Finding,
    Severity,
    Unverified,
)
from deploysafe.check.fs import FileSystem
from deploysafe.check.graph import ModuleGraph
from deploysafe.check.rules import RuleSet
from deploysafe.check.sources import SourceLoader
from deploysafe.config import CheckTable
from deploysafe.ecosystems.node import files, module_alias, pnp
from deploysafe.ecosystems.node.analysis import Analysis
from deploysafe.ecosystems.node.entries import Entry, computed_app_scripts, detect_entries
from deploysafe.ecosystems.node.nodeversion import NodeVersion, assume
from deploysafe.ecosystems.node.package_pins import PackagePins
from deploysafe.ecosystems.node.packages import PackageJson, PackageJsonCache
from deploysafe.ecosystems.node.parser import NodeParser
from deploysafe.ecosystems.node.resolve import NodeResolver
from deploysafe.ecosystems.node.tsconfig import TsconfigLoader
from deploysafe.ecosystems.node.typescript import TypeScriptRun, typescript_run
from deploysafe.errors import ProjectError

if TYPE_CHECKING:
    from deploysafe.ecosystems.node.pnp_map import PnpMap

MANIFEST = "package.json"
INSTALL_MARKERS = tuple(
    f"node_modules/{name}" for name in (".package-lock.json", ".modules.yaml", ".yarn-state.yml", ".yarn-integrity")
)


@dataclass(frozen=True)
class NodeRuntime:
    """The Node version assumed (and why), and how TypeScript entries run (None when none is TypeScript)."""

    node: NodeVersion
    typescript: TypeScriptRun | None
    pnp_files: tuple[str, ...] = ()  # Yarn PnP: what its runtime reads at start, relative to the root

    @property
    def source(self) -> str:
        return self.node.source

    def __str__(self) -> str:
        return str(self.node)

    def to_json(self) -> dict[str, object]:
        """``node``, ``typescript`` and ``yarn_pnp``, each always present (null when it does not apply)."""
        pnp = {"verified": False, "runtime_files": len(self.pnp_files)} if self.pnp_files else None
        return {
            "node": {"version": str(self.node), "source": self.node.source},
            "typescript": self.typescript.to_json() if self.typescript else None,
            "yarn_pnp": pnp,
        }


def _rules() -> RuleSet:
    from deploysafe.ecosystems.node.rules import RULES  # the rules load with the first check, not at import

    return RULES


class NodeEcosystem:
    name = "node"
    parser = NodeParser()

    @property
    def rules(self) -> RuleSet:
        return _rules()

    @property
    def manifest(self) -> str:
        return MANIFEST

    @property
    def installed_dirs(self) -> frozenset[str]:
        return files.DEPENDENCY_DIRS

    @property
    def install_markers(self) -> tuple[str, ...]:
        """What npm (``node_modules/.package-lock.json``), pnpm (``.modules.yaml``) and Yarn classic
        (``.yarn-integrity``) or berry (``.yarn-state.yml``) write when an install ends: ``check --watch``
        re-checks then, not halfway through an install."""
        return INSTALL_MARKERS

    def detect(self, root: str) -> bool:
        return os.path.isfile(os.path.join(root, MANIFEST))

    def open(
        self,
        project: Project,
        settings: CheckTable,
        entries: Sequence[str],
        *,
        runtime: str | RuntimeChoice | None,
        cache: bool,
    ) -> NodeCheck:
        fs = FileSystem()
        packages = PackageJsonCache(fs)
        package = packages.at(project.root)
        if package is not None and package.error:
            if "nested too deeply" in package.error:  # Node reads it; deploysafe cannot follow it
                raise ProjectError(f"{package.path}: {package.error}; deploysafe cannot check this project")
            raise ProjectError(f"{package.path}: {package.error} (Node refuses to load a malformed package.json)")
        found = detect_entries(project.root, list(entries), list(settings.entries), package)
        typescript = typescript_run(project.root, package, found, settings.typescript)
        node = assume(runtime, settings.node, *_engines(project.root, package, found, packages))
        tsconfigs = TsconfigLoader(fs, stop_at=os.path.dirname(project.root))
        plug = pnp.find(project.root)
        plug_map = _pnp_map(plug.folder) if plug else None
        loader = SourceLoader(FactsCache(enabled=cache), parser=self.parser)
        loader.pinned = PackagePins(project.root, packages)  # installed package files: facts by version, unread
        analysis = Analysis(
            root=project.root,
            node=node,
            fs=fs,
            packages=packages,
            resolver=NodeResolver(fs, packages, node, tsconfigs, pnp=plug_map),
            loader=loader,
            compiled_typescript=typescript is not None and typescript.compiled,
            aliases_rewritten=typescript is not None and typescript.aliases_rewritten,
            typescript=typescript,
            module_aliases=module_alias.read(package),
            module_alias_preloaded=any(p.specifier in module_alias.REGISTERS for e in found for p in e.preloads),
            pnp=plug is not None,
        )
        shared = tuple(name for target in project.config.targets.values() for name in target.shared)
        pnp_files = plug.runtime_files(project.root) if plug else ()
        assumed = NodeRuntime(node, typescript, pnp_files)
        options = tuple(target.env.get("NODE_OPTIONS", "") for target in project.config.targets.values())
        return NodeCheck(
            project.root,
            package,
            found,
            assumed,
            analysis,
            shared=shared,
            pnp=plug,
            pnp_read=plug_map is not None,
            node_options=options,
        )


@dataclass
class NodeCheck:
    """One Node project under check: the :class:`~deploysafe.check.ecosystem.LanguageCheck` of Node."""

    root: str
    package: PackageJson | None
    entries: list[Entry]
    runtime: NodeRuntime
    modules: Analysis
    rules: RuleSet = field(default_factory=_rules)
    excludes: Sequence[str] = files.DEFAULT_EXCLUDES
    skipped_dirs: frozenset[str] = files.ALWAYS_SKIPPED_DIRS
    shared: tuple[str, ...] = ()  # files deploy targets keep in shared/: present on the host
    pnp: pnp.PnpProject | None = None  # installed by Yarn Plug'n'Play
    pnp_read: bool = False  # its map was read: package imports resolve through it
    node_options: tuple[str, ...] = ()  # NODE_OPTIONS the deploy targets set

    @property
    def built_from(self) -> frozenset[str]:
        """When node runs tsc's output and it is built: the TypeScript sources it is compiled from."""
        typescript = self.runtime.typescript
        if typescript is None or not typescript.built or typescript.build is None:
            return frozenset()
        from deploysafe.ecosystems.node.build_output import source_files

        return frozenset(source_files(self.root, typescript.build))

    @staticmethod
    def is_source(name: str) -> bool:
        return files.is_source(name)

    def preloads(self) -> dict[str, list[Import]]:
        """The `node -r X` / `--import X` modules of the start commands, as imports of the file holding them."""
        found: dict[str, list[Import]] = {}
        for entry in self.entries:
            for preload in entry.preloads:
                path = os.path.join(self.root, preload.declared_in)
                line, column = _locate(path, preload.specifier)
                kind = ImportKind.STATIC if preload.esm else ImportKind.REQUIRE
                imports = found.setdefault(path, [])
                if all(i.specifier != preload.specifier for i in imports):
                    imports.append(Import(kind, preload.specifier, line, column))
        return found

    def findings(self, graph: ModuleGraph) -> tuple[list[Finding], list[Unverified]]:
        """Every rule over the graph; syntax errors get a second opinion first."""
        from deploysafe.ecosystems.node import interiors
        from deploysafe.ecosystems.node.confirm import confirm
        from deploysafe.ecosystems.node.exports import ExportIndex
        from deploysafe.ecosystems.node.rules import RuleContext

        broken = [m.path for m in graph.modules.values() if m.source and m.source.facts.syntax_errors]
        broken.sort(key=lambda p: (not graph.is_reachable(p), p))
        lazy = interiors.lazy_project_files(graph)
        exports = ExportIndex(self.modules)
        started = {
            edge.followed_path: edge.imp.started_by
            for module in graph.reachable_modules()
            for edge in module.edges
            if edge.imp.started_by and edge.followed_path
        }
        context = RuleContext(graph, self.modules, exports, confirm(broken, self.root), lazy=lazy, started_by=started)
        findings, unverified = self.rules.run(context)
        inside = interiors.follow(self.modules, graph, lazy)
        if inside.modules:
            packages = interiors.interior_graph(graph, inside)
            broken = [p for p, m in inside.modules.items() if m.source and m.source.facts.syntax_errors]
            package_context = RuleContext(packages, self.modules, exports, confirm(sorted(broken), self.root))
            more, doubts = interiors.judge(package_context, self.rules, graph, inside)
            findings += more
            unverified += doubts
        if self.pnp is not None and self.pnp_read:
            from deploysafe.ecosystems.node import pnp_start

            bare = [e for e in self.entries if pnp_start.runs_without_runtime(e, self.node_options)]
            findings += pnp_start.unloaded_packages(graph, bare, self.root)
        typescript = self.runtime.typescript
        if typescript is not None and typescript.built and typescript.build is not None:
            from deploysafe.ecosystems.node.build_output import to_sources

            findings = to_sources(self.root, typescript.build, findings)
        return findings, unverified

    def project_findings(self) -> tuple[list[Finding], list[Unverified]]:
        """What fails before any import: a start command naming a file tsc writes elsewhere or an
        --env-file that is not there; and a stale build, which makes what is checked differ from what a
        build would ship."""
        from deploysafe.ecosystems.node.rules.missing_start_file import missing_start_files

        typescript = self.runtime.typescript
        commands = [(e.command, _holder(e.reason)) for e in self.entries if e.command]
        failures = _start_problems(self.root, typescript) + self._ts_node_module_syntax()
        failures += missing_start_files(self.root, commands, self.shared, _locate)
        doubts = _stale_build(self.root, typescript) + self._tsconfig_problems() + self._pnp_note()
        doubts += [
            Unverified(
                COMPUTED_ENTRY,
                name,
                line,
                1,
                f"apps[].script {expression} is computed when PM2 reads the "
                "file: not followed as an entry (name it in deploysafe.toml [check] entries)",
                True,
            )
            for name, line, expression in computed_app_scripts(self.root)
        ]
        return failures, doubts

    def _pnp_note(self) -> list[Unverified]:
        """Yarn PnP, said once: the packages whose map or archive could not be read are not verified."""
        if self.pnp is None:
            return []
        where = os.path.relpath(self.pnp.map, self.root).replace(os.sep, "/")
        unread = sorted(self.modules.resolver.unread_archives)
        if self.pnp_read and not unread:
            return []
        if self.pnp_read:
            names = ", ".join(os.path.relpath(p, self.pnp.folder).replace(os.sep, "/") for p in unread[:3])
            cause = f"these package archives could not be read: {names}" + (" …" if len(unread) > 3 else "")
        else:
            cause = f"deploysafe could not read the PnP map in {where} (nor .pnp.data.json)"
        detail = (
            f"Yarn PnP: packages not verified — {cause} (imports of declared packages, their subpaths and "
            "exports are unchecked); pack ships .pnp.cjs, .pnp.loader.mjs and .yarn/"
        )
        return [Unverified(PACKAGE_MANAGER, where, 1, 1, detail, True)]

    def _ts_node_module_syntax(self) -> list[Finding]:
        """ts-node (without its ESM loader) compiles a `.ts` entry with the tsconfig's `module`; an ES
        module setting in a CommonJS package gives node `import` statements it cannot run: the start fails
        before any import is followed (confirmed with ts-node 10.9 on Node 18.20 and 20.20)."""
        from deploysafe.ecosystems.node.formats import Format
        from deploysafe.ecosystems.node.rules import syntax_error, unknown_file_extension

        typescript = self.runtime.typescript
        tsconfigs = self.modules.resolver.tsconfigs
        if typescript is None or typescript.compiled or typescript.runner != "ts-node" or tsconfigs is None:
            return []
        found = []
        for entry in self.entries:
            path = os.path.join(self.root, entry.path)
            if not path.endswith((".ts", ".tsx")) or self.modules.format_of(path) is not Format.COMMONJS:
                continue
            config = tsconfigs.nearest(os.path.dirname(path))
            module = config.module if config else None
            if module is None or not (module.startswith("es") or module == "preserve"):
                continue
            if self.runtime.node.detects_module_syntax:
                rule = unknown_file_extension.ID
                crash = f'TypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension ".ts" for {entry.path}'
            else:
                rule = syntax_error.ID
                crash = "SyntaxError: Cannot use import statement outside a module"
            message = (
                f'crashes at start: {crash}: ts-node compiles {entry.path} with "module": "{module}" from '
                f"{os.path.relpath(config.path, self.root) if config else 'tsconfig.json'}, but the package is "
                'CommonJS (no "type": "module"): set "module": "commonjs" (or "nodenext"), or run ts-node\'s ESM '
                "loader in an ESM package"
            )
            found.append(Finding(rule, Severity.ERROR, entry.path, 1, 1, message, True, (entry.path,)))
        return found

    def _tsconfig_problems(self) -> list[Unverified]:
        """A tsconfig the run depends on that could not be read (bad JSON, an `extends` not found): what
        it would set (paths, module, rootDir) was not followed, so it is unverified, never silent."""
        typescript = self.runtime.typescript
        if typescript is None:
            return []
        configs = []
        if typescript.build is not None:
            configs.append(typescript.build.config)
        tsconfigs = self.modules.resolver.tsconfigs
        for entry in self.entries:
            nearest = tsconfigs.nearest(os.path.dirname(os.path.join(self.root, entry.path))) if tsconfigs else None
            if nearest is not None:
                configs.append(nearest)
        problems = dict.fromkeys(error for config in configs for error in config.errors)
        prefix = self.root.rstrip(os.sep) + os.sep
        found = []
        for error in problems:
            where, _, _ = error.partition(":")
            file = os.path.relpath(where, self.root).replace(os.sep, "/") if os.path.isabs(where) else where
            detail = f"{error.replace(prefix, '')}; the options it sets (paths, module, rootDir) were not followed"
            found.append(Unverified(UNREADABLE, file, 1, 1, detail, True))
        return found

    def close(self) -> None:
        self.modules.loader.cache.close()


def _pnp_map(folder: str) -> PnpMap | None:
    """Yarn PnP's map, read (its reader loads only for a PnP project)."""
    from deploysafe.ecosystems.node import pnp_map

    return pnp_map.load(folder)


def _engines(
    root: str, package: PackageJson | None, entries: list[Entry], packages: PackageJsonCache
) -> tuple[str | None, str]:
    """engines.node and the package.json saying it: the project's, else the one nearest the entries (a
    service folder checked from the repository root gets the version it gets when checked from its folder)."""
    if package is not None and package.engines_node:
        return package.engines_node, "package.json"
    for entry in entries:
        scope = packages.scope(os.path.dirname(os.path.join(root, entry.path)))
        if scope is not None and scope.engines_node:
            return scope.engines_node, os.path.relpath(scope.path, root).replace(os.sep, "/")
    return None, "package.json"


def _holder(reason: str) -> str:
    """The file holding an entry's start command, from the reason it was chosen."""
    first = reason.split(" ", 1)[0]
    return first if first == "Procfile" or first.startswith("ecosystem.config") else MANIFEST


def _locate(path: str, text: str) -> tuple[int, int]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if text in line:
                    return number, line.index(text) + 1
    except OSError:
        pass
    return 1, 1


def _start_problems(root: str, typescript: TypeScriptRun | None) -> list[Finding]:
    """The start command runs a file tsc writes elsewhere: Node stops before any import."""
    from deploysafe.ecosystems.node.rules import unresolved_import

    found = []
    for problem in typescript.start_problems if typescript else ():
        line, column = _locate(os.path.join(root, MANIFEST), problem.start)
        message = (
            f"crashes at start: Cannot find module '{problem.start}': tsc compiles {problem.source} to "
            f"{problem.emitted}, not {problem.start}; {problem.why}"
        )
        found.append(
            Finding(unresolved_import.ID, Severity.ERROR, MANIFEST, line, column, message, True, (), problem.start)
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
