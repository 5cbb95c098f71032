"""The setups real services ship with: NestJS built by `nest build`, production start scripts, module-alias,
TypeScript type-only imports under tsx and ts-node, feature-detection guards, native addons without their
binary, `--env-file` and preloads, `require.resolve`, ts-node's ESM loader.

Every verdict is confirmed by the real tools: node, tsx, ts-node and tsc from tests/tools/typescript, and
packages from the npm registry installed from committed lockfiles (bcrypt with and without its binary,
module-alias, node-fetch 3, @types/express).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from deploysafe import check
from tests.support.npm_cache import installed, installed_once
from tests.support.projects import run_cli, run_node, write_tree
from tests.support.tools import link_typescript_tools as link_tools
from tests.support.tools import run_command as run
from tests.support.tools import typescript_tool as tool

LOADED = "console.log('loaded');\n"
ALIAS_AND_FETCH = {"dependencies": {"module-alias": "2.3.4", "node-fetch": "3.3.2"}}


def copy_modules(root: Path, packages: Path) -> Path:
    """A real copy of ``packages``' node_modules: module-alias finds the project's package.json through
    its own real path, so a link to the shared install would read the wrong one."""
    shutil.copytree(packages / "node_modules", root / "node_modules", symlinks=True)
    return root


def rules(report) -> list[tuple[str, str, str]]:
    return [(f.rule, f.file, str(f.severity)) for f in report.findings]


# ---- entries: the production start ------------------------------------------------------------------------

NEST = {
    "package.json": {
        "name": "api",
        "scripts": {
            "build": "nest build",
            "start": "nest start",
            "start:dev": "nest start --watch",
            "start:prod": "node dist/main",
        },
    },
    "nest-cli.json": {"collection": "@nestjs/schematics", "sourceRoot": "src"},
    "tsconfig.json": {"compilerOptions": {"module": "commonjs", "target": "es2021", "outDir": "./dist"}},
    "tsconfig.build.json": {"extends": "./tsconfig.json", "exclude": ["node_modules", "test", "dist"]},
    "src/main.ts": "import { greet } from './greet';\nconsole.log(greet());\n",
    "src/greet.ts": "export const greet = (): string => 'loaded';\n",
}


def test_start_prod_is_preferred_over_nest_start_and_node_runs_it_after_tsc(tmp_path):
    root = write_tree(tmp_path / "api", NEST)
    report = check(root)
    assert [e.path for e in report.entries] == ["src/main.ts"]
    assert "scripts.start:prod: node dist/main" in report.entries[0].reason
    assert "the production start" in report.entries[0].reason
    assert report.errors == []
    # nest build is tsc -p tsconfig.build.json: build it so, then run the production start.
    assert run(root, tool("tsc"), "-p", "tsconfig.build.json").returncode == 0
    assert run(root, "node", "dist/main").stdout.strip() == "loaded"


def test_a_file_outside_src_moves_the_output_and_node_dist_main_is_blocked_as_node_fails(tmp_path):
    root = write_tree(tmp_path / "api", {**NEST, "scripts/seed.ts": "export const seed = 1;\n"})
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "package.json")]
    assert "dist/src/main.js" in report.errors[0].message
    assert run(root, tool("tsc"), "-p", "tsconfig.build.json").returncode == 0
    assert (root / "dist/src/main.js").is_file()
    failed = run(root, "node", "dist/main")
    assert failed.returncode != 0 and "Cannot find module" in failed.stderr

    # `nest start` runs dist/src/main.js when it is there (nest-cli's start action): it starts.
    package = {**NEST["package.json"], "scripts": {"build": "nest build", "start": "nest start"}}
    write_tree(root, {"package.json": package})
    started = check(root)
    assert started.errors == []
    assert [e.path for e in started.entries] == ["dist/src/main.js"]
    assert "nest build compiles src/main.ts" in started.entries[0].reason
    assert run(root, "node", "dist/src/main.js").stdout.strip() == "loaded"


def test_a_development_start_gives_way_to_the_production_script_through_yarn(tmp_path):
    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {
                "name": "api",
                "scripts": {"start": "ts-node src/dev.ts", "start:prod": "yarn serve", "serve": "node server.js"},
            },
            "server.js": LOADED,
            "src/dev.ts": "import './nowhere';\n",
        },
    )
    report = check(root)
    assert [e.path for e in report.entries] == ["server.js"]
    reason = report.entries[0].reason
    assert "scripts.start:prod: yarn serve (runs node server.js)" in reason
    assert "'ts-node src/dev.ts' is a development start" in reason
    assert report.errors == []
    assert run_node(root, "server.js").returncode == 0


def test_a_procfile_running_a_package_script_finds_its_file(tmp_path):
    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {"name": "api", "scripts": {"start:prod": "node dist/server.js"}},
            "Procfile": "web: npm run start:prod\n",
            "dist/server.js": LOADED,
        },
    )
    report = check(root)
    assert [e.path for e in report.entries] == ["dist/server.js"]
    assert report.entries[0].reason.startswith("Procfile web: npm run start:prod (runs node dist/server.js)")


# ---- false blocks ---------------------------------------------------------------------------------------


def alias_fetch_app(folder: Path, package: dict, index: str, files: dict | None = None) -> Path:
    """A service with module-alias and node-fetch 3 installed (a real copy of node_modules)."""
    manifest = {"name": "app", "scripts": {"start": "node index.js"}, **package}
    tree = {"package.json": manifest, "index.js": index, **(files or {})}
    return copy_modules(write_tree(folder / "app", tree), installed("alias-fetch", ALIAS_AND_FETCH))


ALIASED = {"dependencies": {"module-alias": "2.3.4"}, "_moduleAliases": {"@lib": "./lib"}}
ALIAS_USE = "require('module-alias/register');\nconst hello = require('@lib/hello');\nconsole.log(hello);\n"
FETCHING = {"engines": {"node": ">=18"}, "dependencies": {"node-fetch": "3.3.2"}}
GUARDED_FETCH = "const get = typeof fetch === 'function' ? fetch : require('node-fetch');\n"


def test_module_alias_resolves_as_its_hook_does_and_node_agrees(tmp_path):
    root = alias_fetch_app(tmp_path, ALIASED, ALIAS_USE, {"lib/hello.js": "module.exports = 'loaded';\n"})
    report = check(root)
    assert report.errors == [], [f.message for f in report.errors]
    assert report.dormant == [] and report.reachable == 2
    assert run_node(root, "index.js").stdout.strip() == "loaded"

    (root / "lib/hello.js").unlink()
    blocked = check(root)
    assert [(f.rule, f.file) for f in blocked.errors] == [("unresolved-import", "index.js")]
    done = run_node(root, "index.js")
    assert "'@lib/hello'" in blocked.errors[0].message, blocked.errors[0].message
    assert done.returncode != 0 and "Cannot find module" in done.stderr and "/app/lib/hello'" in done.stderr


def test_an_alias_required_before_module_alias_registers_fails_as_node_fails_it(tmp_path):
    hello = {"lib/hello.js": "module.exports = 'loaded';\n"}
    late = "const hello = require('@lib/hello');\nrequire('module-alias/register');\nconsole.log(hello);\n"
    root = alias_fetch_app(tmp_path, ALIASED, late, hello)
    for index, where in ((late, "only at line 2"), ("console.log(require('@lib/hello'));\n", "nowhere")):
        (root / "index.js").write_text(index)
        blocked = check(root)
        assert [(f.rule, f.line) for f in blocked.errors] == [("unresolved-import", 1)]
        assert f"module-alias's register runs {where}" in blocked.errors[0].message
        failed = run_node(root, "index.js")
        assert failed.returncode != 0 and "Cannot find module '@lib/hello'" in failed.stderr


def test_a_guarded_require_of_esm_only_node_fetch_is_a_warning_and_node_18_runs_it(tmp_path):
    from tests.support.tools import node

    root = alias_fetch_app(tmp_path, FETCHING, GUARDED_FETCH + "console.log('loaded', typeof get);\n")
    report = check(root)
    assert report.errors == []
    assert rules(report) == [("require-of-esm", "index.js", "warning")]
    assert "a feature test guards it" in report.findings[0].message
    done = run(root, str(node("18.20.8")), "index.js")
    assert done.returncode == 0 and done.stdout.startswith("loaded"), done.stderr

    (root / "index.js").write_text("const get = require('node-fetch');\nconsole.log(typeof get);\n")
    blocked = check(root)
    assert [f.rule for f in blocked.errors] == ["require-of-esm"]
    failed = run(root, str(node("18.20.8")), "index.js")
    assert failed.returncode != 0 and "ERR_REQUIRE_ESM" in failed.stderr


FALLBACKS = (
    "let cache = null;\n"
    "const store = cache || require('./store');\n"
    "const get = globalThis.fetch || require('./polyfill');\n"
    "console.log('loaded', typeof store, typeof get);\n"
)


def test_a_require_behind_a_plain_or_fallback_runs_at_start_and_one_behind_a_global_probe_does_not(tmp_path):
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app", "scripts": {"start": "node index.js"}}})
    (root / "index.js").write_text(FALLBACKS)
    report = check(root)
    assert [(f.rule, f.line, str(f.severity)) for f in report.findings] == [
        ("unresolved-import", 2, "error"),
        ("unresolved-import", 3, "warning"),
    ]
    failed = run_node(root, "index.js")
    assert failed.returncode != 0 and "Cannot find module './store'" in failed.stderr

    (root / "store.js").write_text("module.exports = {};\n")  # node 20 has fetch: the polyfill never loads
    assert check(root).errors == []
    assert run_node(root, "index.js").stdout.startswith("loaded object function")


BUILTIN_PROBE = (
    "let Emitter;\n"
    "try {\n"
    "  Emitter = require('%s').EventEmitter;\n"
    "  if (!Emitter) throw new Error();\n"
    "} catch (err) {\n"
    "  Emitter = require('emitter');\n"
    "}\n"
    "console.log('loaded', typeof Emitter);\n"
)


def test_a_require_in_the_catch_of_a_try_that_loads_a_builtin_never_runs_and_one_after_a_package_does(tmp_path):
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app", "scripts": {"start": "node index.js"}}})
    (root / "index.js").write_text(BUILTIN_PROBE % "events")  # batch 0.6's fallback for browsers
    report = check(root)
    assert report.errors == []
    assert [(f.rule, f.line, str(f.severity)) for f in report.findings] == [("missing-package", 6, "warning")]
    assert "a feature test guards it" in report.findings[0].message
    assert run_node(root, "index.js").stdout.startswith("loaded function")

    (root / "index.js").write_text(BUILTIN_PROBE % "eventemitter3")  # not installed: the catch runs
    assert [(f.rule, f.line) for f in check(root).errors] == [("missing-package", 6)]
    failed = run_node(root, "index.js")
    assert failed.returncode != 0 and "Cannot find module 'emitter'" in failed.stderr


TYPES_ONLY = {"dependencies": {"@types/express": "4.17.21"}}


def types_only_app(tmp_path: Path, source: str, tsconfig: dict | None = None) -> Path:
    packages = installed("types-only", TYPES_ONLY)
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "scripts": {"start": "ts-node src/main.ts"}},
            "tsconfig.json": tsconfig or {"compilerOptions": {"module": "commonjs", "target": "es2021"}},
            "src/main.ts": source,
            "src/di.ts": "export const Injectable = () => (target: unknown) => target;\n",
        },
    )
    link_tools(root, "ts-node", "typescript", "tsx", "@types/node")
    os.symlink(packages / "node_modules" / "@types" / "express", root / "node_modules" / "@types" / "express")
    for name in os.listdir(packages / "node_modules" / "@types"):
        if not (root / "node_modules" / "@types" / name).exists():
            os.symlink(packages / "node_modules" / "@types" / name, root / "node_modules" / "@types" / name)
    return root


TYPE_USE = "import { Request } from 'express';\nexport function path(req: Request): string { return req.path; }\n"


def test_an_import_used_only_as_a_type_is_erased_as_tsx_and_ts_node_erase_it(tmp_path):
    root = types_only_app(tmp_path, TYPE_USE + LOADED)
    report = check(root)
    assert report.errors == [], [f.message for f in report.errors]
    for command in ([tool("tsx")], [tool("ts-node")], [tool("ts-node"), "--transpile-only"]):
        done = run(root, *command, "src/main.ts")
        assert done.returncode == 0 and "loaded" in done.stdout, (command, done.stderr)

    (root / "src/main.ts").write_text("import { Router } from 'express';\nconsole.log(Router);\n")
    blocked = check(root)
    assert [f.rule for f in blocked.errors] == ["missing-package"]
    failed = run(root, tool("ts-node"), "--transpile-only", "src/main.ts")
    assert failed.returncode != 0 and "Cannot find module 'express'" in failed.stderr


def test_decorator_metadata_keeps_a_constructor_parameter_type_and_ts_node_fails_on_it(tmp_path):
    source = (
        "import { Request } from 'express';\nimport { Injectable } from './di';\n"
        "@Injectable()\nexport class Handler { constructor(private readonly req: Request) {} }\n" + LOADED
    )
    options = {"module": "commonjs", "target": "es2021", "experimentalDecorators": True}
    root = types_only_app(tmp_path, source, {"compilerOptions": {**options, "emitDecoratorMetadata": True}})
    blocked = check(root)
    assert [f.rule for f in blocked.errors] == ["missing-package"]
    failed = run(root, tool("ts-node"), "--transpile-only", "src/main.ts")
    assert failed.returncode != 0 and "Cannot find module 'express'" in failed.stderr

    write_tree(root, {"tsconfig.json": {"compilerOptions": options}})
    assert check(root).errors == []
    done = run(root, tool("ts-node"), "--transpile-only", "src/main.ts")
    assert done.returncode == 0, done.stderr


def test_cli_names_the_production_start(tmp_path):
    root = write_tree(tmp_path / "api", NEST)
    done = run_cli("check", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scripts.start:prod: node dist/main" in done.stdout


# ---- misses: what the start command itself needs ------------------------------------------------------


def test_an_env_file_the_start_command_reads_must_exist_as_node_exits_9_without_it(tmp_path):
    root = write_tree(
        tmp_path / "api",
        {"package.json": {"name": "api", "scripts": {"start": "node --env-file=.env server.js"}}, "server.js": LOADED},
    )
    blocked = check(root)
    assert [(f.rule, f.file) for f in blocked.errors] == [("missing-start-file", "package.json")]
    assert "node: .env: not found" in blocked.errors[0].message
    assert blocked.errors[0].reachable  # the start itself fails: not "dormant" in the reports
    done = run(root, "node", "--env-file=.env", "server.js")
    assert done.returncode == 9 and ".env: not found" in done.stderr and "loaded" not in done.stdout

    # A target's shared file is linked into each release: present on the host.
    (root / "deploysafe.toml").write_text('[targets.web]\npath = "/srv/api"\nshared = [".env"]\n')
    assert check(root).errors == []
    (root / "deploysafe.toml").unlink()
    (root / ".env").write_text("GREETING=hi\n")
    assert check(root).errors == []
    assert run(root, "node", "--env-file=.env", "server.js").returncode == 0


def test_env_files_are_read_from_each_node_of_a_chain_after_the_script_too_up_to_a_double_dash(tmp_path):
    # node reads `--env-file=args.env` though it follows the script's name (Node 20 and 22), not what follows
    # `--`; `echo` runs no node (an `&&` in its quotes does not stop the reading); .env, named twice, is said
    # once; a last `--env-file` with no value is ignored.
    start = (
        'echo "starting && warming" && node --env-file .env server.js --env-file=args.env -- --env-file=script.env && '
        "node --env-file=.env.local --env-file .env server.js && node server.js --env-file"
    )
    node = ("node", "--env-file", ".env", "server.js", "--env-file=args.env", "--", "--env-file=script.env")
    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {"name": "api", "scripts": {"start": start}},
            "server.js": "console.log('loaded', process.argv.slice(2).join(' '));\n",
        },
    )
    blocked = check(root)
    assert [(f.rule, f.file, f.line) for f in blocked.errors] == [("missing-start-file", "package.json", 4)] * 3
    assert [f.message.split(" — ")[0] for f in blocked.errors] == [
        "crashes at start: node: .env: not found",
        "crashes at start: node: args.env: not found",
        "crashes at start: node: .env.local: not found",
    ]
    done = run(root, *node)
    assert done.returncode == 9 and "node: .env: not found" in done.stderr

    write_tree(root, {".env": "A=1\n", ".env.local": "B=2\n"})
    assert [f.message.split(" — ")[0] for f in check(root).errors] == ["crashes at start: node: args.env: not found"]
    done = run(root, *node)
    assert done.returncode == 9 and "node: args.env: not found" in done.stderr

    write_tree(root, {"args.env": "C=3\n"})
    assert check(root).errors == []
    done = run(root, *node)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loaded --env-file=args.env -- --env-file=script.env"
    done = run(root, "node", "server.js", "--env-file")
    assert done.returncode == 0 and done.stdout.strip() == "loaded --env-file", done.stderr

    # the last two words of a command: `--env-file late.env` after the script is read as well
    write_tree(root, {"package.json": {"name": "api", "scripts": {"start": "node server.js --env-file late.env"}}})
    assert [f.message.split(" — ")[0] for f in check(root).errors] == ["crashes at start: node: late.env: not found"]
    done = run(root, "node", "server.js", "--env-file", "late.env")
    assert done.returncode == 9 and "node: late.env: not found" in done.stderr


def bcrypt_app(tmp_path: Path, fixture: str, version: str) -> Path:
    packages = installed(fixture, {"dependencies": {"bcrypt": version}})
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "dependencies": {"bcrypt": version}, "scripts": {"start": "node index.js"}},
            "index.js": "const bcrypt = require('bcrypt');\nconsole.log('loaded', typeof bcrypt.hashSync);\n",
        },
    )
    return copy_modules(root, packages)


def test_bcrypt_installed_without_its_build_step_is_blocked_and_node_fails_to_load_it(tmp_path):
    # npm ci --ignore-scripts (tests/support/npm_cache.py), as pnpm 10 does by default: no bcrypt_lib.node.
    root = bcrypt_app(tmp_path, "bcrypt5", "5.1.1")
    blocked = check(root)
    assert [(f.rule, f.file) for f in blocked.errors] == [("missing-native-binding", "index.js")]
    assert blocked.errors[0].message == (
        "crashes at start: bcrypt loads a compiled addon (require('@mapbox/node-pre-gyp') in bcrypt.js) and no "
        "binary for linux-x64 is built in node_modules/bcrypt: its build script did not run (an install with "
        "--ignore-scripts, or pnpm, which builds only `onlyBuiltDependencies`); run `npm rebuild bcrypt`"
    )
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "bcrypt_lib.node" in done.stderr

    # Finding the package loads no addon, and a failed import() the code catches crashes nothing.
    write_tree(
        root,
        {
            "index.js": "console.log('loaded', require.resolve('bcrypt'));\n"
            "(async () => {\n  try {\n    await import('bcrypt');\n  } catch {\n    console.log('no addon');\n  }\n})();\n"
        },
    )
    assert check(root).findings == []
    done = run_node(root, "index.js")
    assert done.returncode == 0 and done.stdout.startswith("loaded") and "no addon" in done.stdout, done.stderr


def test_bcrypt_with_its_prebuilt_binary_loads_and_without_it_node_gyp_build_fails(tmp_path):
    root = bcrypt_app(tmp_path, "bcrypt6", "6.0.0")
    report = check(root)
    assert report.errors == [], [f.message for f in report.errors]
    done = run_node(root, "index.js")
    assert done.returncode == 0 and done.stdout.startswith("loaded"), done.stderr

    shutil.rmtree(root / "node_modules/bcrypt/prebuilds")
    blocked = check(root, cache=False)
    assert [f.rule for f in blocked.errors] == ["missing-native-binding"]
    assert "node-gyp-build" in blocked.errors[0].message
    failed = run_node(root, "index.js")
    assert failed.returncode != 0 and "No native build was found" in failed.stderr

    # A package whose entry requires more files than are followed (25): the first ones are still read, the
    # one that loads the addon with them (a require back to the entry does not loop; loads in a function, in
    # a try, behind a feature test or in a branch production skips are not the one; a JSON file and a
    # computed require are passed over).
    parts = {f"node_modules/wide/lib/part{n}.js": f"module.exports = {n};\n" for n in range(2, 30)}
    lazy = (
        "function later() {\n  return require('bindings')('wide');\n}\n"
        "if (process.env.NODE_ENV !== 'production') require('bindings')('wide');\n"
        "try {\n  require('bindings')('wide');\n} catch {}\n"
        "const native = typeof fetch === 'function' ? null : require('bindings')('wide');\n"
        "const data = require('./data.json');\n"
        "const extra = require(['.', 'lib', 'part2.js'].join('/'));\n"
    )
    write_tree(
        root,
        {
            **parts,
            "node_modules/wide/data.json": {"parts": 30},
            "node_modules/wide/package.json": {"name": "wide", "version": "1.0.0", "main": "index.js"},
            "node_modules/wide/index.js": lazy + "".join(f"require('./lib/part{n}.js');\n" for n in range(30)),
            "node_modules/wide/lib/part0.js": "module.exports = require('node-gyp-build')(__dirname + '/..');\n",
            "node_modules/wide/lib/part1.js": "module.exports = require('../index.js');\n",
            "index.js": "require('wide');\nconsole.log('loaded');\n",
        },
    )
    blocked = check(root, cache=False)
    assert [f.rule for f in blocked.errors] == ["missing-native-binding"]
    assert "wide loads a compiled addon (require('node-gyp-build') in lib/part0.js)" in blocked.errors[0].message
    failed = run_node(root, "index.js", env={"NODE_ENV": "production"})
    assert failed.returncode != 0 and "No native build was found" in failed.stderr, failed.stderr


def test_require_resolve_of_a_missing_file_is_an_edge_and_node_throws_at_start(tmp_path):
    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {"name": "api", "scripts": {"start": "node index.js"}},
            "index.js": "const page = require.resolve('./templates/welcome.html');\nconsole.log('loaded', page);\n",
        },
    )
    blocked = check(root)
    assert [(f.rule, f.file, f.specifier) for f in blocked.errors] == [
        ("unresolved-import", "index.js", "./templates/welcome.html")
    ]
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "Cannot find module './templates/welcome.html'" in done.stderr

    write_tree(root, {"templates/welcome.html": "<p>hi</p>\n"})
    report = check(root)
    assert report.errors == [] and report.dormant == []
    assert run_node(root, "index.js").stdout.startswith("loaded")


def test_import_meta_resolve_of_a_missing_package_throws_and_of_a_missing_file_does_not(tmp_path):
    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {"name": "api", "type": "module", "scripts": {"start": "node index.js"}},
            "index.js": "console.log(import.meta.resolve('./later.html'));\n"
            "console.log(import.meta.resolve('not-installed'));\n",
        },
    )
    blocked = check(root)
    assert [(f.rule, f.specifier) for f in blocked.errors] == [("missing-package", "not-installed")]
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "Cannot find package 'not-installed'" in done.stderr
    assert done.stdout.strip().endswith("/later.html")  # the missing file resolved without a throw


# ---- each TypeScript runner by its own rules -----------------------------------------------------------

ESM_SOURCES = {
    "tsconfig.json": {"compilerOptions": {"module": "nodenext", "moduleResolution": "nodenext", "target": "es2022"}},
    "src/main.ts": "import { greet } from './greet';\nconsole.log(greet());\n",
    "src/greet.ts": "export const greet = (): string => 'loaded';\n",
}


def test_ts_node_esm_loader_needs_extensions_where_tsx_adds_them(tmp_path):
    loader = "node --loader ts-node/esm src/main.ts"
    package = {"name": "api", "type": "module", "scripts": {"start": loader}}
    root = link_tools(write_tree(tmp_path / "api", {**ESM_SOURCES, "package.json": package}), "ts-node", "typescript")
    blocked = check(root)
    assert [(f.rule, f.file, f.specifier) for f in blocked.errors] == [("unresolved-import", "src/main.ts", "./greet")]
    assert "ts-node's ESM loader" in blocked.typescript.describe(str(root))
    failed = run(root, "node", "--loader", "ts-node/esm", "src/main.ts")
    assert failed.returncode != 0 and "Cannot find module" in failed.stderr and "/src/greet' imported" in failed.stderr

    # The same sources under tsx: extensions are added, and it starts.
    write_tree(root, {"package.json": {**package, "scripts": {"start": "tsx src/main.ts"}}})
    assert check(root).errors == []
    assert run(root, tool("tsx"), "src/main.ts").stdout.strip() == "loaded"

    # `./greet.js` names greet.ts under ts-node's ESM loader: it starts.
    write_tree(
        root, {"package.json": package, "src/main.ts": "import { greet } from './greet.js';\nconsole.log(greet());\n"}
    )
    assert check(root).errors == []
    done = run(root, "node", "--loader", "ts-node/esm", "src/main.ts")
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr


def test_an_env_file_in_a_pm2_apps_node_args_is_needed_as_pm2_starts_it(tmp_path):
    import time

    from tests.support.pm2 import start_pm2

    ecosystem = (
        "module.exports = {\n  apps: [{ name: 'api', script: 'server.js', node_args: '--env-file=.env' }],\n};\n"
    )
    root = write_tree(
        tmp_path / "api",
        {"package.json": {"name": "api"}, "ecosystem.config.js": ecosystem, "server.js": "console.log('up');\n"},
    )
    report = check(root)
    assert [(f.rule, f.file, f.line) for f in report.errors] == [("missing-start-file", "ecosystem.config.js", 2)]
    pm2 = start_pm2(tmp_path / "pm2home")
    try:
        pm2.run("start", "ecosystem.config.js", cwd=root)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and pm2.processes()[0]["status"] != "errored":
            time.sleep(0.5)
        assert pm2.processes()[0]["status"] == "errored"
        assert ".env: not found" in (tmp_path / "pm2home" / "logs" / "api-error.log").read_text()
    finally:
        pm2.kill()
    (root / ".env").write_text("A=1\n")
    assert check(root).errors == []


# ---- Yarn 4 Plug'n'Play -----------------------------------------------------------------------------------

YARNRC = 'nodeLinker: pnp\nnpmRegistryServer: "https://registry.npmjs.org"\nenableGlobalCache: false\nenableTelemetry: false\n'
PNP_SERVICE = {
    "name": "svc",
    "version": "1.0.0",
    "packageManager": "yarn@4.5.3",
    # ws has (optional) peers: Yarn installs it as a virtual instance, .yarn/__virtual__/.../cache/ws-...zip.
    "dependencies": {"ms": "2.1.3", "mysql2": "3.11.0", "ws": "8.18.0"},
    "scripts": {"start": "node -r ./.pnp.cjs index.js"},
}
PNP_INDEX = "const ms = require('ms');\nrequire('mysql2/promise');\nrequire('ws');\nconsole.log('loaded', ms(1000));\n"


def yarn_pnp_app(tmp_path: Path) -> Path:
    """A service installed by the real Yarn 4 (from the npm registry) with Plug'n'Play: no node_modules, its
    packages zipped in .yarn/cache. Installed once into the tests' cache and copied: PnP's map is relative."""
    yarn = installed("yarn", {"dependencies": {"@yarnpkg/cli-dist": "4.5.3"}})
    cli = yarn / "node_modules" / "@yarnpkg" / "cli-dist" / "bin" / "yarn.js"
    # An empty yarn.lock makes the folder a project of its own, whatever lies above it. Yarn turns on
    # immutable installs when CI is set; this fixture writes its yarn.lock on first install.
    tree = {"package.json": PNP_SERVICE, ".yarnrc.yml": YARNRC, "yarn.lock": ""}
    quiet = {"COREPACK_ENABLE_STRICT": "0", "YARN_ENABLE_TELEMETRY": "0", "YARN_ENABLE_IMMUTABLE_INSTALLS": "false"}
    cached = installed_once("yarn-pnp", tree, ["node", str(cli), "install"], quiet)
    root = tmp_path / "svc"
    shutil.copytree(cached, root)
    (root / "index.js").write_text(PNP_INDEX)
    assert (root / ".pnp.cjs").is_file() and not (root / "node_modules").exists()
    return root


def test_yarn_pnp_resolves_packages_through_its_map_and_zip_cache_as_node_does(tmp_path):
    root = yarn_pnp_app(tmp_path)
    report = check(root)
    assert report.errors == [] and report.dormant == [] and report.unverified == []
    assert run(root, "node", "-r", "./.pnp.cjs", "index.js").stdout.startswith("loaded")

    # A subpath mysql2's exports do not allow: PnP applies exports as node_modules does.
    (root / "index.js").write_text("require('ms');\nrequire('mysql2/lib/constants/errors');\n")
    blocked = check(root)
    assert [(f.rule, f.specifier) for f in blocked.errors] == [("unresolved-import", "mysql2/lib/constants/errors")]
    assert ".yarn/cache/mysql2-npm-3.11.0" in blocked.errors[0].message
    failed = run(root, "node", "-r", "./.pnp.cjs", "index.js")
    assert failed.returncode != 0 and "Package subpath './lib/constants/errors' is not defined by" in failed.stderr

    # A package declared after the install is not in the map: PnP refuses it, and the fix is a new install.
    declared = {**PNP_SERVICE, "dependencies": {**PNP_SERVICE["dependencies"], "left-pad": "1.3.0"}}
    write_tree(root, {"package.json": declared, "index.js": "require('left-pad');\nconsole.log('loaded');\n"})
    blocked = check(root)
    assert [(f.rule, f.specifier) for f in blocked.errors] == [("missing-package", "left-pad")]
    assert blocked.errors[0].message.endswith(
        "; it is in dependencies of package.json but not in the PnP map: run yarn install and ship the new .pnp.cjs"
    )
    failed = run(root, "node", "-r", "./.pnp.cjs", "index.js")
    assert failed.returncode != 0 and "tried to access left-pad, but it isn't declared" in failed.stderr

    # Yarn PnP is strict: an undeclared package fails under it (`yarn node` too), and the check blocks it.
    (root / "index.js").write_text("require('ms');\nrequire('left-pad');\n")
    blocked = check(root)
    assert [(f.rule, f.specifier) for f in blocked.errors] == [("missing-package", "left-pad")]
    assert "Yarn PnP: svc tried to access left-pad, but it isn't declared" in blocked.errors[0].message
    failed = run(root, "node", "-r", "./.pnp.cjs", "index.js")
    assert failed.returncode != 0 and "tried to access left-pad, but it isn't declared" in failed.stderr

    # An archive that is there but that deploysafe cannot read (here not a zip at all; in general one it cannot
    # unpack) is not judged: the check says which archive it could not verify.
    archive = next((root / ".yarn" / "cache").glob("ms-npm-2.1.3-*.zip"))
    kept = archive.read_bytes()
    archive.write_bytes(b"not a zip archive")
    (root / "index.js").write_text("require('ms');\n")
    unread = check(root, cache=False)
    assert unread.errors == []
    read = "Yarn PnP: packages not verified — these package archives could not be read"
    assert [(u.file, u.detail.split(" (")[0]) for u in unread.unverified] == [
        (".pnp.cjs", f"{read}: .yarn/cache/{archive.name}/node_modules/ms")
    ]

    # The map names an archive that is not there (.yarn/cache not shipped): node cannot load ms, and the
    # check blocks the import, naming the archive.
    archive.unlink()
    failed = run(root, "node", "-r", "./.pnp.cjs", "index.js")
    assert failed.returncode != 0 and "ms-npm-2.1.3" in failed.stderr, failed.stderr
    blocked = check(root, cache=False)
    assert [(f.rule, f.file, f.specifier) for f in blocked.errors] == [("missing-package", "index.js", "ms")]
    assert blocked.errors[0].message == (
        f"crashes at start: Yarn PnP: the package archive the PnP map names, .yarn/cache/{archive.name} is not "
        "there; run yarn install and ship .yarn/cache with .pnp.cjs"
    ), failed.stderr
    assert blocked.unverified == []
    archive.write_bytes(kept)
    assert check(root, cache=False).errors == []


def test_a_pnp_service_started_by_plain_node_is_blocked_and_through_yarn_node_is_not(tmp_path):
    root = yarn_pnp_app(tmp_path)
    # package.json's `node -r ./.pnp.cjs index.js` runs through yarn anyway; a Procfile runs as written.
    assert check(root).errors == []
    for start in ("node index.js", "yarn node index.js"):
        (root / "Procfile").write_text(f"web: {start}\n")
        report = check(root)
        assert [e.path for e in report.entries] == ["index.js"]
        if start == "node index.js":
            assert [(f.rule, f.file, f.line) for f in report.errors] == [("missing-package", "index.js", 1)]
            assert "without Yarn Plug'n'Play's runtime" in report.errors[0].message
            failed = run(root, "node", "index.js")
            assert failed.returncode != 0 and "Cannot find module 'ms'" in failed.stderr
        else:
            assert report.errors == []
            yarn = installed("yarn", {"dependencies": {"@yarnpkg/cli-dist": "4.5.3"}})
            cli = yarn / "node_modules" / "@yarnpkg" / "cli-dist" / "bin" / "yarn.js"
            done = run(root, "node", str(cli), "node", "index.js", env={"COREPACK_ENABLE_STRICT": "0"})
            assert done.returncode == 0 and done.stdout.startswith("loaded"), done.stdout + done.stderr


def test_yarn_pnp_runtime_ships_with_pack_and_the_packed_service_starts(tmp_path):
    import tarfile

    from deploysafe.pack import pack

    root = yarn_pnp_app(tmp_path)
    result = pack(root, output=tmp_path / "out")
    with tarfile.open(result.path) as archive:
        names = archive.getnames()
    shipped = {n.split("/", 1)[1] if n.startswith("svc") else n for n in names}
    assert any(n.endswith(".pnp.cjs") for n in shipped)
    assert any(".yarn/cache/mysql2-npm-3.11.0" in n and n.endswith(".zip") for n in shipped)
    unpacked = tmp_path / "unpacked"
    with tarfile.open(result.path) as archive:
        archive.extractall(unpacked, filter="data")
    started = next(p.parent for p in unpacked.rglob(".pnp.cjs"))
    assert run(started, "node", "-r", "./.pnp.cjs", "index.js").stdout.startswith("loaded")

    # A map in a form deploysafe does not know (here the inlined state renamed; node still runs it): its
    # packages are not verified, said once, never blocked.
    runtime = root / ".pnp.cjs"
    runtime.write_text(runtime.read_text().replace("RAW_RUNTIME_STATE", "RUNTIME_STATE_V9"))
    report = check(root)
    assert report.errors == []
    assert run(root, "node", "-r", "./.pnp.cjs", "index.js").stdout.startswith("loaded")
    assert [(u.file, u.detail.split(" —")[0]) for u in report.unverified] == [
        (".pnp.cjs", "Yarn PnP: packages not verified")
    ]


# ---- a pnpm 10 workspace -----------------------------------------------------------------------------------

PNPM_WORKSPACE = {
    "package.json": {"name": "ws", "private": True},
    "pnpm-workspace.yaml": "packages:\n  - 'packages/*'\n",
    "packages/lib/package.json": {"name": "@acme/lib", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}},
    "packages/lib/index.js": "module.exports = (n) => require('ms')(n);\n",
    "packages/api/package.json": {
        "name": "api",
        "version": "1.0.0",
        "dependencies": {"@acme/lib": "workspace:*", "bcrypt": "5.1.1"},
        "scripts": {"start": "node index.js"},
    },
}


def pnpm_workspace(tmp_path: Path) -> Path:
    """A workspace installed by the real pnpm 10 (from the npm registry) with its defaults: workspace packages
    linked, dependencies in node_modules/.pnpm, and no build script run (bcrypt is left without its binary).
    Installed once into the tests' cache and copied with its relative symlinks."""
    pnpm = installed("pnpm", {"dependencies": {"pnpm": "10.12.1"}}) / "node_modules" / ".bin" / "pnpm"
    command = [str(pnpm), "install", "--no-frozen-lockfile"]
    cached = installed_once("pnpm-workspace", PNPM_WORKSPACE, command, {"npm_config_loglevel": "error"})
    root = tmp_path / "ws"
    shutil.copytree(cached, root, symlinks=True)
    return root


