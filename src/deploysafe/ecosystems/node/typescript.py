"""How a TypeScript service runs, decided from its start and build commands and its tsconfig chain.

Either its sources run under tsx or ts-node (each `.ts` file is ESM or CommonJS by package.json "type"
and `.mts`/`.cts`), or node runs what tsc emits (format from `module`, layout from `rootDir`/`outDir`/
`include`), possibly rewritten after the build by tsc-alias (aliases, and with `resolveFullPaths` every
relative import, get their output file names) or hooked at run time by `node -r tsconfig-paths/register`
(require() of a name matching `paths` tries the mapped files first). The run also names the files the
runtime reads at start (the tsconfig chain for tsx/ts-node/tsconfig-paths) and, when tsc's output is on
disk, whether it is stale.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deploysafe.check.facts import Import, ImportKind
from deploysafe.check.fs import FileSystem
from deploysafe.ecosystems.node import nest
from deploysafe.ecosystems.node.entries import (
    Entry,
    built_by_tsc,
    compiled_output_for,
    nest_builds_with_tsc,
    production_command,
)
from deploysafe.ecosystems.node.formats import is_typescript
from deploysafe.ecosystems.node.packages import PackageJson, PackageJsonCache
from deploysafe.ecosystems.node.tsconfig import Tsconfig, TsconfigLoader
from deploysafe.errors import ConfigError

if TYPE_CHECKING:
    from deploysafe.ecosystems.node.tsc import TscBuild

_TSCONFIG_PATHS = ("tsconfig-paths/register", "tsconfig-paths/register.js")


@dataclass(frozen=True)
class RuntimePaths:
    """`node -r tsconfig-paths/register`: require() of a name that matches tsconfig `paths` loads the
    first mapped file that exists with a JavaScript extension (.js, .json, .node, an index or a
    package.json main), else falls back to Node's own lookup. It hooks require() only, never import."""

    config: str  # the tsconfig it reads (absolute)
    paths: dict[str, tuple[str, ...]]
    base: str  # absolute folder the targets are relative to
    base_from: str  # "TS_NODE_BASEURL=./dist" or "baseUrl in tsconfig.json"


@dataclass(frozen=True)
class TypeScriptRun:
    """What runs: the sources (``compiled`` False) or tsc's output (``built`` when it is on disk)."""

    compiled: bool
    reason: str
    aliases_rewritten: bool = False  # tsc-alias rewrites tsconfig paths in the output after tsc
    full_paths: bool = False  # tsc-alias resolveFullPaths: relative imports get their output file names
    runtime_paths: RuntimePaths | None = None
    build: TscBuild | None = None
    built: bool = False  # the output Node runs is on disk, and that is what is checked
    runner: str = "tsx or ts-node"
    # `node --loader ts-node/esm` (or ts-node-esm, ts-node --esm): ES module imports need the file name
    # with its extension (`./x.js` finds x.ts), as Node's own ESM resolution does; tsx adds extensions
    esm_loader: bool = False
    runtime_files: tuple[str, ...] = ()  # absolute: read by the runtime at start (tsconfig chain)
    stale: tuple[str, ...] = ()  # sources (relative) newer than their output, or without one
    start_problems: tuple[StartProblem, ...] = ()

    @property
    def mode(self) -> str:
        return "compiled" if self.compiled else "source"

    def describe(self, root: str) -> str:
        """One line for the report header."""
        if not self.compiled:
            return f"sources run by {self.runner} ({self.reason})"
        extras = []
        if self.aliases_rewritten:
            extras.append("tsc-alias rewrites paths" + (" and full file names" if self.full_paths else ""))
        if self.runtime_paths is not None:
            base = _rel(root, self.runtime_paths.base)
            extras.append(f"tsconfig-paths/register maps paths from {base}/ ({self.runtime_paths.base_from})")
        if self.build is not None:
            config = self.build.config
            layout = f"module {config.module or 'commonjs'}, rootDir {_rel(root, self.build.root_dir)}"
            if self.build.root_dir_inferred:
                layout += " (inferred)"
            if self.build.out_dir:
                layout += f", outDir {_rel(root, self.build.out_dir)}"
            extras.append(f"{_rel(root, config.path)}: {layout}")
        state = "output on disk" if self.built else "output not built: judged from the sources"
        return (
            f"compiled by tsc, Node runs the output ({self.reason}; {state}" + "".join(f"; {e}" for e in extras) + ")"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "reason": self.reason,
            "runner": "node" if self.compiled else self.runner,
            "built": self.built,
            "stale": list(self.stale),
        }


