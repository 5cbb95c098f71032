"""Code loaded by listing a folder at start (readdir + import()/require(), @fastify/autoload): the loaded
files are reachable, their faults are errors with the loader in the chain, and real node agrees."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deploysafe import check
from tests.support import tools
from tests.support.npm_cache import project
from tests.support.projects import run_node, write_tree

ESM_LOADER = (
    "import { readdirSync } from 'node:fs';\nimport path from 'node:path';\nimport { pathToFileURL } from 'node:url';\n"
    "const dir = path.join(import.meta.dirname, 'banks');\n"
    "for (const name of readdirSync(dir)) {\n  if (!name.endsWith('.js')) continue;\n"
    "  const bank = await import(pathToFileURL(path.join(dir, name)).href);\n  console.log(bank.default);\n}\n"
)
CJS_LOADER = (
    "const fs = require('fs');\nconst path = require('path');\n"
    "for (const name of fs.readdirSync(__dirname + '/handlers')) {\n"
    "  if (name.endsWith('.js')) console.log(require(path.join(__dirname, 'handlers', name)).name);\n}\n"
)


def banks(root: Path, first_bank: str) -> Path:
    return write_tree(
        root,
        {
            "package.json": {"name": "banks", "version": "1.0.0", "type": "module", "main": "app.js"},
            "app.js": ESM_LOADER,
            "banks/a_one.js": first_bank,
            "banks/b_two.js": "export default 'two';\n",
            "lib/format.js": "export const format = (x) => `bank ${x}`;\n",
        },
    )


def test_a_file_loaded_by_readdir_and_import_is_reachable_and_clean_when_node_loads_it(tmp_path):
    root = banks(tmp_path / "ok", "import { format } from '../lib/format.js';\nexport default format('one');\n")
    report = check(root)
    assert report.errors == [] and report.unverified == []
    assert {"banks/a_one.js", "banks/b_two.js", "lib/format.js"} <= {report.graph.rel(p) for p in report.graph.parents}
    done = run_node(root, "app.js")
    assert done.returncode == 0 and "bank one" in done.stdout


def test_a_missing_import_of_a_file_loaded_by_readdir_blocks_with_the_loader_in_the_chain(tmp_path):
    root = banks(tmp_path / "broken", "import { format } from '../lib/greet.js';\nexport default format('one');\n")
    report = check(root)
    assert [(f.rule, f.file, f.specifier) for f in report.errors] == [
        ("unresolved-import", "banks/a_one.js", "../lib/greet.js")
    ]
    assert report.errors[0].chain == ("app.js", "banks/a_one.js")
    assert report.errors[0].message.startswith("crashes at start (loaded from banks/ by app.js:5): ")
    assert report.exit_code != 0
    done = run_node(root, "app.js")
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr and "greet.js" in done.stderr


def test_commonjs_readdir_sync_and_require_of_dirname_concatenation(tmp_path):
    root = write_tree(
        tmp_path / "cjs",
        {
            "package.json": {"name": "cjs", "version": "1.0.0", "main": "index.js"},
            "index.js": CJS_LOADER,
            "handlers/ping.js": "require('./missing-helper');\nexports.name = 'ping';\n",
        },
    )
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "handlers/ping.js")]
    assert report.errors[0].chain == ("index.js", "handlers/ping.js")
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "Cannot find module './missing-helper'" in done.stderr


def test_a_listed_folder_that_cannot_be_read_from_the_source_is_unverified_and_names_the_call(tmp_path):
    loader = ESM_LOADER.replace("path.join(import.meta.dirname, 'banks')", "process.env.BANKS_DIR")
    root = write_tree(
        tmp_path / "env",
        {
            "package.json": {"name": "env", "version": "1.0.0", "type": "module", "main": "app.js"},
            "app.js": loader,
            "banks/a_one.js": "export default 'one';\n",
        },
    )
    report = check(root)
    assert report.errors == []
    [unverified] = report.unverified
    assert unverified.file == "app.js" and unverified.reachable
    assert "readdirSync(dir)" in unverified.detail
    assert report.graph.rel(str(root / "banks/a_one.js")) in [report.graph.rel(p) for p in report.graph.dormant]


def test_a_listing_feeds_only_the_load_that_uses_its_entries_and_its_filters_hold(tmp_path):
    loader = (
        "import { readdirSync } from 'node:fs';\nimport path from 'node:path';\n"
        "const dir = path.join(import.meta.dirname, 'banks');\n"
        "for (const name of readdirSync(dir).filter((f) => f.endsWith('.js'))) {\n"
        "  if (name.endsWith('.test.js')) continue;\n"
        "  console.log((await import(path.join(dir, name))).default);\n}\n"
        "if (process.env.PLUGIN) await import(process.env.PLUGIN);\n"
    )
    root = banks(tmp_path / "filtered", "export default 'one';\n")
    write_tree(
        root,
        {"app.js": loader, "banks/c_three.test.js": "import './gone.js';\n", "banks/d.mjs": "import './gone.js';\n"},
    )
    report = check(root)
    assert report.errors == []
    assert [(u.file, u.line, u.detail.split(":")[0]) for u in report.unverified] == [
        ("app.js", 8, "import(process.env.PLUGIN)")
    ]
    reached = {report.graph.rel(p) for p in report.graph.parents}
    assert {"banks/a_one.js", "banks/b_two.js"} <= reached and not {"banks/c_three.test.js", "banks/d.mjs"} & reached
    done = run_node(root, "app.js")
    assert done.returncode == 0 and done.stdout.split() == ["one", "two"], done.stderr


FILTERED = (
    "const fs = require('fs');\nconst path = require('path');\nconst dir = path.join(__dirname, 'routes');\n"
    "const isRoute = (f) => !f.startsWith('_');\n"
    "fs.readdirSync(dir).filter((f) => FILTER).forEach((f) => console.log(require(path.join(dir, f))));\n"
)


def test_a_regex_and_a_prefix_filter_pick_the_files_node_loads_and_a_filter_function_is_unverified(tmp_path):
    files = {
        "package.json": {"name": "app", "main": "app.js"},
        "routes/a.js": "module.exports = 'a';\n",
        "routes/b.cjs": "module.exports = 'b';\n",
        "routes/_draft.js": "require('./not-written-yet');\n",
        "routes/c.mjs": "import './not-written-yet.js';\n",
    }
    loader = FILTERED.replace("FILTER", "!f.startsWith('_') && /\\.(js|cjs)$/.test(f)")
    root = write_tree(tmp_path / "app", {**files, "app.js": loader})
    report = check(root)
    assert report.errors == [] and report.unverified == []
    assert {"routes/a.js", "routes/b.cjs"} <= {report.graph.rel(p) for p in report.graph.parents}
    assert run_node(root, "app.js").stdout.split() == ["a", "b"]

    (root / "app.js").write_text(FILTERED.replace("FILTER", "isRoute(f) && !f.endsWith('.mjs')"))
    report = check(root)
    assert report.errors == []
    assert [(u.file, u.line) for u in report.unverified] == [("app.js", 5)]
    assert "a file-name filter deploysafe cannot apply: isRoute(f)" in str(report.unverified[0])
    assert run_node(root, "app.js").stdout.split() == ["a", "b"]


MAIN_GUARDED = (
    "const fs = require('fs');\nconst path = require('path');\nfunction main() {\n"
    "  for (const f of fs.readdirSync(path.join(__dirname, 'routes'))) require(path.join(__dirname, 'routes', f));\n"
    "  console.log('started');\n}\nif (require.main === module) main();\n"
)


def test_a_loader_called_under_require_main_runs_at_start_and_one_under_an_env_test_when_it_is_set(tmp_path):
    files = {"package.json": {"name": "app", "main": "app.js"}, "routes/a.js": "require('./missing');\n"}
    root = write_tree(tmp_path / "app", {**files, "app.js": MAIN_GUARDED})
    [error] = check(root).errors
    assert error.message.startswith("crashes at start (loaded from routes/ by app.js:4): Cannot find module")
    failed = run_node(root, "app.js")
    assert failed.returncode != 0 and "Cannot find module './missing'" in failed.stderr

    (root / "app.js").write_text(MAIN_GUARDED.replace("require.main === module", "process.env.ROUTES"))
    [error] = check(root).errors
    assert error.message.startswith("fails when this code runs"), error.message
    assert run_node(root, "app.js", env={"ROUTES": ""}).returncode == 0
    failed = run_node(root, "app.js", env={"ROUTES": "1"})
    assert failed.returncode != 0 and "Cannot find module './missing'" in failed.stderr


DESM_LOADER = (
    "import { readdirSync } from 'node:fs';\nimport { join } from 'desm';\n"
    "const dir = join(import.meta.url, 'banks');\n"
    "for (const name of readdirSync(dir)) console.log((await import(`./banks/${name}`)).default);\n"
)


def test_a_folder_named_by_desms_join_of_import_meta_url_is_read_as_node_reads_it(tmp_path):
    package = {"name": "banks", "version": "1.0.0", "type": "module", "main": "app.js"}
    root = project(tmp_path / "desm", "desm", {**package, "dependencies": {"desm": "1.3.1"}}, {"app.js": DESM_LOADER})
    write_tree(root, {"banks/a_one.js": "import './gone.js';\nexport default 'one';\n"})
    report = check(root)
    assert [(f.rule, f.file, f.chain) for f in report.errors] == [
        ("unresolved-import", "banks/a_one.js", ("app.js", "banks/a_one.js"))
    ]
    assert report.unverified == []
    failed = run_node(root, "app.js")
    assert failed.returncode != 0 and "ERR_MODULE_NOT_FOUND" in failed.stderr and "gone.js" in failed.stderr

    write_tree(root, {"banks/a_one.js": "export default 'one';\n"})
    assert check(root).errors == []
    assert run_node(root, "app.js").stdout.split() == ["one"]


# ---- @fastify/autoload, the real plugin -------------------------------------------------------------------------

FASTIFY = {
    "name": "svc",
    "version": "1.0.0",
    "type": "module",
    "scripts": {"start": "node app.js"},
    "dependencies": {"fastify": "5.2.1", "@fastify/autoload": "6.0.3"},
    "devDependencies": {"is-odd": "3.0.1"},
}
FASTIFY_APP = (
    "import Fastify from 'fastify';\nimport AutoLoad from '@fastify/autoload';\nimport path from 'node:path';\n"
    "const app = Fastify();\n"
    "app.register(AutoLoad, { dir: path.join(import.meta.dirname, 'routes') });\n"
    "await app.ready();\nconsole.log('ready');\nawait app.close();\n"
)


def fastify_service(root: Path, route: str) -> Path:
    return project(
        root,
        "fastify-autoload",
        FASTIFY,
        {
            "app.js": FASTIFY_APP,
            "routes/index.js": "export default async function (app) { app.get('/', async () => ({ ok: true })); }\n",
            "routes/hello/index.js": route,
            "lib/greet.js": "export const greet = (who) => `hello ${who}`;\n",
        },
    )


HELLO = (
    "import {{ greet }} from '{target}';\n"
    "export default async function (app) {{ app.get('/', async () => greet('you')); }}\n"
)


def test_an_autoloaded_route_is_followed_and_loads_as_node_loads_it(tmp_path):
    root = fastify_service(tmp_path / "ok", HELLO.format(target="../../lib/greet.js"))
    report = check(root)
    assert report.errors == [] and report.unverified == []
    reached = {report.graph.rel(p) for p in report.graph.parents}
    assert {"routes/index.js", "routes/hello/index.js", "lib/greet.js"} <= reached
    done = run_node(root, "app.js")
    assert done.returncode == 0 and "ready" in done.stdout, done.stderr


def test_a_missing_import_of_an_autoloaded_route_blocks_and_node_crashes_at_ready(tmp_path):
    root = fastify_service(tmp_path / "broken", HELLO.format(target="../lib/greet.js"))
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "routes/hello/index.js")]
    assert report.errors[0].chain == ("app.js", "routes/hello/index.js")
    assert report.errors[0].message.startswith("crashes at start (loaded from routes/ by app.js:5): ")
    done = run_node(root, "app.js")
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr


def test_a_dev_dependency_imported_by_an_autoloaded_route_blocks(tmp_path):
    root = fastify_service(tmp_path / "dev", "import isOdd from 'is-odd';\nexport default async function (app) {}\n")
    report = check(root)
    assert [(f.rule, f.specifier) for f in report.errors] == [("dev-dependency-at-runtime", "is-odd")]
    assert report.errors[0].chain == ("app.js", "routes/hello/index.js")


def test_autoload_loads_only_the_index_of_a_folder_that_has_one_as_node_does(tmp_path):
    root = fastify_service(tmp_path / "index", HELLO.format(target="../../lib/greet.js"))
    write_tree(root, {"routes/hello/draft.js": "import './not-written-yet.js';\n"})
    report = check(root)
    assert report.errors == []
    assert "routes/hello/draft.js" in {report.graph.rel(p) for p in report.graph.dormant}
    done = run_node(root, "app.js")
    assert done.returncode == 0 and "ready" in done.stdout, done.stderr


BROKEN = "import './nope.js';\nexport default async function (app) {}\n"
PLUGIN = "export default async function (app) {}\n"
AUTOLOAD_CASES = {
    "ignorePattern skips a test file": (", ignorePattern: /\\.test\\.js$/", {"extra/a.test.js": BROKEN}, True),
    "without it the test file loads": ("", {"extra/a.test.js": BROKEN}, False),
    "a hooks file is no plugin": ("", {"extra/autohooks.js": BROKEN}, True),
    "autoHooks: true loads it": (", autoHooks: true", {"extra/autohooks.js": BROKEN}, False),
    "maxDepth stops the walk": (", maxDepth: 1", {"extra/deeper/x.js": BROKEN}, True),
    "ignoreFilter takes a path part": (", ignoreFilter: '/drafts/'", {"drafts/x.js": BROKEN}, True),
    "matchFilter keeps what matches": (", matchFilter: /^\\/(index|hello|extra)/", {"drafts/x.js": BROKEN}, True),
}


@pytest.mark.parametrize("case", list(AUTOLOAD_CASES))
def test_autoload_options_pick_the_files_node_loads(tmp_path, case):
    options, routes, loads = AUTOLOAD_CASES[case]
    root = fastify_service(tmp_path / "svc", HELLO.format(target="../../lib/greet.js"))
    app = FASTIFY_APP.replace("'routes') }", f"'routes'){options} }}")
    write_tree(root, {"app.js": app, "routes/extra/ok.js": PLUGIN, **{f"routes/{k}": v for k, v in routes.items()}})
    report = check(root)
    done = run_node(root, "app.js")
    assert (done.returncode == 0) is loads, done.stderr
    broken = [f"routes/{k}" for k in routes]
    assert [(f.rule, f.file) for f in report.errors] == ([] if loads else [("unresolved-import", broken[0])])
    assert report.unverified == []


def test_an_autoload_filter_given_as_a_function_is_unverified_and_names_it(tmp_path):
    root = fastify_service(tmp_path / "svc", HELLO.format(target="../../lib/greet.js"))
    app = FASTIFY_APP.replace("'routes') }", "'routes'), matchFilter: (p) => p.startsWith('/hello') }")
    write_tree(root, {"app.js": app})
    report = check(root)
    assert report.errors == []
    assert [(u.file, u.line) for u in report.unverified] == [("app.js", 5)]
    assert "an option deploysafe cannot apply: matchFilter: (p) => p.startsWith('/hello')" in str(report.unverified[0])


TS_APP = FASTIFY_APP.replace("const app = Fastify();", "const app = Fastify();\nconst unused: number = 0;")


@pytest.mark.parametrize(("target", "loads"), [("../lib/greet.js", True), ("../lib/nope.js", False)])
def test_typescript_routes_autoload_loads_under_tsx_are_followed(tmp_path, target, loads):
    routes = f"import {{ greet }} from '{target}';\nexport default async function (app: any) {{ greet('x'); }}\n"
    files = {"app.ts": TS_APP, "routes/hello.ts": routes, "lib/greet.ts": "export const greet = (w: string) => w;\n"}
    root = project(tmp_path / "svc", "fastify-autoload", FASTIFY, files)
    manifest = json.loads((root / "package.json").read_text())
    (root / "package.json").write_text(json.dumps({**manifest, "scripts": {"start": "tsx app.ts"}}))
    report = check(root)
    done = subprocess.run([str(tools.tsx()), "app.ts"], cwd=root, capture_output=True, text=True, timeout=60)
    assert (done.returncode == 0 and "ready" in done.stdout) is loads, done.stderr[-800:]
    expected = [] if loads else [("unresolved-import", "routes/hello.ts")]
    assert [(f.rule, f.file) for f in report.errors] == expected
    assert "routes/hello.ts" in {report.graph.rel(p) for p in report.graph.parents}


TS_LISTING = (
    "import { readdirSync } from 'node:fs';\nimport path from 'node:path';\n"
    "const dir = path.join(import.meta.dirname, 'jobs');\n"
    "for (const name of readdirSync(dir)) {\n  if (!name.endsWith('.ts')) continue;\n"
    "  const job: { default: string } = await import(path.join(dir, name));\n  console.log(job.default);\n}\n"
)


@pytest.mark.parametrize(("target", "loads"), [("../lib/name.js", True), ("../lib/nope.js", False)])
def test_a_listing_loads_typescript_files_where_tsx_runs_the_sources(tmp_path, target, loads):
    manifest = {"name": "ts", "version": "1.0.0", "type": "module", "scripts": {"start": "tsx app.ts"}}
    files = {
        "package.json": manifest,
        "app.ts": TS_LISTING,
        "jobs/nightly.ts": f"import {{ name }} from '{target}';\nexport default name;\n",
        "lib/name.ts": "export const name: string = 'nightly';\n",
    }
    root = write_tree(tmp_path / "ts", files)
    report = check(root)
    done = subprocess.run([str(tools.tsx()), "app.ts"], cwd=root, capture_output=True, text=True, timeout=60)
    assert (done.returncode == 0 and "nightly" in done.stdout) is loads, done.stderr[-800:]
    assert [(f.rule, f.file) for f in report.errors] == ([] if loads else [("unresolved-import", "jobs/nightly.ts")])
