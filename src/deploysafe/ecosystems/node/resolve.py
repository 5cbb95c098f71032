"""Node's module resolution (ESM and CommonJS, as Node 20 does it) with TypeScript's additions.

The ESM half follows the resolver algorithm in Node's documentation (ESM_RESOLVE, PACKAGE_RESOLVE,
PACKAGE_EXPORTS_RESOLVE, PACKAGE_TARGET_RESOLVE); the CommonJS half follows `require.resolve`
(LOAD_AS_FILE, LOAD_AS_DIRECTORY, LOAD_NODE_MODULES). Each import is resolved with its own kind's
conditions: ESM imports never see "require" branches and require() never sees "import" ones.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from deploysafe.check.fs import DIR, FileSystem
from deploysafe.check.resolution import (
    ALIAS_NOT_REWRITTEN,
    CASE_MISMATCH,
    DIRECTORY_IMPORT,
    EXTENSIONLESS,
    IMPORT_NOT_DEFINED,
    INVALID_PACKAGE,
    INVALID_SPECIFIER,
    NOT_EXPORTED,
    NOT_FOUND,
    PACKAGE_NOT_FOUND,
    UNSUPPORTED_SCHEME,
    Resolution,
    ResolvedModule,
    Unresolved,
)
from deploysafe.ecosystems.node.builtins import builtin_name
from deploysafe.ecosystems.node.nodeversion import NodeVersion
from deploysafe.ecosystems.node.packages import ABSENT, PackageJsonCache
from deploysafe.ecosystems.node.pnp_zip import MISSING_ARCHIVE, ZipFolders, archive_of
from deploysafe.ecosystems.node.tsconfig import TsconfigLoader

if TYPE_CHECKING:
    from deploysafe.ecosystems.node.pnp_map import PnpMap

CJS_EXTENSIONS = (".js", ".json", ".node")
ESM_GUESSES = (".js", ".mjs", ".cjs", ".json", ".node")  # what an extensionless ESM import probably meant
TS_SOURCE_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts")
# What tsx/ts-node try for an extensionless specifier from a TypeScript file.
TS_EXTENSIONLESS = (".ts", ".tsx", ".js", ".jsx", ".mts", ".cts", ".mjs", ".cjs", ".json")
TS_JS_EQUIVALENTS = {
    ".js": (".ts", ".tsx", ".js", ".jsx"),
    ".jsx": (".tsx", ".jsx"),
    ".mjs": (".mts", ".mjs"),
    ".cjs": (".cts", ".cjs"),
}


class _PackageError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class NodeResolver:
    def __init__(
        self,
        fs: FileSystem,
        packages: PackageJsonCache,
        node: NodeVersion,
        tsconfigs: TsconfigLoader | None = None,
        pnp: PnpMap | None = None,
        zips: ZipFolders | None = None,
    ) -> None:
        self.fs = fs
        self.packages = packages
        self.node = node
        self.tsconfigs = tsconfigs
        self.pnp = pnp  # Yarn Plug'n'Play's map: bare imports of the files it holds go through it
        self.zips = zips or ZipFolders()
        self.unread_archives: set[str] = set()  # PnP package archives that could not be unpacked
        self._esm_conditions = node.conditions(for_require=False)
        self._cjs_conditions = node.conditions(for_require=True)

    # ---- entry point -------------------------------------------------------------------------------

    def resolve(
        self,
        specifier: str,
        importer: str,
        *,
        for_require: bool,
        typescript: bool = False,
        compiled: CompiledTypeScript | None = None,
    ) -> Resolution:
        """Where ``specifier``, written in the file ``importer``, loads from. With ``compiled``, a
        TypeScript importer is judged as the JavaScript tsc emits for it, which Node runs as written."""
        parent = os.path.dirname(importer)
        if specifier.startswith(("./", "../", "/")) or specifier in (".", ".."):
            # require() reads `./x.js?v=1` as a file name; import (and tsx's require) drop the query
            literal = for_require and (not typescript or compiled is not None)
            path = os.path.normpath(os.path.join(parent, specifier if literal else _strip_query(specifier)))
            if typescript and compiled is not None and compiled.esm and not compiled.full_paths:
                return self._compiled_esm_file(path, specifier)
            if typescript:
                return self._typescript_file(path, specifier, for_require)
            return self._cjs_path(path) if for_require else self._esm_path(path, specifier)
        if for_require and specifier.startswith(("file:", "data:")):  # require() takes no URL: "Cannot find module"
            return Unresolved(INVALID_SPECIFIER, detail="require() takes a path or a package name, not a URL")
        if specifier.startswith("file:"):
            path = _file_url_path(specifier)
            return self._esm_path(path, specifier)
        if specifier.startswith("data:"):
            return ResolvedModule()
        name = builtin_name(specifier)
        if name is not None:
            return ResolvedModule(builtin=name)
        if specifier.startswith("node:"):
            return Unresolved(INVALID_SPECIFIER, detail=f"No such built-in module: {specifier}")
        if _has_scheme(specifier):
            return Unresolved(UNSUPPORTED_SCHEME, detail=f"Only file: and data: URLs are supported: {specifier}")
        if specifier.startswith("#"):
            return self._package_imports(specifier, importer, for_require, typescript)
        if typescript and (compiled is None or compiled.aliases_rewritten):
            mapped = self._tsconfig_paths(specifier, parent, for_require)
            if mapped is not None:
                return mapped
        found = self._package(specifier, parent, for_require)
        if (
            typescript
            and compiled is None
            and isinstance(found, Unresolved)
            and found.reason in (EXTENSIONLESS, DIRECTORY_IMPORT)
            and found.intended
        ):
            # tsx resolves a package subpath as it does a relative one: `pkg/lib/types` finds types.js.
            return ResolvedModule(
                path=self.fs.realpath(found.intended), package=found.package, package_dir=found.package_dir
            )
        if typescript and compiled is not None and not compiled.aliases_rewritten and isinstance(found, Unresolved):
            alias = self._tsconfig_paths(specifier, parent, for_require)
            if isinstance(alias, ResolvedModule) and alias.path:
                return Unresolved(ALIAS_NOT_REWRITTEN, package=found.package, intended=alias.path)
        return found

    def conditions(self, for_require: bool) -> frozenset[str]:
        return self._cjs_conditions if for_require else self._esm_conditions

    # ---- files -------------------------------------------------------------------------------------

    def _esm_path(self, path: str, specifier: str) -> Resolution:
        kind = self.fs.kind(path)
        if kind == "f":
            return ResolvedModule(path=self.fs.realpath(path))
        if kind == "d":
            index = next(
                (n for n in ("index.js", "index.mjs", "index.cjs") if self.fs.is_file(os.path.join(path, n))),
                None,
            )
            return Unresolved(
                DIRECTORY_IMPORT,
                path=path,
                suggestion=_join_specifier(specifier, index) if index else None,
                intended=os.path.join(path, index) if index else None,
            )
        return self._missing(path, specifier, esm=True)

    def _cjs_path(self, path: str) -> Resolution:
        found = self._load_as_file(path) or self._load_as_directory(path)
        if found:
            return ResolvedModule(path=self.fs.realpath(found))
        return self._missing(path, None, esm=False)

    def _load_as_file(self, path: str) -> str | None:
        if self.fs.is_file(path):
            return path
        for ext in CJS_EXTENSIONS:
            if self.fs.is_file(path + ext):
                return path + ext
        return None

    def _load_index(self, path: str) -> str | None:
        for ext in CJS_EXTENSIONS:
            candidate = os.path.join(path, "index" + ext)
            if self.fs.is_file(candidate):
                return candidate
        return None

    def _load_as_directory(self, path: str) -> str | None:
        if not self.fs.is_dir(path):
            return None
        pkg = self.packages.at(path)
        if pkg is not None and pkg.main:
            main = os.path.normpath(os.path.join(path, pkg.main))
            found = self._load_as_file(main) or self._load_index(main)
            if found:
                return found
        return self._load_index(path)

    def _broken_main(self, path: str) -> str | None:
        """The missing file a folder's package.json "main" names, when require() found nothing in the folder:
        Node then throws instead of looking further up (a folder without "main" is passed over)."""
        if not self.fs.is_dir(path):
            return None
        pkg = self.packages.at(path)
        return os.path.normpath(os.path.join(path, pkg.main)) if pkg is not None and pkg.main else None

    def _compiled_esm_file(self, path: str, specifier: str) -> Resolution:
        """An import in ESM that tsc emitted: Node needs the output's full file name, so `./x.js` (the
        output of x.ts) works and `./x` or `./dir` do not, whatever tsx would do with the source."""
        ext = os.path.splitext(path)[1]
        if ext in TS_JS_EQUIVALENTS or ext in TS_SOURCE_EXTENSIONS or ext in (".json", ".node"):
            return self._typescript_file(path, specifier, for_require=False)
        for candidate in _typescript_candidates(path):
            if self.fs.is_file(candidate):
                output = specifier + _output_extension(candidate) if candidate.startswith(path + ".") else None
                if output:
                    return Unresolved(EXTENSIONLESS, path=path, suggestion=output, intended=candidate)
                index = os.path.basename(candidate)
                return Unresolved(
                    DIRECTORY_IMPORT,
                    path=path,
                    suggestion=_join_specifier(specifier, "index" + _output_extension(index)),
                    intended=candidate,
                )
        return self._missing(path, specifier, esm=True)

    def _typescript_file(self, path: str, specifier: str, for_require: bool) -> Resolution:
        """tsx/ts-node lookup: `.js` may name a `.ts` source; extensionless and index files work, and
        require() (a CommonJS file's imports) also finds a native addon `x.node` for `./x`."""
        for candidate in _typescript_candidates(path, native=for_require):
            if self.fs.is_file(candidate):
                return ResolvedModule(path=self.fs.realpath(candidate))
        return self._missing(path, specifier, esm=False, typescript=True)

    def _missing(self, path: str, specifier: str | None, *, esm: bool, typescript: bool = False) -> Unresolved:
        """Why ``path`` is not there, with the closest thing that is."""
        if esm:
            for ext in ESM_GUESSES:
                if self.fs.is_file(path + ext):
                    return Unresolved(EXTENSIONLESS, path=path, suggestion=(specifier or "") + ext, intended=path + ext)
        if typescript:
            candidates = list(_typescript_candidates(path))
        elif esm:
            candidates = [path, *(path + e for e in ESM_GUESSES)]
        else:
            candidates = [
                path,
                *(path + e for e in CJS_EXTENSIONS),
                *(os.path.join(path, "index" + e) for e in CJS_EXTENSIONS),
            ]
        for candidate in candidates:
            match = self.fs.case_insensitive(candidate)
            if match is not None and self.fs.is_file(match.actual):
                return Unresolved(
                    CASE_MISMATCH,
                    path=path,
                    actual=match.actual,
                    detail=f"'{match.wrong_component}' is '{match.right_component}' on disk",
                    intended=match.actual,
                )
        return Unresolved(NOT_FOUND, path=path, suggestion=self._similar_file(path))

    def _similar_file(self, path: str) -> str | None:
        """An existing file whose name is close to the missing one (same directory or one level up)."""
        directory, name = os.path.split(path)
        while directory and not self.fs.is_dir(directory):
            directory = os.path.dirname(directory)
        listing = self.fs.listing(directory) if directory else None
        if not listing:
            return None
        files = [n for n, kind in listing.items() if kind == "f"]
        import difflib  # only for a file not found

        close = difflib.get_close_matches(name, files, n=1, cutoff=0.75)
        return os.path.join(directory, close[0]) if close else None

    # ---- packages ----------------------------------------------------------------------------------

    def _package(self, specifier: str, parent: str, for_require: bool) -> Resolution:
        split = _split_package(specifier)
        if split is None:
            return Unresolved(INVALID_SPECIFIER, detail=f"Invalid module specifier '{specifier}'")
        name, subpath = split
        conditions = self.conditions(for_require)

        scope = self.packages.scope(parent)
        if scope is not None and scope.name == name and scope.exports not in (ABSENT, None):
            return self._through_exports(scope.dir, name, subpath, scope.exports, conditions, for_require, specifier)

        if self.pnp is not None:
            placed = self._pnp_package(name, subpath, parent, for_require, specifier)
            if placed is not None:
                return placed

        unloadable: str | None = None  # an installed folder of this name that require() found nothing in
        for directory in _ancestors(parent):
            if os.path.basename(directory) == "node_modules":
                continue
            listing = self.fs.listing(directory)
            if listing is not None and listing.get("node_modules") != DIR:  # no folder to look in here
                continue
            package_dir = os.path.join(directory, "node_modules", name)
            if not self.fs.is_dir(package_dir):
                if for_require:
                    found = self._load_as_file(os.path.join(directory, "node_modules", specifier))
                    if found:
                        return ResolvedModule(
                            path=self.fs.realpath(found), package=name, package_dir=os.path.dirname(found)
                        )
                continue
            real_dir = self.fs.realpath(package_dir)
            inside = self._in_package(real_dir, name, subpath, for_require, specifier)
            if inside is not None:
                return inside
            unloadable = unloadable or real_dir  # require keeps looking further up (no main, or "main": "")
        if unloadable is not None:  # installed, but with nothing require() can load (`"main": ""`, types only)
            return self._unloadable(unloadable, name, subpath)
        return Unresolved(PACKAGE_NOT_FOUND, package=name)

    def _pnp_package(
        self, name: str, subpath: str, parent: str, for_require: bool, specifier: str
    ) -> Resolution | None:
        """A bare import as Yarn PnP resolves it: the issuer's declared dependency (or PnP's refusal),
        then the package's own exports, main and files, as in node_modules. None outside the map."""
        assert self.pnp is not None
        placed = self.pnp.resolve(name, self.zips.virtual(parent))
        if placed is None:
            return None
        from deploysafe.ecosystems.node.pnp_map import Found  # loaded with the map, only for PnP

        if not isinstance(placed, Found):
            return Unresolved(PACKAGE_NOT_FOUND, package=name, detail=placed.detail)
        real_dir = self.zips.real(placed.location.rstrip(os.sep))
        if real_dir is None or not self.fs.is_dir(real_dir):
            archive = archive_of(placed.location)
            if archive is not None and not self.fs.exists(archive):  # node fails to open it: ENOENT
                where = os.path.relpath(archive, self.pnp.folder).replace(os.sep, "/")
                return Unresolved(PACKAGE_NOT_FOUND, package=name, detail=f"{MISSING_ARCHIVE} {where} is not there")
            self.unread_archives.add(placed.location)
            return Unresolved(PACKAGE_NOT_FOUND, package=name)  # not judged: said once as unverified
        real_dir = self.fs.realpath(real_dir)
        found = self._in_package(real_dir, name, subpath, for_require, specifier) or self._unloadable(
            real_dir, name, subpath
        )
        if isinstance(found, Unresolved):
            return replace(found, detail=self.zips.virtualize(found.detail))
        return found

    def _in_package(
        self, real_dir: str, name: str, subpath: str, for_require: bool, specifier: str
    ) -> Resolution | None:
        """``subpath`` of the package in ``real_dir``: its exports, else its files (as require() or import
        loads them); None when require() finds nothing to load there (Node then looks further up)."""
        pkg = self.packages.at(real_dir)
        if pkg is not None and pkg.error:
            return Unresolved(INVALID_PACKAGE, path=pkg.path, package=name, detail=pkg.error)
        if pkg is not None and pkg.exports not in (ABSENT, None):
            conditions = self.conditions(for_require)
            return self._through_exports(real_dir, name, subpath, pkg.exports, conditions, for_require, specifier)
        if not for_require:
            if subpath == ".":
                return self._legacy_main(real_dir, name, pkg.main if pkg else None)
            return self._package_file(os.path.join(real_dir, subpath[2:]), name, real_dir, specifier)
        target = os.path.join(real_dir, subpath[2:]) if subpath != "." else real_dir
        found = self._load_as_file(target) or self._load_as_directory(target)
        if found:
            return ResolvedModule(path=self.fs.realpath(found), package=name, package_dir=real_dir)
        broken = self._broken_main(target)
        if broken is not None:  # Node stops here: "Please verify that the package.json has a valid main"
            return Unresolved(
                NOT_FOUND,
                path=broken,
                package=name,
                detail='the file its package.json "main" names is missing, and so is index.js',
                package_dir=real_dir,
            )
        return None

    def _unloadable(self, real_dir: str, name: str, subpath: str) -> Unresolved:
        """An installed package with nothing require() can load for ``subpath``."""
        pkg = self.packages.at(real_dir)
        main = pkg.main if pkg is not None and pkg.main else "index.js"
        what = "no main file or index.js" if subpath == "." else f"no '{subpath[2:]}'"
        return Unresolved(
            NOT_FOUND,
            path=os.path.join(real_dir, main if subpath == "." else subpath[2:]),
            package=name,
            detail=f"the package is installed but has {what} for require() to load",
            package_dir=real_dir,
        )

    def _package_file(self, path: str, name: str, package_dir: str, specifier: str) -> Resolution:
        resolved = self._esm_path(path, specifier)
        if isinstance(resolved, ResolvedModule):
            return ResolvedModule(path=resolved.path, package=name, package_dir=package_dir)
        return Unresolved(
            resolved.reason,
            path=resolved.path,
            package=name,
            detail=resolved.detail,
            suggestion=resolved.suggestion,
            actual=resolved.actual,
            intended=resolved.intended,
            package_dir=package_dir,
        )

    def _legacy_main(self, package_dir: str, name: str, main: str | None) -> Resolution:
        candidates: list[str] = []
        if main:
            base = os.path.join(package_dir, main)
            candidates += [base, base + ".js", base + ".json", base + ".node"]
            candidates += [os.path.join(base, "index" + e) for e in CJS_EXTENSIONS]
        candidates += [os.path.join(package_dir, "index" + e) for e in CJS_EXTENSIONS]
        for candidate in candidates:
            if self.fs.is_file(candidate):
                return ResolvedModule(path=self.fs.realpath(candidate), package=name, package_dir=package_dir)
        missing = os.path.join(package_dir, main or "index.js")
        return Unresolved(
            NOT_FOUND, path=missing, package=name, detail=f"the package's main file is missing: {missing}"
        )

    def _through_exports(
        self,
        package_dir: str,
        name: str,
        subpath: str,
        exports: Any,
        conditions: frozenset[str],
        for_require: bool,
        specifier: str,
    ) -> Resolution:
        try:
            resolved = _exports_resolve(package_dir, subpath, exports, conditions)
        except _PackageError as err:
            return Unresolved(
                err.reason, path=os.path.join(package_dir, "package.json"), package=name, detail=err.detail
            )
        if for_require:
            if self.fs.is_file(resolved):
                return ResolvedModule(path=self.fs.realpath(resolved), package=name, package_dir=package_dir)
            return Unresolved(
                NOT_FOUND, path=resolved, package=name, detail=f'the file its "exports" names is missing: {resolved}'
            )
        return self._package_file(resolved, name, package_dir, specifier)

    def _package_imports(self, specifier: str, importer: str, for_require: bool, typescript: bool) -> Resolution:
        if specifier == "#" or specifier.startswith("#/"):
            return Unresolved(INVALID_SPECIFIER, detail=f"Invalid module specifier '{specifier}'")
        scope = self.packages.scope(os.path.dirname(importer))
        if scope is not None and isinstance(scope.imports, dict):
            conditions = self.conditions(for_require)
            try:
                resolved = _imports_exports_resolve(specifier, scope.imports, scope.dir, True, conditions)
            except _PackageError as err:
                return Unresolved(err.reason, path=scope.path, detail=err.detail)
            if isinstance(resolved, tuple):  # ("bare", specifier): an imports target naming a package
                return self._package(resolved[1], scope.dir, for_require)
            if resolved is not None:
                if typescript:
                    return self._typescript_file(resolved, specifier, for_require)
                return self._cjs_path(resolved) if for_require else self._esm_path(resolved, specifier)
        return Unresolved(
            IMPORT_NOT_DEFINED,
            path=scope.path if scope else None,
            detail=f'Package import specifier "{specifier}" is not defined'
            + (f" in package {scope.path}" if scope else ""),
        )

    # ---- TypeScript paths --------------------------------------------------------------------------

    def _tsconfig_paths(self, specifier: str, parent: str, for_require: bool) -> Resolution | None:
        if self.tsconfigs is None:
            return None
        config = self.tsconfigs.nearest(parent)
        if config is None:
            return None
        if config.paths:
            match = match_paths(specifier, config.paths)
            if match is not None:
                targets, star = match
                mapped = [os.path.normpath(os.path.join(config.paths_base, t.replace("*", star))) for t in targets]
                for path in mapped:
                    for candidate in _typescript_candidates(path):
                        if self.fs.is_file(candidate):
                            return ResolvedModule(path=self.fs.realpath(candidate))
                # TypeScript falls back to node_modules when no mapped file exists; when no package
                # exists either, the alias miss is the more useful thing to report. The package is
                # resolved with the import's own conditions: tsx runs a CommonJS file's imports as require().
                package = self._package(specifier, parent, for_require)
                if isinstance(package, ResolvedModule) or not mapped:
                    return package
                return self._missing(mapped[0], specifier, esm=False, typescript=True)
        if config.base_url:
            path = os.path.join(config.base_url, specifier)
            for candidate in _typescript_candidates(path):
                if self.fs.is_file(candidate):
                    return ResolvedModule(path=self.fs.realpath(candidate))
        return None


# ---- the algorithms from Node's resolver specification, on plain data -------------------------------


def _depth_bounded(algorithm: Callable[..., Any]) -> Callable[..., Any]:
    """Conditions nest as deep as package.json does (up to the JSON reader's limit): past what Python's
    stack follows, the package is reported invalid rather than crashing the check."""

    @functools.wraps(algorithm)
    def bounded(*args: Any) -> Any:
        try:
            return algorithm(*args)
        except RecursionError:
            raise _PackageError(INVALID_PACKAGE, "package.json conditions nest too deeply to follow") from None

    return bounded


@_depth_bounded
def _exports_resolve(package_dir: str, subpath: str, exports: Any, conditions: frozenset[str]) -> Any:
    if isinstance(exports, dict) and exports:
        dotted = [k.startswith(".") for k in exports]
        if any(dotted) and not all(dotted):
            raise _PackageError(INVALID_PACKAGE, "\"exports\" cannot mix keys that start with '.' and keys that do not")
    if subpath == ".":
        main: Any = ABSENT
        if isinstance(exports, (str, list)) or (
            isinstance(exports, dict) and not any(k.startswith(".") for k in exports)
        ):
            main = exports
        elif isinstance(exports, dict) and "." in exports:
            main = exports["."]
        if main is not ABSENT:
            resolved = _target_resolve(package_dir, main, None, False, conditions)
            if resolved is not None and resolved is not ABSENT:
                return resolved
    elif isinstance(exports, dict) and all(k.startswith(".") for k in exports):
        resolved = _imports_exports_resolve(subpath, exports, package_dir, False, conditions)
        if resolved is not None and resolved is not ABSENT:
            return resolved
    manifest = os.path.join(package_dir, "package.json")
    raise _PackageError(
        NOT_EXPORTED,
        f"Package subpath '{subpath}' is not defined by \"exports\" in {manifest}"
        if subpath != "."
        else f'No "exports" main defined in {manifest}',
    )


@_depth_bounded
def _imports_exports_resolve(
    match_key: str, match_obj: dict[str, Any], package_dir: str, is_imports: bool, conditions: frozenset[str]
) -> Any:
    if match_key in match_obj and "*" not in match_key:
        return _target_resolve(package_dir, match_obj[match_key], None, is_imports, conditions)
    expansion_keys = sorted((k for k in match_obj if k.count("*") == 1), key=_pattern_sort_key)
    for key in expansion_keys:
        base, trailer = key.split("*")
        if not match_key.startswith(base) or match_key == base:
            continue
        if not trailer or (match_key.endswith(trailer) and len(match_key) >= len(key)):
            star = match_key[len(base) : len(match_key) - len(trailer)]
            return _target_resolve(package_dir, match_obj[key], star, is_imports, conditions)
    return None


def _pattern_sort_key(key: str) -> tuple[int, int]:
    # PATTERN_KEY_COMPARE: longer prefix before the "*" first, then longer key first.
    return (-(key.index("*") + 1), -len(key))


def _target_resolve(
    package_dir: str, target: Any, star: str | None, is_imports: bool, conditions: frozenset[str]
) -> Any:
    """PACKAGE_TARGET_RESOLVE: an absolute path, ("bare", spec) for an imports target naming a package,
    None for an explicit null, or ABSENT when no condition matched."""
    if isinstance(target, str):
        if not target.startswith("./"):
            if not is_imports or target.startswith(("../", "/")) or _has_scheme(target):
                field = "imports" if is_imports else "exports"
                raise _PackageError(
                    INVALID_PACKAGE, f'Invalid "{field}" target "{target}" in {package_dir}/package.json'
                )
            return ("bare", target.replace("*", star) if star is not None else target)
        if _bad_segments(target[2:]):
            raise _PackageError(INVALID_PACKAGE, f'Invalid target "{target}" in {package_dir}/package.json')
        if star is not None:
            if _bad_segments(star):
                raise _PackageError(INVALID_SPECIFIER, f"Invalid subpath pattern match '{star}'")
            target = target.replace("*", star)
        return os.path.normpath(os.path.join(package_dir, target))
    if isinstance(target, dict):
        for key, value in target.items():
            if key == "default" or key in conditions:
                resolved = _target_resolve(package_dir, value, star, is_imports, conditions)
                if resolved is ABSENT:
                    continue
                return resolved
        return ABSENT
    if isinstance(target, list):
        if not target:
            return None
        last_error: _PackageError | None = None
        for value in target:
            try:
                resolved = _target_resolve(package_dir, value, star, is_imports, conditions)
            except _PackageError as err:
                last_error = err
                continue
            if resolved is ABSENT:
                continue
            return resolved
        if last_error:
            raise last_error
        return None
    if target is None:
        return None
    raise _PackageError(INVALID_PACKAGE, f'Invalid "exports" target {target!r} in {package_dir}/package.json')


def _bad_segments(path: str) -> bool:
    for segment in path.replace("\\", "/").split("/"):
        decoded = unquote(segment).lower()
        if decoded in ("", ".", "..", "node_modules"):
            return True
    return False


def match_paths(specifier: str, paths: dict[str, tuple[str, ...]]) -> tuple[tuple[str, ...], str] | None:
    if specifier in paths and "*" not in specifier:
        return paths[specifier], ""
    best: tuple[str, tuple[str, ...], str] | None = None
    for pattern, targets in paths.items():
        if pattern.count("*") != 1:
            continue
        prefix, suffix = pattern.split("*")
        if (
            specifier.startswith(prefix) and specifier.endswith(suffix) and len(specifier) >= len(prefix) + len(suffix)
        ) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, targets, specifier[len(prefix) : len(specifier) - len(suffix)])
    return (best[1], best[2]) if best else None


