"""Which files a service starts from, and why we think so.

In order: --entry, deploysafe.toml [check] entries, a PM2 ecosystem file (apps[].script), a Procfile,
package.json's production start, package.json main, then index.js. A service may have several entries
(API + workers); a PM2 file or Procfile naming several gives them all.

The production start is what deploys run: `scripts["start:prod"]` (or `start:production`, `prod`) over
`start`; a development `start` (ts-node, nodemon, `--watch`, `nest start --watch`) gives way to `serve` too,
and the reason says which script was taken over which. Commands are read through the package manager
(`yarn start:prod`, `npm run x`, `pnpm x` run that script) and `nest start` is `node` on what `nest build`
writes (see nest.py).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from deploysafe import safejson
from deploysafe.ecosystems.node import nest
from deploysafe.ecosystems.node.packages import PackageJson
from deploysafe.errors import ConfigError

if TYPE_CHECKING:
    from deploysafe.ecosystems.node.parse.properties import Property

RUNNERS = ("node", "nodejs", "tsx", "ts-node", "ts-node-esm", "nodemon", "node-dev", "ts-node-dev", "bun")
ECOSYSTEM_FILES = (
    "ecosystem.config.js",
    "ecosystem.config.cjs",
    "ecosystem.config.mjs",
    "ecosystem.config.json",
)
_NODE_FLAGS_WITH_VALUE = {
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "--env-file",
    "-C",
    "--conditions",
    "--title",
    "--inspect-port",
    "--max-old-space-size",
}


@dataclass(frozen=True, slots=True)
class Preload:
    """A module the start command loads before the entry: `node -r dotenv/config` or `--import x`."""

    specifier: str
    esm: bool  # --import (ESM resolution) rather than -r/--require
    declared_in: str  # the file holding the command, relative to root ("package.json", "Procfile")


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # relative to root, "/" separators
    reason: str  # "package.json scripts.start: node src/index.js"
    preloads: tuple[Preload, ...] = ()
    # The build output Node really runs when this entry is a TypeScript source that tsc compiles
    # (`node dist/index.js` checked as src/index.ts): the check then follows Node's rules on the output.
    compiled_to: str | None = None
    command: str = ""  # the start command as the shell runs it (package-manager scripts read through)


def detect_entries(root: str, given: list[str], configured: list[str], package: PackageJson | None) -> list[Entry]:
    if given:
        return [_checked(root, p, "--entry") for p in given]
    if configured:
        return [_checked(root, p, "deploysafe.toml [check] entries") for p in configured]
    for finder in (_from_ecosystem, _from_procfile, _from_start_script, _from_main, _from_index):
        found = finder(root, package)
        if found:
            return found
    raise ConfigError(
        "no entry point found (no PM2 ecosystem file, Procfile, package.json scripts.start or main, or index.js); "
        "pass --entry FILE"
    )


def _checked(root: str, path: str, reason: str) -> Entry:
    rel = _normalise(root, path)
    if rel == ".." or rel.startswith("../") or not os.path.isfile(os.path.join(root, rel)):
        raise ConfigError(f"entry '{path}' ({reason}) is not a file under {root}")
    return Entry(rel, reason)


def _normalise(root: str, path: str) -> str:
    absolute = path if os.path.isabs(path) else os.path.join(root, path)
    return os.path.relpath(os.path.normpath(absolute), root).replace(os.sep, "/")


def _existing(root: str, candidates: list[tuple[str, str]]) -> list[Entry]:
    entries: list[Entry] = []
    for path, reason in candidates:
        rel = _normalise(root, path)
        if rel.startswith("../"):
            continue
        full = os.path.join(root, rel)
        if os.path.isdir(full):
            for index in ("index.js", "index.ts", "index.mjs", "index.cjs"):
                if os.path.isfile(os.path.join(full, index)):
                    rel = f"{rel}/{index}"
                    break
        elif not os.path.isfile(full):
            for ext in (".js", ".ts", ".mjs", ".cjs"):
                if os.path.isfile(full + ext):
                    rel += ext
                    break
        if os.path.isfile(os.path.join(root, rel)) and rel not in {e.path for e in entries}:
            entries.append(Entry(rel, reason))
    return entries


def _required(root: str, candidates: list[tuple[str, str]], package: PackageJson | None) -> list[Entry]:
    """Like _existing, but a start command naming a file that is not there is an error, not a guess:
    the process manager would fail on it too. The exception: tsc's output, not built yet, is checked
    through its TypeScript source."""
    entries = _existing(root, candidates)
    found = {e.reason for e in entries}
    for path, reason in candidates:
        if reason in found:
            continue
        source = _source_for_build_output(root, path)
        if source and built_by_tsc(package):
            output = _with_output_extension(_normalise(root, path), source)
            entries.append(Entry(source, f"{reason}; {output} is built by tsc from {source}", compiled_to=output))
            continue
        raise ConfigError(
            f"{reason}: '{path}' does not exist"
            + (
                f" (it is built from {source}: build first, or check the source with --entry {source})"
                if source
                else ""
            )
        )
    return entries


_BUNDLERS = re.compile(r"\b(tsup|esbuild|webpack|rollup|vite|ncc|swc|parcel|bun build|pkgroll|unbuild)\b")


def built_by_tsc(package: PackageJson | None) -> bool:
    """The project's scripts compile with tsc and no bundler: the output keeps one file per source and
    every import as written."""
    scripts = package.data.get("scripts") if package else None
    if not isinstance(scripts, dict):
        return False
    text = " ".join(v for v in scripts.values() if isinstance(v, str))
    compiles = bool(re.search(r"(?<![\w-])tsc\b", text)) or nest_builds_with_tsc(package)
    return compiles and not _BUNDLERS.search(text)


def nest_builds_with_tsc(package: PackageJson | None) -> bool:
    """`nest build` in the scripts, with nest-cli.json's builder left at tsc."""
    text = " ".join(v for v in _scripts(package).values())
    return package is not None and bool(nest.NEST_BUILD.search(text)) and nest.read(package.dir).builder == "tsc"