@dataclass(frozen=True)
class StartProblem:
    """The start command runs a file tsc never writes (its output lands elsewhere)."""

    start: str  # relative: what the start command runs
    source: str  # relative: the source
    emitted: str  # relative: where tsc writes its output
    why: str


def typescript_run(
    root: str, package: PackageJson | None, entries: list[Entry], configured: str | None
) -> TypeScriptRun | None:
    """How the TypeScript entries run (None when no entry is TypeScript or tsc's output of it).

    Compiled when deploysafe.toml says so, when the start command runs tsc's output of an entry
    (`node dist/index.js` for src/index.ts, built or not), else the sources run under tsx or ts-node."""
    if configured not in (None, "compiled", "source"):
        raise ConfigError('deploysafe.toml: [check] typescript must be "compiled" or "source"')
    scripts = _scripts(package)
    build = _build(root, scripts)
    built_entries = [e for e in entries if build and _built_output(build, os.path.join(root, e.path))]
    if built_entries and build is not None:
        build = build.matching_layout(os.path.join(root, built_entries[0].path)) or build
    if not any(is_typescript(e.path) for e in entries) and not built_entries:
        return None
    start = next((e.command for e in entries if e.command), None) or production_command(package) or ""
    tsc_alias = _tsc_alias(scripts)
    full_paths = tsc_alias and (
        bool(re.search(r"tsc-alias\b[^&|;]*\s(-f|--resolve-full-paths)\b", " ".join(scripts.values())))
        or bool(build and build.config.tsc_alias_full_paths)
    )
    runtime_paths = _runtime_paths(root, entries, start)
    common: dict[str, Any] = {  # what every TypeScriptRun of this project shares
        "aliases_rewritten": tsc_alias,
        "full_paths": full_paths,
        "runtime_paths": runtime_paths,
        "build": build,
        "runtime_files": _chain(root, runtime_paths.config) if runtime_paths else (),
    }
    if build is not None and re.search(r"(?<![\w-])tsc(-alias)?\b", start):
        # The start command builds (or rewrites) on the host: the tsconfig chain must be there.
        common["runtime_files"] = (*common["runtime_files"], *_chain(root, build.config.path))
    if configured is not None:
        return _run(root, configured == "compiled", "deploysafe.toml [check] typescript", common, entries, start)
    for entry in built_entries:
        source = build.source_of(os.path.join(root, entry.path)) if build else None
        reason = f"node runs {entry.path}, which tsc compiles from {_rel(root, source or '')}"
        stale = tuple(_rel(root, p) for p in build.stale()) if build else ()
        return TypeScriptRun(True, reason, built=True, stale=stale, **common)
    for entry in entries:
        output = entry.compiled_to or compiled_output_for(root, package, entry.path)
        if output:
            reason = f"node runs {output}, which tsc compiles from {entry.path}"
            problems = _start_problems(root, build, entry.path, output)
            return TypeScriptRun(True, reason, start_problems=problems, **common)
    return _run(root, False, "", common, entries, start)


def _run(root: str, compiled: bool, reason: str, common: dict, entries: list[Entry], start: str) -> TypeScriptRun:
    if compiled:
        return TypeScriptRun(True, reason, **common)
    runner = _runner(start)
    config = TsconfigLoader(FileSystem(), stop_at=os.path.dirname(root)).nearest(root)
    files = tuple(dict.fromkeys((*common["runtime_files"], *(_chain(root, config.path) if config else ()))))
    formats = _formats(root, entries)
    esm_loader = _ts_node_esm(start, config.path if config else None)
    if esm_loader:
        runner = "ts-node's ESM loader"
        formats += "; ES module imports need their file extension (./x.js for x.ts), as in Node"
    why = reason or f"{runner} runs {', '.join(e.path for e in entries if is_typescript(e.path))}{formats}"
    return TypeScriptRun(False, why, **{**common, "runtime_files": files}, runner=runner, esm_loader=esm_loader)


_TS_NODE_ESM = re.compile(
    r"--(?:experimental-)?loader[= ]\s*ts-node/esm\b|(?<![\w-])ts-node-esm\b|(?<![\w-])ts-node\b[^&|;]*\s--esm\b"
)