def _output_extension(source: str) -> str:
    """The extension tsc gives the output of ``source``."""
    ext = os.path.splitext(source)[1]
    return {".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs"}.get(ext, ext)


@dataclass(frozen=True, slots=True)
class CompiledTypeScript:
    """How tsc's output of one TypeScript file runs under Node."""

    esm: bool  # tsc emits ES module syntax for it
    aliases_rewritten: bool  # tsc-alias rewrites tsconfig paths to relative ones in the output
    full_paths: bool  # tsc-alias resolveFullPaths: relative imports get their output's file name


def _typescript_candidates(path: str, native: bool = False):
    """The files tsx tries for ``path``, in its order; with ``native`` (require()), `x.node` after the sources."""
    base, ext = os.path.splitext(path)
    if ext in TS_JS_EQUIVALENTS:
        for alt in TS_JS_EQUIVALENTS[ext]:
            yield base + alt
        return
    if ext in TS_SOURCE_EXTENSIONS or ext in (".json", ".node"):
        yield path
        return
    yield path
    for alt in TS_EXTENSIONLESS:
        yield path + alt
    if native:
        yield path + ".node"
    for alt in (".ts", ".tsx", ".js", ".jsx", ".mts", ".cts", ".mjs", ".cjs"):
        yield os.path.join(path, "index" + alt)


