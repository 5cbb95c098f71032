"""The setups real services ship with, judged by deploysafe and by the real tool chain side by side.

Each case is a small service in one setup (NestJS built by `nest build`, a development start next to the
production one, module-alias, TypeScript type-only imports under tsx and ts-node, a feature-detection
guard on Node 18, bcrypt with and without its binary, ts-node's ESM loader, `require.resolve`,
`node --env-file` (also in a PM2 app's node_args), Yarn 4 Plug'n'Play, a pnpm 10 workspace, a `||` fallback
require), in a clean and, where the setup has one, a faulty form. The real
start command runs (node, tsx, ts-node, after tsc where the service is built) and its exit status is the
truth; deploysafe's `check` is compared with it:

    false block   deploysafe exits 1, the real start loads
    miss          deploysafe exits 0, the real start crashes
    entry right   deploysafe detected the file the start command runs (or its TypeScript source)

Packages come from the npm registry through the tests' lockfiles (tests/support/npm-locks); the builders
are the tests' own (tests/check/test_service_setups.py), so the corpus and the tests cannot drift apart.

    .venv/bin/python bench/bench_setups.py            # the table, and the totals the README quotes
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deploysafe import check  # noqa: E402
from tests.check import test_service_setups as s  # noqa: E402
from tests.support.projects import write_tree  # noqa: E402
from tests.support.tools import node  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]  # writes the service under the folder given, returns its root
    start: Callable[[Path], list[str]]  # the real start command, run in the root
    entry: str  # the file deploysafe should start from
    prepare: Callable[[Path], None] | None = None  # the build step before the real start (tsc)


def _tsc_build(root: Path) -> None:
    done = s.run(root, s.tool("tsc"), "-p", "tsconfig.build.json")
    assert done.returncode == 0, done.stdout


def _nest(extra: dict[str, str | dict]) -> Callable[[Path], Path]:
    return lambda d: write_tree(d / "api", {**s.NEST, **extra})


def _file(tree: dict[str, str | dict]) -> Callable[[Path], Path]:
    return lambda d: write_tree(d / "api", tree)


def _alias(present: bool) -> Callable[[Path], Path]:
    files = {"lib/hello.js": "module.exports = 'loaded';\n"} if present else {}
    return lambda d: s.alias_fetch_app(d, s.ALIASED, s.ALIAS_USE, files)


def _fetch(guarded: bool) -> Callable[[Path], Path]:
    index = s.GUARDED_FETCH if guarded else "const get = require('node-fetch');\n"
    return lambda d: s.alias_fetch_app(d, s.FETCHING, index)


def _types(source: str, tsconfig: dict | None = None) -> Callable[[Path], Path]:
    return lambda d: s.types_only_app(d, source, tsconfig)


def _bcrypt(fixture: str, version: str, strip_prebuilds: bool = False) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        root = s.bcrypt_app(d, fixture, version)
        if strip_prebuilds:
            shutil.rmtree(root / "node_modules/bcrypt/prebuilds")
        return root

    return build


def _esm_loader(extension: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        package = {"name": "api", "type": "module", "scripts": {"start": "node --loader ts-node/esm src/main.ts"}}
        main = f"import {{ greet }} from './greet{extension}';\nconsole.log(greet());\n"
        tree = {**s.ESM_SOURCES, "package.json": package, "src/main.ts": main}
        return s.link_tools(write_tree(d / "api", tree), "ts-node", "typescript")

    return build


def _pnp(index: str | None = None, start: str | None = None) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        root = s.yarn_pnp_app(d)
        if index is not None:
            (root / "index.js").write_text(index)
        if start is not None:
            (root / "Procfile").write_text(f"web: {start}\n")
        return root

    return build


def _pnpm(index: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        api = s.pnpm_workspace(d) / "packages" / "api"
        (api / "index.js").write_text(index)
        return api

    return build


NODE = ["node", "index.js"]
PNP_NODE = ["node", "-r", "./.pnp.cjs", "index.js"]
PM2_ENV_FILE = "module.exports = { apps: [{ name: 'api', script: 'server.js', node_args: '--env-file=.env' }] };\n"
DEV_SCRIPTS = {"start": "ts-node src/dev.ts", "start:prod": "yarn serve", "serve": "node server.js"}
DECORATED = (
    "import { Request } from 'express';\nimport { Injectable } from './di';\n"
    "@Injectable()\nexport class Handler { constructor(private readonly req: Request) {} }\n"
)
DECORATOR_OPTIONS = {"module": "commonjs", "target": "es2021", "experimentalDecorators": True}
RESOLVE = "console.log(require.resolve('./templates/welcome.html'));\n"
ENV_FILE = {"package.json": {"name": "api", "scripts": {"start": "node --env-file=.env index.js"}}, "index.js": ""}

CASES = [
    Case("nest: start:prod over nest start", _nest({}), lambda r: ["node", "dist/main"], "src/main.ts", _tsc_build),
    Case(
        "nest: a file outside src/, node dist/main",
        _nest({"scripts/seed.ts": "export const seed = 1;\n"}),
        lambda r: ["node", "dist/main"],
        "src/main.ts",
        _tsc_build,
    ),
    Case(
        "dev start beside start:prod through yarn",
        _file(
            {
                "package.json": {"name": "api", "scripts": DEV_SCRIPTS},
                "server.js": "",
                "src/dev.ts": "import './nowhere';\n",
            }
        ),
        lambda r: ["node", "server.js"],
        "server.js",
    ),
    Case("module-alias, target there", _alias(True), lambda r: NODE, "index.js"),
    Case("module-alias, target missing", _alias(False), lambda r: NODE, "index.js"),
    Case("typeof fetch guard, node 18", _fetch(True), lambda r: [str(node("18.20.8")), "index.js"], "index.js"),
    Case("unguarded node-fetch 3, node 18", _fetch(False), lambda r: [str(node("18.20.8")), "index.js"], "index.js"),
    Case("type-only import, tsx", _types(s.TYPE_USE), lambda r: [s.tool("tsx"), "src/main.ts"], "src/main.ts"),
    Case("type-only import, ts-node", _types(s.TYPE_USE), lambda r: [s.tool("ts-node"), "src/main.ts"], "src/main.ts"),
    Case(
        "type-only import, ts-node --transpile-only",
        _types(s.TYPE_USE),
        lambda r: [s.tool("ts-node"), "--transpile-only", "src/main.ts"],
        "src/main.ts",
    ),
    Case(
        "decorated constructor type, emitDecoratorMetadata",
        _types(DECORATED, {"compilerOptions": {**DECORATOR_OPTIONS, "emitDecoratorMetadata": True}}),
        lambda r: [s.tool("ts-node"), "--transpile-only", "src/main.ts"],
        "src/main.ts",
    ),
    Case("bcrypt 5, --ignore-scripts", _bcrypt("bcrypt5", "5.1.1"), lambda r: NODE, "index.js"),
    Case("bcrypt 6, prebuilt", _bcrypt("bcrypt6", "6.0.0"), lambda r: NODE, "index.js"),
    Case("bcrypt 6, no prebuild", _bcrypt("bcrypt6", "6.0.0", True), lambda r: NODE, "index.js"),
    Case(
        "ts-node/esm, extensionless",
        _esm_loader(""),
        lambda r: ["node", "--loader", "ts-node/esm", "src/main.ts"],
        "src/main.ts",
    ),
    Case(
        "ts-node/esm, .js naming .ts",
        _esm_loader(".js"),
        lambda r: ["node", "--loader", "ts-node/esm", "src/main.ts"],
        "src/main.ts",
    ),
    Case(
        "require.resolve of a missing file",
        _file({"package.json": {"name": "api", "scripts": {"start": "node index.js"}}, "index.js": RESOLVE}),
        lambda r: NODE,
        "index.js",
    ),
    Case("node --env-file, no .env", _file(ENV_FILE), lambda r: ["node", "--env-file=.env", "index.js"], "index.js"),
    Case(
        "node --env-file, .env there",
        _file({**ENV_FILE, ".env": "A=1\n"}),
        lambda r: ["node", "--env-file=.env", "index.js"],
        "index.js",
    ),
    Case("yarn 4 pnp", s.yarn_pnp_app, lambda r: PNP_NODE, "index.js"),
    Case(
        "yarn 4 pnp, subpath exports forbid",
        _pnp("require('mysql2/lib/constants/errors');\n"),
        lambda r: PNP_NODE,
        "index.js",
    ),
    Case(
        "yarn 4 pnp, undeclared package", _pnp("require('ms');\nrequire('left-pad');\n"), lambda r: PNP_NODE, "index.js"
    ),
    Case("yarn 4 pnp, Procfile: plain node", _pnp(start="node index.js"), lambda r: NODE, "index.js"),
    Case("pnpm 10 workspace package", _pnpm("console.log(require('@acme/lib')(1000));\n"), lambda r: NODE, "index.js"),
    Case("pnpm 10, bcrypt build skipped", _pnpm("require('bcrypt');\n"), lambda r: NODE, "index.js"),
    Case("pnpm 10, a dependency's dependency", _pnpm("require('ms');\n"), lambda r: NODE, "index.js"),
    Case(
        "pm2 node_args --env-file, no .env",
        _file({"package.json": {"name": "api"}, "ecosystem.config.js": PM2_ENV_FILE, "server.js": ""}),
        lambda r: ["node", "--env-file=.env", "server.js"],
        "server.js",
    ),
    Case(
        "`cache || require('./store')`, no store",
        _file({"package.json": {"name": "api", "scripts": {"start": "node index.js"}}, "index.js": s.FALLBACKS}),
        lambda r: NODE,
        "index.js",
    ),
]


def main() -> int:
    rows = []
    false_blocks = misses = entries_right = 0
    started = time.perf_counter()
    for case in CASES:
        with tempfile.TemporaryDirectory(prefix="deploysafe-setups-") as scratch:
            root = case.build(Path(scratch))
            report = check(root)
            entry_ok = [e.path for e in report.entries] == [case.entry]
            if case.prepare:
                case.prepare(root)
            real = s.run(root, *case.start(root))
        loads = real.returncode == 0
        blocks = not report.deployable
        verdict = "agree"
        if blocks and loads:
            verdict, false_blocks = "FALSE BLOCK", false_blocks + 1
        elif not blocks and not loads:
            verdict, misses = "MISS", misses + 1
        entries_right += entry_ok
        rows.append(
            (case.name, "blocks" if blocks else "deployable", "loads" if loads else "crashes", entry_ok, verdict)
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  deploysafe  real start  entry  verdict")
    for name, said, real_result, entry_ok, verdict in rows:
        print(f"{name:<{width}}  {said:<10}  {real_result:<10}  {'yes' if entry_ok else 'NO':<5}  {verdict}")
    print(
        f"\n{len(CASES)} cases: {false_blocks} false blocks, {misses} misses, entries right {entries_right}/{len(CASES)}"
        f" ({time.perf_counter() - started:.0f} s)"
    )
    return 1 if false_blocks or misses else 0


if __name__ == "__main__":
    sys.exit(main())