def _ts_node_esm(start: str, config: str | None) -> bool:
    """ts-node's ESM loader runs the sources, and no `experimentalSpecifierResolution: "node"` restores
    CommonJS-style lookups (tsconfig's "ts-node" section or TS_NODE_EXPERIMENTAL_SPECIFIER_RESOLUTION)."""
    options = _ts_node_options(config)
    esm = bool(_TS_NODE_ESM.search(start)) or (options.get("esm") is True and bool(re.search(r"\bts-node\b", start)))
    lenient = options.get("experimentalSpecifierResolution") == "node"
    lenient = lenient or _environment(start).get("TS_NODE_EXPERIMENTAL_SPECIFIER_RESOLUTION") == "node"
    return esm and not lenient


def _ts_node_options(config: str | None) -> dict[str, Any]:
    if config is None:
        return {}
    from deploysafe.ecosystems.node import jsonc

    try:
        with open(config, encoding="utf-8") as handle:
            data = jsonc.loads(handle.read())
    except (OSError, ValueError):
        return {}
    section = data.get("ts-node") if isinstance(data, dict) else None
    return section if isinstance(section, dict) else {}


def _formats(root: str, entries: list[Entry]) -> str:
    packages = PackageJsonCache(FileSystem())
    said = []
    for entry in entries:
        if not is_typescript(entry.path):
            continue
        ext = os.path.splitext(entry.path)[1]
        if ext in (".mts", ".cts"):
            said.append(f"{ext} is {'ESM' if ext == '.mts' else 'CommonJS'}")
            continue
        scope = packages.scope(os.path.dirname(os.path.join(root, entry.path)))
        if scope is not None and scope.type == "module":
            said.append(f'as ESM: {_rel(root, scope.path)} has "type": "module"')
        else:
            said.append('as CommonJS: no "type": "module" in package.json')
    return f" {said[0]}" if said else ""


def _runner(start: str) -> str:
    if re.search(r"ts-node-esm\b|ts-node\b[^&|;]*\s--esm\b", start):
        return "ts-node --esm"
    for word in re.findall(r"[\w./-]+", start):
        name = os.path.basename(word)
        if name in ("tsx", "ts-node", "ts-node-dev", "ts-node-esm", "ts-node-transpile-only"):
            return "ts-node" if name.startswith("ts-node") else "tsx"
    return "tsx or ts-node"


def _scripts(package: PackageJson | None) -> dict[str, str]:
    scripts = package.data.get("scripts") if package else None
    if not isinstance(scripts, dict):
        return {}
    return {k: v for k, v in scripts.items() if isinstance(k, str) and isinstance(v, str)}


def _build(root: str, scripts: dict[str, str]) -> TscBuild | None:
    """The tsc build the scripts run (`tsc`, `tsc -p tsconfig.build.json`), when they use tsc."""
    if not built_by_tsc(PackageJson(root, {"scripts": scripts})):
        return None
    project = None
    for command in scripts.values():
        for part in re.split(r"&&|\|\||;", command):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            if "tsc" not in [os.path.basename(w) for w in words]:
                continue
            for flag, value in itertools.pairwise(words):
                if flag in ("-p", "--project", "-b", "--build"):
                    project = value
            if project:
                break
        if project:
            break
    if project is None and nest_builds_with_tsc(PackageJson(root, {"scripts": scripts})):
        project = nest.read(root).tsconfig
    path = os.path.join(root, project or "tsconfig.json")
    if os.path.isdir(path):
        path = os.path.join(path, "tsconfig.json")
    if not os.path.isfile(path):
        return None
    from deploysafe.ecosystems.node.tsc import TscBuild  # only for a project built by tsc

    return TscBuild(TsconfigLoader(FileSystem(), stop_at=os.path.dirname(root)).load(os.path.normpath(path)))


def _built_output(build: TscBuild, path: str) -> bool:
    """``path`` is a JavaScript file tsc wrote: it lies in outDir and an input compiles to it."""
    return not is_typescript(path) and build.matching_layout(path) is not None


# Build steps that rewrite tsconfig paths in tsc's output: tsc-alias, and the transformer runners
# (ts-patch's tspc, ttsc) that typescript-transform-paths plugs into.
_ALIAS_REWRITERS = re.compile(r"(?<![\w-])(tsc-alias|tspc|ttsc|ts-patch)\b")