def _split_package(specifier: str) -> tuple[str, str] | None:
    if not specifier or specifier.startswith(".") or "\\" in specifier or "%" in specifier:
        return None
    parts = specifier.split("/")
    if specifier.startswith("@"):
        if len(parts) < 2:  # `@scope/` names the package folder node_modules/@scope, as Node reads it
            return None
        name, rest = "/".join(parts[:2]), parts[2:]
    else:
        name, rest = parts[0], parts[1:]
    return name, "./" + "/".join(rest) if rest else "."


def _ancestors(directory: str):
    while True:
        yield directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return
        directory = parent


def _file_url_path(specifier: str) -> str:
    """The path a `file:` URL names. `file://`, `file://?q` and `file://#h` name the root folder, as the
    URL parser reads them; without `//` no path is read."""
    rest = specifier[len("file://") :] if specifier.startswith("file://") else None
    if rest is None:
        return ""
    return "/" if rest[:1] in ("", "?", "#") else _strip_query(rest)


def _strip_query(specifier: str) -> str:
    """A relative or file-URL path without its `?query` or `#fragment`, percent-escapes decoded."""
    for mark in ("?", "#"):
        index = specifier.find(mark)
        if index > 0:
            specifier = specifier[:index]
    return unquote(specifier)


def _has_scheme(specifier: str) -> bool:
    """A URL scheme as the URL parser reads one: an ASCII letter, then letters, digits, `+`, `-` or `.`.
    One letter is a scheme too: Node's import refuses `c:/app/x.js` (a drive letter) as protocol 'c:'."""
    head, sep, _ = specifier.partition(":")
    rest = head.replace("+", "").replace("-", "").replace(".", "")
    return bool(sep) and head[:1].isalpha() and head.isascii() and rest.isalnum()


def _join_specifier(specifier: str, index_name: str) -> str:
    return specifier.rstrip("/") + "/" + index_name
