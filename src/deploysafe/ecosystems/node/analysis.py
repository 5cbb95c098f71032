"""What the stages of one Node check share: the resolver and its caches, the module format of each file,
and every import of a file resolved into an edge. This is the :class:`~deploysafe.check.ecosystem.Modules`
the graph walks."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from deploysafe.check.facts import Import, ImportKind
from deploysafe.check.fs import FileSystem
from deploysafe.check.graph import Edge
from deploysafe.check.resolution import NOT_FOUND, PACKAGE_NOT_FOUND, Resolution, Unresolved
from deploysafe.check.sources import SourceLoader
from deploysafe.ecosystems.node import files, module_alias
from deploysafe.ecosystems.node.formats import Format, emitted_format, is_typescript, module_format
from deploysafe.ecosystems.node.installed import PackageIndex
from deploysafe.ecosystems.node.module_alias import ModuleAliases
from deploysafe.ecosystems.node.nodeversion import NodeVersion
from deploysafe.ecosystems.node.packages import PackageJson, PackageJsonCache
from deploysafe.ecosystems.node.parse.facts import FolderLoad, NodeModuleFacts
from deploysafe.ecosystems.node.resolve import CompiledTypeScript, NodeResolver
from deploysafe.ecosystems.node.typescript import TypeScriptRun, erased_by_compiler


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
    module_aliases: ModuleAliases | None = None  # module-alias's `_moduleAliases`, hooking require()
    module_alias_preloaded: bool = False  # the start command preloads module-alias/register
    _alias_registered_elsewhere: bool | None = None
    pnp: bool = False  # Yarn Plug'n'Play resolves packages (see pnp.py): a package not found is not judged
    _resolved: dict[tuple[str, str, bool, bool, bool], Resolution] = field(default_factory=dict)
    _formats: dict[str, Format] = field(default_factory=dict)
    _installed: PackageIndex | None = None

    @property
    def installed(self) -> PackageIndex:
        """What node_modules holds, by package name: built once per check, on the first question."""
        if self._installed is None:
            self._installed = PackageIndex(self.root, self.fs)
        return self._installed

    @staticmethod
    def is_source(path: str) -> bool:
        return files.is_source(path)

    @staticmethod
    def is_project_file(path: str) -> bool:
        return files.is_project_file(path)

    def display_path(self, path: str) -> str:
        """A file of a Yarn PnP package archive by its path inside the archive, not its unpacked copy's."""
        return self.resolver.zips.virtual(path) if self.resolver.pnp is not None else path

    def forget(self, paths: Iterable[str]) -> None:
        """These files' content changed (nothing was added, removed or renamed): their facts and the format
        read from them are computed again; resolutions depend on names only and stay."""
        paths = list(paths)
        self.loader.forget(paths)
        self._alias_registered_elsewhere = None  # where module-alias's register runs may have moved
        for path in paths:
            self._formats.pop(path, None)

    def format_of(self, path: str) -> Format:
        if path not in self._formats:
            if self.compiled_typescript and is_typescript(path):
                config = self.resolver.tsconfigs.nearest(os.path.dirname(path)) if self.resolver.tsconfigs else None
                self._formats[path] = emitted_format(path, config.module if config else None, self.packages)
            else:
                facts = self.loader.get(path).facts if files.is_source(path) else None
                self._formats[path] = module_format(path, facts, self.packages, self.node)
        return self._formats[path]

    def resolve(self, specifier: str, importer: str, for_require: bool) -> Resolution:
        typescript = is_typescript(importer)
        compiled = None
        if typescript and self.compiled_typescript:
            esm = not for_require and self.format_of(importer) is Format.ESM
            full_paths = self.typescript is not None and self.typescript.full_paths
            compiled = CompiledTypeScript(esm=esm, aliases_rewritten=self.aliases_rewritten, full_paths=full_paths)
        elif typescript and not for_require and self._under_esm_loader(importer):
            compiled = CompiledTypeScript(esm=True, aliases_rewritten=False, full_paths=False)
        key = (os.path.dirname(importer), specifier, for_require, typescript, compiled is not None and compiled.esm)
        if key not in self._resolved:
            hooked = self._runtime_paths(specifier, importer, for_require) or self._module_alias(
                specifier, importer, for_require, typescript
            )
            self._resolved[key] = hooked or self.resolver.resolve(
                specifier, importer, for_require=for_require, typescript=typescript, compiled=compiled
            )
        return self._resolved[key]

    def _under_esm_loader(self, importer: str) -> bool:
        """ts-node's ESM loader runs this ES module: Node's ESM lookup, with `./x.js` naming x.ts."""
        run = self.typescript
        return run is not None and run.esm_loader and self.format_of(importer) is Format.ESM

    def _module_alias(self, specifier: str, importer: str, for_require: bool, typescript: bool) -> Resolution | None:
        """module-alias hooks require(): an aliased name is resolved as the path it stands for."""
        if self.module_aliases is None or not for_require or not files.is_project_file(importer):
            return None
        target = self.module_aliases.rewrite(specifier)
        if target is None:
            return None
        return self.resolver.resolve(target, importer, for_require=True, typescript=typescript)

    def _alias_not_registered(self, path: str, imp: Import) -> Unresolved | None:
        """An aliased require that runs before module-alias's register does: Node looks for a package."""
        aliases = self.module_aliases
        if aliases is None or self.module_alias_preloaded or imp.specifier is None:
            return None
        if not files.is_project_file(path) or aliases.rewrite(imp.specifier) is None:
            return None
        own = module_alias.register_line(self.loader.get(path).facts.imports) if files.is_source(path) else None
        if own is not None and own < imp.line:
            return None
        if own is None and self._registered_elsewhere():
            return None
        where = f"only at line {own}, after it" if own is not None else "nowhere in the project"
        return Unresolved(
            NOT_FOUND,
            package=imp.specifier.split("/")[0],
            detail=f"module-alias's register runs {where}, so `_moduleAliases` does not apply yet; require "
            "'module-alias/register' first",
        )

    def _registered_elsewhere(self) -> bool:
        if self._alias_registered_elsewhere is None:
            self._alias_registered_elsewhere = any(
                module_alias.register_line(self.loader.get(p).facts.imports) is not None
                for p in self.loader.loaded()
                if files.is_project_file(p) and files.is_source(p)
            )
        return self._alias_registered_elsewhere

    def _runtime_paths(self, specifier: str, importer: str, for_require: bool) -> Resolution | None:
        """`node -r tsconfig-paths/register` hooks require() of the running JavaScript."""
        run = self.typescript
        if run is None or run.runtime_paths is None or not for_require or not run.compiled:
            return None
        if specifier.startswith((".", "/")) or not files.is_project_file(importer):
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

    def edges_of(self, path: str, imports: Sequence[Import]) -> list[Edge]:
        edges = []
        imports = self._with_folder_loads(path, imports)
        typescript = is_typescript(path)
        # tsx, ts-node and tsc compile a CommonJS file's imports to require().
        compiled_to_require = typescript and self.format_of(path) is Format.COMMONJS
        for imp in imports:
            for_require = imp.kind is ImportKind.REQUIRE
            # The cheap test first: only an import that could be erased looks up its tsconfig.
            if (
                typescript
                and erased_by_compiler(imp, False)
                and erased_by_compiler(imp, self._verbatim(path), self._decorator_metadata(path))
            ):
                imp = replace(imp, type_only=True)
            if compiled_to_require and imp.kind in (ImportKind.STATIC, ImportKind.REEXPORT):
                for_require = True
            if imp.specifier is None:
                edges.append(Edge(path, imp, None, for_require))
                continue
            early = self._alias_not_registered(path, imp) if for_require else None
            resolution = None if imp.type_only else early or self.resolve(imp.specifier, path, for_require)
            edges.append(Edge(path, imp, resolution, for_require))
        return edges

    def _with_folder_loads(self, path: str, imports: Sequence[Import]) -> Sequence[Import]:
        """``imports`` with each folder load of the file as one import() per code file of the folder.

        A listing replaces the computed import()/require() calls its entries reach (they load what the
        listing returns); other computed loads stay unverified, and so does a folder that could not be read,
        as one edge naming the listing call."""
        loads = self._folder_loads_of(path)
        if not loads:
            return imports
        from deploysafe.ecosystems.node.folder_loads import folder_imports  # only a file that lists a folder

        added: list[Import] = []
        sources = self.typescript is not None and not self.typescript.compiled
        for load in loads:
            added.extend(folder_imports(load, path, self.root, typescript=sources))
        replaced = {position for load in loads for position in load.replaces}
        if replaced:
            imports = [imp for imp in imports if imp.specifier is not None or (imp.line, imp.column) not in replaced]
        return [*imports, *added]

    def _folder_loads_of(self, path: str) -> tuple[FolderLoad, ...]:
        if not files.is_source(path):
            return ()
        facts = self.loader.get(path).facts
        return facts.folder_loads if isinstance(facts, NodeModuleFacts) else ()

    def _decorator_metadata(self, path: str) -> bool:
        config = self.resolver.tsconfigs.nearest(os.path.dirname(path)) if self.resolver.tsconfigs else None
        return bool(config and config.emit_decorator_metadata)

    def _verbatim(self, path: str) -> bool:
        config = self.resolver.tsconfigs.nearest(os.path.dirname(path)) if self.resolver.tsconfigs else None
        return bool(config and config.verbatim_module_syntax)
