"""`node -r tsconfig-paths/register` as it hooks require(): a bare name that matches a tsconfig `paths`
pattern loads the first mapped target that exists as Node's require() would find a file (the exact
name, then .js, .json, .node; a folder's package.json main or index), else Node's own lookup runs.

The targets are JavaScript on disk when node runs. When tsc's output is not built yet, a target inside
`outDir` counts when tsc will write it (a source compiles to it); anywhere else only JavaScript counts:
the hook never loads a `.ts` file.
"""

from __future__ import annotations

import os

from deploysafe.check.fs import FileSystem
from deploysafe.check.resolution import NOT_FOUND, Resolution, ResolvedModule, Unresolved
from deploysafe.ecosystems.node.resolve import match_paths
from deploysafe.ecosystems.node.tsc import TscBuild
from deploysafe.ecosystems.node.typescript import RuntimePaths

_EXTENSIONS = (".js", ".json", ".node")


def resolve_mapped(
    specifier: str, hook: RuntimePaths, fs: FileSystem, build: TscBuild | None, built: bool
) -> tuple[Resolution | None, list[str]]:
    """(where the hook loads ``specifier`` from, or None to fall back to Node; the folders it tried)."""
    match = match_paths(specifier, hook.paths)
    if match is None:
        return None, []
    targets, star = match
    tried = [os.path.normpath(os.path.join(hook.base, t.replace("*", star))) for t in targets]
    for mapped in tried:
        for candidate in _candidates(mapped, fs):
            found = _exists(candidate, fs, build, built)
            if found:
                return ResolvedModule(path=fs.realpath(found)), tried
    return None, tried


def not_found(specifier: str, hook: RuntimePaths, tried: list[str], root: str, build: TscBuild | None) -> Unresolved:
    """The crash when neither the mapped files nor node_modules have ``specifier``."""
    shown = ", ".join(os.path.relpath(p, root) for p in tried)
    detail = f"tsconfig-paths/register maps it to {shown} ({hook.base_from}), where no JavaScript file is"
    typescript = [p + ext for p in tried for ext in (".ts", ".tsx", "/index.ts") if os.path.isfile(p + ext)]
    if typescript and build is not None and build.out_dir:
        detail += (
            f"; {os.path.relpath(typescript[0], root)} is TypeScript, which node does not run: map paths "
            f"into {os.path.relpath(build.out_dir, root)}/ (TS_NODE_BASEURL=./{os.path.relpath(build.out_dir, root)})"
        )
    return Unresolved(NOT_FOUND, path=tried[0] if tried else None, package=specifier, detail=detail)


def _candidates(mapped: str, fs: FileSystem):
    yield mapped
    for ext in _EXTENSIONS:
        yield mapped + ext
    for ext in _EXTENSIONS:
        yield os.path.join(mapped, "index" + ext)


def _exists(candidate: str, fs: FileSystem, build: TscBuild | None, built: bool) -> str | None:
    if fs.is_file(candidate):
        return candidate
    if not built and build is not None and build.in_output(candidate):
        return build.source_of(candidate)
    return None
