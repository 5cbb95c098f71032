"""`missing-native-binding`: an import of a package that loads a compiled addon when it is required, while no
binary for this platform is on disk: `Cannot find module .../bcrypt_lib.node` (node-pre-gyp), `No native
build was found` (node-gyp-build) or `Could not locate the bindings file` (bindings).

That happens when the install skipped build scripts: `npm ci --ignore-scripts`, or pnpm 10, which runs no
build script unless the package is listed in `onlyBuiltDependencies`. A package needs a binding when its
files load one at the top level, unguarded — `require('node-gyp-build')(__dirname)`,
`require('bindings')(...)`, `require('@mapbox/node-pre-gyp').find(...)` or a `require` of a `.node` file — in
its entry or the relative files the entry requires. A binary is any `.node` file in the package outside
`prebuilds/`, or in `prebuilds/<platform>-<arch>/` for this machine's platform.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterator

from deploysafe.check.facts import ImportKind
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import ResolvedModule
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails

ID = "missing-native-binding"
LOADERS = frozenset(
    {"node-gyp-build", "bindings", "@mapbox/node-pre-gyp", "node-pre-gyp", "node-gyp-build-optional-packages"}
)
_FOLLOWED = 25  # files of one package followed from its entry
_SKIPPED = frozenset({"node_modules", "src", "test", "tests", "deps", ".git"})
_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm"}


class MissingNativeBindingRule(Rule):
    id = ID
    summary = "A package that loads a compiled addon at require time has no binary built for this platform."
    predicts = "`Cannot find module .../x.node`, `No native build was found`: the install skipped its build"
    help = (
        "Build it where it is installed: `npm rebuild NAME` (or install without --ignore-scripts); with pnpm 10 "
        'list it in package.json `"pnpm": {"onlyBuiltDependencies": ["NAME"]}` and reinstall.'
    )

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        res = edge.resolution
        if not isinstance(res, ResolvedModule) or res.path is None or res.package_dir is None:
            return
        if edge.imp.resolve_only or (edge.imp.kind is ImportKind.DYNAMIC and edge.imp.guarded):
            return
        key = (ID, res.path)
        if key not in ctx.memo:  # every import of one package file gets the same answer
            how = _loads_binding(ctx, res.path, res.package_dir)
            ctx.memo[key] = how if how is None or not _has_binary(res.package_dir) else None
        loader = ctx.memo[key]
        if not isinstance(loader, str):
            return
        name = res.package or os.path.basename(res.package_dir)
        yield ctx.edge_finding(
            ID,
            module,
            edge.imp,
            f"{when_it_fails(edge.imp)}: {name} loads a compiled addon ({loader}) and no binary for "
            f"{_platform()} is built in {ctx.rel(res.package_dir)}: its build script did not run (an install "
            f"with --ignore-scripts, or pnpm, which builds only `onlyBuiltDependencies`); run `npm rebuild {name}`",
            warning=False,
        )


def _loads_binding(ctx: RuleContext, entry: str, package_dir: str) -> str | None:
    """How the package's entry (or a relative file it requires at the top level) loads a binding. The first
    ``_FOLLOWED`` files found are all read: an entry that requires more still has its first ones read."""
    queue, seen = [entry], {entry}
    while queue:
        path = queue.pop(0)
        if not path.endswith((".js", ".cjs", ".mjs")):
            continue
        for imp in ctx.analysis.loader.get(path).facts.imports:
            spec = imp.specifier
            if spec is None or imp.guarded or imp.in_function or imp.dev_only or imp.feature_test or imp.type_only:
                continue
            if spec in LOADERS or spec.endswith(".node"):
                return f"require('{spec}') in {os.path.relpath(path, package_dir)}"
            if spec.startswith(".") and len(seen) < _FOLLOWED:  # past the cap nothing more is followed
                res = ctx.analysis.resolve(spec, path, for_require=imp.kind is ImportKind.REQUIRE)
                target = res.path if isinstance(res, ResolvedModule) else None
                if target and target not in seen and target.startswith(package_dir + os.sep):
                    seen.add(target)
                    queue.append(target)
    return None


def _has_binary(package_dir: str) -> bool:
    own = _platform()
    for folder, dirs, files in os.walk(package_dir):
        rel = os.path.relpath(folder, package_dir).replace(os.sep, "/")
        dirs[:] = [d for d in dirs if d not in _SKIPPED]
        if rel == "prebuilds":
            dirs[:] = [d for d in dirs if d.startswith(own)]
        if any(f.endswith(".node") for f in files):
            return True
    return False


def _platform() -> str:
    machine = platform.machine().lower()
    return f"{sys.platform if sys.platform != 'win32' else 'win32'}-{_ARCH.get(machine, machine)}"