def test_a_pnpm_10_workspace_service_as_pnpm_installs_it(tmp_path):
    api = pnpm_workspace(tmp_path) / "packages" / "api"
    (api / "index.js").write_text("const lib = require('@acme/lib');\nconsole.log('loaded', lib(1000));\n")
    report = check(api)
    assert report.errors == [] and report.unverified == []
    assert run_node(api, "index.js").stdout == "loaded 1s\n"

    # pnpm 10 ran no build script: bcrypt has no binary, and the check says so with pnpm's fix.
    (api / "index.js").write_text("require('@acme/lib');\nrequire('bcrypt');\n")
    blocked = check(api)
    assert [(f.rule, f.line) for f in blocked.errors] == [("missing-native-binding", 2)]
    failed = run_node(api, "index.js")
    assert failed.returncode != 0 and "bcrypt_lib.node" in failed.stderr

    # Only @acme/lib declares ms: pnpm's layout keeps it out of the service's reach.
    (api / "index.js").write_text("require('@acme/lib');\nrequire('ms');\n")
    blocked = check(api)
    assert [(f.rule, f.specifier) for f in blocked.errors] == [("missing-package", "ms")]
    assert "(pnpm add ms)" in blocked.errors[0].message
    failed = run_node(api, "index.js")
    assert failed.returncode != 0 and "Cannot find module 'ms'" in failed.stderr


# ---- the Node version of the verdict ----------------------------------------------------------------------


def test_a_service_checked_from_the_repository_root_assumes_the_node_of_its_own_engines(tmp_path):
    from tests.support.tools import node

    repo = write_tree(
        tmp_path / "repo",
        {
            "package.json": {"name": "repo", "private": True, "workspaces": ["services/*"]},
            "services/api/package.json": {
                "name": "api",
                "engines": {"node": ">=18"},
                "scripts": {"start": "node index.js"},
            },
            "services/api/index.js": "require('./esm.mjs');\n",
            "services/api/esm.mjs": "export const x = 1;\n",
        },
    )
    from_folder = check(repo / "services/api")
    from_root = check(repo, ["services/api/index.js"])
    assert str(from_folder.node) == str(from_root.node) == "18.0.0"
    assert "services/api/package.json engines.node '>=18'" in from_root.node.source
    assert [f.rule for f in from_root.errors] == [f.rule for f in from_folder.errors] == ["require-of-esm"]
    failed = run(repo / "services/api", str(node("18.20.8")), "index.js")
    assert failed.returncode != 0 and "ERR_REQUIRE_ESM" in failed.stderr