def compiled_output_for(root: str, package: PackageJson | None, entry: str) -> str | None:
    """The build output the start command runs when ``entry`` is the TypeScript source tsc compiles
    to it (`--entry src/index.ts` with `"start": "node dist/index.js"`)."""
    start = production_command(package)
    script = script_of_command(start) if start else None
    if script is None or not built_by_tsc(package) or not entry.endswith((".ts", ".mts", ".cts", ".tsx")):
        return None
    if _source_for_build_output(root, script) != entry:
        return None
    return _with_output_extension(_normalise(root, script), entry)


def _with_output_extension(output: str, source: str) -> str:
    """`node dist/main` runs dist/main.js: Node's CommonJS loader adds the extension to the main script."""
    if os.path.splitext(output)[1] in (".js", ".mjs", ".cjs"):
        return output
    return output + {".mts": ".mjs", ".cts": ".cjs"}.get(os.path.splitext(source)[1], ".js")


def _source_for_build_output(root: str, path: str) -> str | None:
    """For `node dist/index.js` in a TypeScript project: the source tsc compiles to it."""
    rel = _normalise(root, path)
    first, _, rest = rel.partition("/")
    stem = os.path.splitext(rest)[0]
    for source_dir in ("src", "lib", "app", "."):
        for ext in (".ts", ".mts", ".cts", ".tsx"):
            candidate = os.path.normpath(os.path.join(source_dir, stem + ext))
            if first in ("dist", "build", "out", "lib") and os.path.isfile(os.path.join(root, candidate)):
                return candidate.replace(os.sep, "/")
    return None


def _from_ecosystem(root: str, package: PackageJson | None) -> list[Entry]:
    for name in ECOSYSTEM_FILES:
        apps = ecosystem_apps(root, name)
        if apps is None:
            continue
        scripts = [a.value for a in apps if a.value is not None]
        candidates = [(s, f"{name} apps[].script '{s}'") for s in scripts if not _is_package_manager(s)]
        node_args = {
            f"{name} apps[].script '{a.value}'": a.siblings.get("node_args") or a.siblings.get("interpreter_args")
            for a in apps
            if a.value is not None
        }
        if not candidates and not name.endswith(".json"):  # script: 'yarn', args: 'start:prod'
            for app in apps:
                manager, args = app.value, app.siblings.get("args")
                if manager is None or not _is_package_manager(manager) or not args:
                    continue
                command = expand_command(f"{manager} {args}", package)
                script = script_of_command(command)
                if script:
                    candidates.append((script, f"{name} apps[]: {manager} {args} runs {command}"))
        entries = [_with_node_args(e, node_args.get(e.reason), name) for e in _required(root, candidates, package)]
        if entries:
            return entries
    return []


def _with_node_args(entry: Entry, args: str | None, holder: str) -> Entry:
    """A PM2 app's `node_args` (or `interpreter_args`) as a string: node's start command, so `--env-file` and
    `-r`/`--import` preloads are checked as in a Procfile."""
    if not args:
        return entry
    command = f"node {args} {shlex.quote(entry.compiled_to or entry.path)}"
    preloads = tuple(Preload(spec, esm, holder) for spec, esm in preloads_of_command(command))
    return replace(entry, command=command, preloads=entry.preloads + preloads)