def _tsc_alias(scripts: dict[str, str]) -> bool:
    return any(_ALIAS_REWRITERS.search(v) for v in scripts.values())


def _runtime_paths(root: str, entries: list[Entry], start: str) -> RuntimePaths | None:
    """tsconfig-paths/register preloaded by the start command (`node -r`), or required by the entry
    itself before anything else (`import 'tsconfig-paths/register'`)."""
    preloaded = any(p.specifier in _TSCONFIG_PATHS for e in entries for p in e.preloads)
    if not preloaded and not any(_registers_paths(os.path.join(root, e.path)) for e in entries):
        return None
    env = _environment(start)
    project = env.get("TS_NODE_PROJECT")
    path = os.path.normpath(os.path.join(root, project or "tsconfig.json"))
    if not os.path.isfile(path):
        return None
    config: Tsconfig = TsconfigLoader(FileSystem(), stop_at=os.path.dirname(root)).load(path)
    if "TS_NODE_BASEURL" in env:
        base = os.path.normpath(os.path.join(root, env["TS_NODE_BASEURL"]))
        base_from = f"TS_NODE_BASEURL={env['TS_NODE_BASEURL']}"
    else:
        base = config.base_url or os.path.dirname(path)
        base_from = f"baseUrl in {_rel(root, path)}" if config.base_url else f"the folder of {_rel(root, path)}"
    return RuntimePaths(path, dict(config.paths), base, base_from)


def _registers_paths(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return re.search(r"""(?:require\(|import)\s*['"]tsconfig-paths/register(?:\.js)?['"]""", head) is not None


def _environment(command: str) -> dict[str, str]:
    """`FOO=bar node x.js` and `cross-env FOO=bar node x.js`: the variables the command sets for node."""
    found: dict[str, str] = {}
    for part in re.split(r"&&|\|\||;", command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        for word in words:
            if word in ("cross-env", "env", "npx"):
                continue
            name, sep, value = word.partition("=")
            if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                break
            found[name] = value
    return found


def _chain(root: str, config: str) -> tuple[str, ...]:
    """The tsconfig and every file it extends (one in node_modules is installed on the host, not shipped)."""
    loaded = TsconfigLoader(FileSystem(), stop_at=os.path.dirname(root)).load(config)
    return tuple(p for p in loaded.chain if f"{os.sep}node_modules{os.sep}" not in p)


def _start_problems(root: str, build: TscBuild | None, source: str, output: str) -> tuple[StartProblem, ...]:
    if build is None:
        return ()
    emitted = build.output_of(os.path.join(root, source))
    if os.path.normpath(emitted) == os.path.normpath(os.path.join(root, output)):
        return ()
    if build.root_dir_inferred:
        widest = ", ".join(_rel(root, p) for p in build.widest_inputs())
        why = (
            f'without "rootDir" tsc keeps the layout from the common folder of everything it compiles '
            f"({_rel(root, build.config.path)}), {_folder(root, build.root_dir)}, because that includes {widest}: "
            f'set "rootDir", or leave those files out of "include" (or stop importing them)'
        )
    else:
        why = f"rootDir is {_rel(root, build.root_dir)}/ in {_rel(root, build.config.path)}"
    return (StartProblem(output, source, _rel(root, emitted), why),)


def _folder(root: str, path: str) -> str:
    rel = _rel(root, path)
    return "the project root" if rel == "." else f"{rel}/"


def _rel(root: str, path: str) -> str:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return rel


def erased_by_compiler(imp: Import, verbatim: bool, decorator_metadata: bool = False) -> bool:
    """`import { type A, type B } from "x"`, or an import whose bindings are only used as types: tsc,
    ts-node and esbuild (tsx) drop the whole statement — unless `verbatimModuleSyntax` keeps it as
    `import "x"`, which loads x. Under `emitDecoratorMetadata` a type in a decorated class's signature is
    emitted as a value reference, so that import stays."""
    if imp.type_only or verbatim or imp.kind not in (ImportKind.STATIC, ImportKind.REEXPORT):
        return False
    if imp.values_unused and not (decorator_metadata and imp.decorator_metadata):
        return True
    return bool(imp.names) and not imp.namespace and not imp.star and all(n.type_only for n in imp.names)