def ecosystem_apps(root: str, name: str) -> list[Property] | None:
    """The ``script`` of each app in the PM2 process file ``name`` (None when there is none), read by the
    JavaScript parser without running the file (it is the user's code): comments are not apps, and a
    computed value (``path.join(__dirname, 'x.js')``) is a :class:`Property` without ``value``."""
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError:
        return None
    from deploysafe.ecosystems.node.parse.properties import Property

    if not name.endswith(".json"):
        from deploysafe.ecosystems.node.process_files import script_properties

        return script_properties(source)  # the grammars load only when this content was not read before
    try:
        data = safejson.loads(source)
    except ValueError as err:
        raise ConfigError(f"{name}: invalid JSON: {err}") from err
    apps = data.get("apps", []) if isinstance(data, dict) else data
    return [
        Property("script", a["script"], json.dumps(a["script"]), 1, {k: v for k, v in a.items() if isinstance(v, str)})
        for a in (apps if isinstance(apps, list) else [])
        if isinstance(a, dict) and isinstance(a.get("script"), str)
    ]


def computed_app_scripts(root: str) -> list[tuple[str, int, str]]:
    """``(file, line, expression)`` for each app of the PM2 process files whose ``script`` is computed:
    not followed as an entry, so reported as unverified."""
    computed = []
    for name in ECOSYSTEM_FILES:
        try:
            apps = ecosystem_apps(root, name) or []
        except ConfigError:
            continue
        computed += [(name, a.line, a.expression) for a in apps if a.value is None]
    return computed


def _from_procfile(root: str, package: PackageJson | None) -> list[Entry]:
    path = os.path.join(root, "Procfile")
    if not os.path.isfile(path):
        return []
    candidates = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            process, sep, command = line.partition(":")
            if not sep or process.strip().startswith("#"):
                continue
            expanded = expand_command(command, package)
            script = script_of_command(expanded)
            if script:
                shown = command.strip() + (f" (runs {expanded.strip()})" if expanded != command else "")
                candidates.append((script, f"Procfile {process.strip()}: {shown}", expanded))
    entries = []
    for script, reason, command in candidates:
        preloads = tuple(Preload(spec, esm, "Procfile") for spec, esm in preloads_of_command(command))
        found = _required(root, [(script, reason)], package)
        entries += [replace(e, preloads=preloads, command=command.strip()) for e in found]
    return entries


PRODUCTION_SCRIPTS = ("start:prod", "start:production", "prod")
_DEVELOPMENT = re.compile(
    r"(?<![\w-])(ts-node(-dev|-esm)?|nodemon|node-dev|tsx\s+watch)\b|\s--watch\b|(?<![\w-])nest\s+start\b.*--(watch|debug)"
)


def _start_order(package: PackageJson | None) -> tuple[list[tuple[str, str]], str | None, bool]:
    """The scripts to try, in order, as (name, command); scripts.start; whether it is a development start."""
    scripts = _scripts(package)
    start = scripts.get("start")
    development = start is not None and bool(_DEVELOPMENT.search(expand_command(start, package)))
    order = [*PRODUCTION_SCRIPTS, *(("serve", "start") if development else ("start", "serve"))]
    return [(name, scripts[name]) for name in order if name in scripts], start, development


def _from_start_script(root: str, package: PackageJson | None) -> list[Entry]:
    """The production start: start:prod over start, and serve over a development start."""
    order, start, development = _start_order(package)
    for name, command in order:
        found = _from_command(root, package, name, command)
        if not found:
            continue
        why = ""
        if name != "start" and start is not None:
            kind = "a development start" if development else "not the production start"
            why = f" (the production start; scripts.start '{start}' is {kind})"
        elif name == "start" and development:
            why = " (a development start: no start:prod or serve script names a file)"
        return [replace(e, reason=e.reason + why) for e in found]
    return []


def production_command(package: PackageJson | None) -> str | None:
    """The start command a deploy runs, package-manager scripts read through: start:prod (or
    start:production, prod) over start, serve over a development start."""
    for _, command in _start_order(package)[0]:
        expanded = expand_command(command, package)
        if script_of_command(expanded):
            return expanded
    return None


def _from_command(root: str, package: PackageJson | None, name: str, command: str) -> list[Entry]:
    expanded = expand_command(command, package)
    shown = f"package.json scripts.{name}: {command}" + (f" (runs {expanded})" if expanded != command else "")
    nest_run = _nest_start(root, expanded, shown)
    if nest_run is not None:
        return [nest_run]
    script = script_of_command(expanded)
    if not script:
        return []
    entries = _required(root, [(script, shown)], package)
    preloads = tuple(Preload(spec, esm, "package.json") for spec, esm in preloads_of_command(expanded))
    return [replace(e, preloads=preloads, command=expanded) for e in entries]


def _nest_start(root: str, command: str, reason: str) -> Entry | None:
    """`nest start`: nest build compiles the entry with tsc, then node runs its output."""
    if not nest.NEST_START.search(command):
        return None
    project = nest.read(root)
    started = nest.started_output(root, project)
    if started is None:
        raise ConfigError(
            f"{reason}: nest start runs {project.source_root}/{project.entry_file}.ts built by "
            f"{project.builder}, which deploysafe cannot follow here; pass --entry FILE"
        )
    source, output = started
    because = f"{reason}; nest build compiles {source} with tsc ({project.tsconfig}) and node runs {output}"
    if os.path.isfile(os.path.join(root, output)):
        return Entry(output, because, command=f"node {output}")
    return Entry(source, because, compiled_to=output, command=f"node {output}")


_SCRIPT_RUN = re.compile(
    r"(?<![\w-])(?:(?:npm|pnpm|yarn)\s+run(?:-script)?\s+|npm\s+(?=start\b)|yarn\s+(?!run\b)|pnpm\s+(?!run\b))"
    r"(?:--?[\w-]+\s+)*([\w:.-]+)"
)


def expand_command(command: str, package: PackageJson | None, depth: int = 0) -> str:
    """``command`` with each `npm run x` / `npm start` / `yarn x` / `pnpm x` replaced by script x of
    package.json (as the package manager runs it), to a small depth."""
    scripts = _scripts(package)
    if depth > 4 or not scripts:
        return command

    def replace_run(match: re.Match[str]) -> str:
        body = scripts.get(match[1])
        if body is None:
            return match[0]
        return expand_command(body, package, depth + 1)

    return _SCRIPT_RUN.sub(replace_run, command)


def _scripts(package: PackageJson | None) -> dict[str, str]:
    scripts = package.data.get("scripts") if package else None
    if not isinstance(scripts, dict):
        return {}
    return {k: v for k, v in scripts.items() if isinstance(k, str) and isinstance(v, str)}


def _from_main(root: str, package: PackageJson | None) -> list[Entry]:
    if package is None or not package.main:
        return []
    return _existing(root, [(package.main, f"package.json main: {package.main}")])


def _from_index(root: str, package: PackageJson | None) -> list[Entry]:
    return _existing(root, [("index.js", "index.js at the root")])


def script_of_command(command: str) -> str | None:
    """The script a shell command starts with node/tsx/ts-node/pm2 (the last one in a && chain)."""
    found = None
    for part in re.split(r"&&|\|\||;", command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        while words and "=" in words[0] and not words[0].startswith("-"):  # FOO=bar node x.js
            words = words[1:]
        if words and words[0] in ("npx", "exec", "cross-env"):
            words = [w for w in words[1:] if "=" not in w or w.startswith("-")]
        if words[:2] == ["yarn", "node"]:  # node with Yarn's environment (PnP's runtime loaded)
            words = words[1:]
        if len(words) >= 2 and os.path.basename(words[0]) in RUNNERS:
            args = words[2:] if words[1] == "watch" else words[1:]  # `tsx watch src/index.ts`
            script = _first_script(args)
            found = script or found
        elif len(words) >= 3 and words[0] in ("pm2", "pm2-runtime") and words[1] in ("start", "startOrReload"):
            found = words[2] if not words[2].startswith("ecosystem") else found
        elif len(words) >= 2 and words[0] == "pm2-runtime":
            found = words[1] if not words[1].startswith("ecosystem") else found
    return found


def preloads_of_command(command: str) -> list[tuple[str, bool]]:
    """(specifier, is ESM) for each `-r X`, `--require X`, `--import X` of node in ``command``."""
    found: list[tuple[str, bool]] = []
    for part in re.split(r"&&|\|\||;", command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        runner = next((i for i, w in enumerate(words) if os.path.basename(w) in ("node", "nodejs")), None)
        if runner is None:
            continue
        args = words[runner + 1 :]
        i = 0
        while i < len(args) and args[i].startswith("-"):  # node's own options come before the script
            flag, has_inline, inline = args[i].partition("=")
            value = inline if has_inline else (args[i + 1] if i + 1 < len(args) else "")
            if flag in ("-r", "--require", "--import") and value:
                found.append((value, flag == "--import"))
            i += 1 if has_inline or flag not in _NODE_FLAGS_WITH_VALUE else 2
    return found


def _first_script(args: list[str]) -> str | None:
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _NODE_FLAGS_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return None


def _is_package_manager(script: str) -> bool:
    return os.path.basename(script) in ("npm", "yarn", "pnpm", "npx")
