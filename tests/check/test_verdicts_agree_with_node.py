"""For every rule: deploysafe's verdict on a small real project, and real node on the same project.

A blocked fixture must make `node <entry>` fail with the matching error; a clean one must load.
Fixture entries print "loaded" and exit, so "node loads it" means exit 0 and that line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deploysafe import check
from tests.support.projects import run_node, write_tree

ESM = {"package.json": {"name": "app", "version": "1.0.0", "type": "module"}}
CJS = {"package.json": {"name": "app", "version": "1.0.0"}}
LOADED = "console.log('loaded');\n"


def project(tmp_path: Path, files: dict) -> Path:
    return write_tree(tmp_path / "app", files)


def assert_loads(root: Path, entry: str = "index.js") -> None:
    done = run_node(root, entry)
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stdout


def assert_node_fails(root: Path, expected: str, entry: str = "index.js") -> None:
    done = run_node(root, entry)
    assert done.returncode != 0, done.stdout
    assert expected in done.stderr, done.stderr


def errors(report) -> list[tuple[str, str]]:
    return [(f.rule, f.file) for f in report.errors]


# ---- unresolved-import ---------------------------------------------------------------------------------


def test_missing_relative_file_blocks_deploy_and_node_agrees(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import './routes/campaigns.js';\n" + LOADED,
            "routes/campaigns.js": "import { db } from '../config/database.js';\nexport const c = db;\n",
            "db/connection.js": "export const db = 1;\nexport const pool = 2;\n",  # exports what is asked, and more
        },
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "routes/campaigns.js")]
    finding = report.errors[0]
    assert finding.chain == ("index.js", "routes/campaigns.js")
    assert (finding.line, finding.column) == (1, 20)
    assert finding.message == (
        "crashes at start: Cannot find module '../config/database.js' imported from routes/campaigns.js (no file "
        "at config/database.js); did you mean '../db/connection.js' (it exports 'db')?"
    )
    assert report.exit_code == 1
    assert_node_fails(root, "ERR_MODULE_NOT_FOUND")


def test_a_missing_file_is_suggested_by_a_file_exporting_exactly_the_names_asked_for(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            # a default import asks for no name: the file need not have a default export
            "index.js": "import config, { db, pool } from './config/database.js';\n" + LOADED,
            "db/connection.js": "export const db = 1;\nexport const pool = 2;\n",  # those two names, no more
            "db/other.js": "export const db = 3;\n",  # one of them only
        },
    )
    report = check(root)
    assert report.errors[0].message.endswith("did you mean './db/connection.js' (it exports 'db', 'pool')?")
    assert_node_fails(root, "ERR_MODULE_NOT_FOUND")


def test_a_missing_file_is_suggested_by_a_file_of_the_same_name_elsewhere(tmp_path):
    root = project(tmp_path, {**ESM, "index.js": "import './lib/util.js';\n" + LOADED, "helpers/util.js": LOADED})
    report = check(root)
    assert report.errors[0].message == (
        "crashes at start: Cannot find module './lib/util.js' imported from index.js (no file at lib/util.js); "
        "did you mean './helpers/util.js'?"
    )
    assert_node_fails(root, "ERR_MODULE_NOT_FOUND")


def test_extensionless_esm_import_is_blocked_with_the_file_that_would_match(tmp_path):
    root = project(
        tmp_path, {**ESM, "index.js": "import { x } from './lib/x';\n" + LOADED, "lib/x.js": "export const x = 1;\n"}
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Cannot find module './lib/x' imported from index.js; ES modules need the full file "
        "name: write './lib/x.js'"
    )
    assert_node_fails(root, "ERR_MODULE_NOT_FOUND")


def test_esm_directory_import_is_blocked(tmp_path):
    root = project(tmp_path, {**ESM, "index.js": "import './lib';\n" + LOADED, "lib/index.js": "export {};\n"})
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Directory import 'lib' is not supported resolving ES modules imported from index.js; "
        "write './lib/index.js'"
    )
    assert_node_fails(root, "ERR_UNSUPPORTED_DIR_IMPORT")


def test_commonjs_require_finds_extension_and_index_like_node(tmp_path):
    root = project(
        tmp_path,
        {
            **CJS,
            "index.js": "require('./lib/x');\nrequire('./lib');\nrequire('./data');\n" + LOADED,
            "lib/x.js": "module.exports = 1;\n",
            "lib/index.js": "module.exports = 2;\n",
            "data.json": "{}\n",
        },
    )
    report = check(root)
    assert report.findings == []
    assert report.reachable == 3
    assert_loads(root)


def test_missing_require_blocks_and_node_agrees(tmp_path):
    root = project(tmp_path, {**CJS, "index.js": "const db = require('./db/connection');\n" + LOADED})
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Cannot find module './db/connection' imported from index.js (no file at db/connection)"
    )
    assert_node_fails(root, "Cannot find module './db/connection'")


def test_require_inside_a_function_fails_when_it_runs(tmp_path):
    root = project(
        tmp_path,
        {
            **CJS,
            "index.js": "function later() { return require('./nope'); }\n" + LOADED + "if (process.env.RUN) later();\n",
        },
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "fails when this require() runs: Cannot find module './nope' imported from index.js (no file at nope)"
    )
    assert_loads(root)  # the start is fine ...
    done = run_node(root, "index.js", env={"RUN": "1"})  # ... until that code runs
    assert done.returncode != 0 and "Cannot find module './nope'" in done.stderr


def test_guarded_optional_require_is_only_a_warning(tmp_path):
    root = project(
        tmp_path,
        {**CJS, "index.js": "let native;\ntry { native = require('pg-native'); } catch { native = null; }\n" + LOADED},
    )
    report = check(root)
    assert report.errors == []
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("missing-package", "warning")]
    assert report.findings[0].message.endswith("(npm install pg-native) (the code catches this failure)")
    assert_loads(root)


def test_literal_dynamic_import_of_missing_file_fails_when_it_runs(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": LOADED + "if (process.env.RUN) await import('./jobs/nightly.js');\n",
        },
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "fails when this import() runs: Cannot find module './jobs/nightly.js' imported from index.js "
        "(no file at jobs/nightly.js)"
    )
    assert_loads(root)
    done = run_node(root, "index.js", env={"RUN": "1"})
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr


def test_computed_specifier_is_listed_as_unverified_not_dropped(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "const name = process.env.JOB ?? 'a';\n"
            + LOADED
            + "if (process.env.JOB) await import(`./jobs/${name}.js`);\n",
        },
    )
    report = check(root)
    assert report.errors == []
    assert [(u.reason, u.line, u.detail) for u in report.unverified] == [
        (
            "computed-specifier",
            3,
            "import(`./jobs/${name}.js`): the specifier is computed at run time and was not followed",
        )
    ]
    assert report.summary()["unverified"] == 1
    assert_loads(root)


# ---- case-mismatch -------------------------------------------------------------------------------------


def test_import_with_wrong_letter_case_is_a_case_mismatch(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { send } from './services/Email.js';\n" + LOADED,
            "services/email.js": "export const send = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("case-mismatch", "index.js")]
    assert report.errors[0].message == (
        "crashes at start on Linux: Cannot find module './services/Email.js' imported from index.js; the file "
        "exists as services/email.js ('Email.js' is 'email.js' on disk; macOS and Windows ignore letter case, "
        "Linux does not)"
    )
    assert_node_fails(root, "ERR_MODULE_NOT_FOUND")


def test_require_with_wrong_letter_case_in_a_directory_name(tmp_path):
    root = project(
        tmp_path, {**CJS, "index.js": "require('./Lib/util');\n" + LOADED, "lib/util.js": "module.exports = {};\n"}
    )
    report = check(root)
    assert errors(report) == [("case-mismatch", "index.js")]
    assert "the file exists as lib/util.js ('Lib' is 'lib' on disk;" in report.errors[0].message
    assert_node_fails(root, "Cannot find module './Lib/util'")


# ---- missing-export ------------------------------------------------------------------------------------


def test_missing_named_export_in_local_esm_file_blocks_deploy(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { Hono2 } from './lib.js';\n" + LOADED,
            "lib.js": "export class Hono {}\nexport const x = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")]
    finding = report.errors[0]
    assert finding.name == "Hono2" and (finding.line, finding.column) == (1, 10)
    assert finding.message == (
        "crashes at start: SyntaxError: The requested module './lib.js' does not provide an export named 'Hono2' "
        "(did you mean 'Hono'?)"
    )
    assert_node_fails(root, "does not provide an export named 'Hono2'")


def test_missing_default_export_blocks_deploy(tmp_path):
    root = project(
        tmp_path, {**ESM, "index.js": "import lib from './lib.js';\n" + LOADED, "lib.js": "export const x = 1;\n"}
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: SyntaxError: The requested module './lib.js' does not provide an export named "
        "'default' (it exports x)"
    )
    assert_node_fails(root, "does not provide an export named 'default'")


def test_names_through_export_star_chains_are_found(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { a, b, c } from './all.js';\n" + LOADED,
            "all.js": "export * from './one.js';\nexport * from './two.js';\nexport { z as c } from './three.js';\n",
            "one.js": "export const a = 1;\nexport default 9;\n",
            "two.js": "export * from './deeper.js';\n",
            "deeper.js": "export function b() {}\n",
            "three.js": "export const z = 3;\n",
        },
    )
    assert check(root).findings == []
    assert_loads(root)


def test_export_star_never_forwards_default(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import d from './all.js';\n" + LOADED,
            "all.js": "export * from './one.js';\n",
            "one.js": "export default 1;\n",
        },
    )
    assert errors(check(root)) == [("missing-export", "index.js")]
    assert_node_fails(root, "does not provide an export named 'default'")


def test_conflicting_star_exports_block_the_named_import(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { x } from './c.js';\n" + LOADED,
            "c.js": "export * from './a.js';\nexport * from './b.js';\n",
            "a.js": "export const x = 1;\n",
            "b.js": "export const x = 2;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: The requested module './c.js' contains conflicting star exports for name 'x'"
    )
    assert_node_fails(root, "conflicting star exports for name 'x'")


def test_esm_named_import_from_commonjs_follows_the_lexer(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { a, b } from './lib.cjs';\n" + LOADED,
            "lib.cjs": "exports.a = 1;\nmodule.exports.b = 2;\n",
        },
    )
    assert check(root).findings == []
    assert_loads(root)


def test_esm_named_import_from_commonjs_that_the_lexer_cannot_see_blocks(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { make } from './lib.cjs';\n" + LOADED,
            "lib.cjs": "function build() { return { make() {} }; }\nmodule.exports = build();\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: SyntaxError: Named export 'make' not found. The requested module './lib.cjs' is a "
        "CommonJS module, which may not support all module.exports as named exports"
    )
    assert_node_fails(root, "Named export 'make' not found")


def test_commonjs_reexports_are_followed_with_require_resolution(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { a, inner, top } from './lib.cjs';\n" + LOADED,
            "lib.cjs": "const a = 0;\nmodule.exports = { a, ...require('./inner.cjs'), top: 1 };\n",
            "inner.cjs": "exports.inner = 2;\n",
        },
    )
    report = check(root)
    # `top: 1` is not an identifier value, so the lexer stops there: Node sees no `top`.
    assert errors(report) == [("missing-export", "index.js")]
    assert report.errors[0].name == "top"
    assert report.errors[0].message.endswith("as named exports (it exports a, inner)")
    assert_node_fails(root, "Named export 'top' not found")


def test_missing_named_export_from_an_installed_esm_package_blocks(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "package.json": {"name": "app", "type": "module", "dependencies": {"honoish": "1.0.0"}},
            "index.js": "import { Router } from 'honoish';\n" + LOADED,
            "node_modules/honoish/package.json": {
                "name": "honoish",
                "version": "1.0.0",
                "type": "module",
                "exports": {".": {"import": "./dist/index.js", "require": "./dist/index.cjs"}},
            },
            "node_modules/honoish/dist/index.js": "export { Hono } from './hono.js';\nexport * from './helpers.js';\n",
            "node_modules/honoish/dist/hono.js": "export class Hono {}\n",
            "node_modules/honoish/dist/helpers.js": "export const cors = 1;\n",
            "node_modules/honoish/dist/index.cjs": "exports.Router = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: SyntaxError: The requested module 'honoish' does not provide an export named "
        "'Router' (it exports Hono, cors)"
    )
    assert_node_fails(root, "does not provide an export named 'Router'")


def test_named_import_from_a_builtin_is_checked(tmp_path):
    root = project(
        tmp_path,
        {**ESM, "index.js": "import { readFile } from 'node:fs/promises';\nimport { nope } from 'fs';\n" + LOADED},
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")]
    assert report.errors[0].name == "nope"
    assert report.errors[0].message == (
        "crashes at start: SyntaxError: Named export 'nope' not found. The requested module 'fs' is a CommonJS "
        "module, which may not support all module.exports as named exports (did you mean 'open'?)"
    )
    assert_node_fails(root, "does not provide an export named 'nope'")


def test_valid_builtins_load(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import fs from 'fs';\nimport { join } from 'node:path';\nimport { setTimeout } from 'timers/promises';\n"
            + LOADED,
        },
    )
    assert check(root).findings == []
    assert_loads(root)


# ---- packages ------------------------------------------------------------------------------------------


def test_package_that_is_neither_installed_nor_declared_is_missing(tmp_path):
    root = project(tmp_path, {**ESM, "index.js": "import Redis from 'ioredis';\n" + LOADED})
    report = check(root)
    assert errors(report) == [("missing-package", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Cannot find package 'ioredis' imported from index.js; it is not installed or declared "
        "in package.json: add it to dependencies (npm install ioredis)"
    )
    assert_node_fails(root, "Cannot find package 'ioredis'")


def test_package_subpath_not_listed_in_exports_blocks(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "package.json": {"name": "app", "type": "module", "dependencies": {"pkgx": "1.0.0"}},
            "index.js": "import 'pkgx/esm.mjs';\n" + LOADED,
            "node_modules/pkgx/package.json": {"name": "pkgx", "exports": {".": "./index.js"}},
            "node_modules/pkgx/index.js": "module.exports = 1;\n",
            "node_modules/pkgx/esm.mjs": "export default 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Package subpath './esm.mjs' is not defined by \"exports\" in "
        "node_modules/pkgx/package.json (imported as 'pkgx/esm.mjs' from index.js)"
    )
    assert_node_fails(root, "ERR_PACKAGE_PATH_NOT_EXPORTED")


def test_exports_conditions_are_chosen_per_import_kind(tmp_path):
    # import takes the "import" branch and require() the "require" branch; neither sees the other's file.
    root = project(
        tmp_path,
        {
            **ESM,
            "package.json": {"name": "app", "type": "module", "dependencies": {"dual": "1.0.0"}},
            "index.js": "import { esmOnly } from 'dual';\nimport { createRequire } from 'node:module';\n"
            "const require = createRequire(import.meta.url);\nconst d = require('dual');\n"
            "if (d.cjsOnly !== 1) throw new Error('wrong branch');\n" + LOADED,
            "node_modules/dual/package.json": {
                "name": "dual",
                "exports": {
                    ".": {"module": "./bundler.js", "import": "./esm.mjs", "require": "./cjs.cjs"},
                    "./feature/*": "./lib/*.js",
                },
            },
            "node_modules/dual/esm.mjs": "export const esmOnly = 1;\n",
            "node_modules/dual/cjs.cjs": "exports.cjsOnly = 1;\n",
            "node_modules/dual/bundler.js": "this is not valid javascript at all (\n",
        },
    )
    assert check(root).findings == []
    assert_loads(root)


def test_subpath_patterns_and_package_imports_resolve(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {
                "name": "app",
                "type": "module",
                "imports": {"#db/*": "./src/db/*.js"},
                "dependencies": {"kit": "1.0.0"},
            },
            "index.js": "import { pool } from '#db/pool';\nimport { tool } from 'kit/features/tool';\n" + LOADED,
            "src/db/pool.js": "export const pool = 1;\n",
            "node_modules/kit/package.json": {
                "name": "kit",
                "type": "module",
                "exports": {"./features/*": "./lib/*.js"},
            },
            "node_modules/kit/lib/tool.js": "export const tool = 1;\n",
        },
    )
    report = check(root)
    assert report.findings == []
    assert "src/db/pool.js" not in report.dormant
    assert_loads(root)


def test_undeclared_but_hoisted_dependency_is_a_warning_and_loads(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import axiosish from 'axiosish';\n" + LOADED,
            "node_modules/axiosish/package.json": {"name": "axiosish", "main": "index.js"},
            "node_modules/axiosish/index.js": "module.exports = 1;\n",
        },
    )
    report = check(root)
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("undeclared-dependency", "warning")]
    assert report.exit_code == 0
    assert_loads(root)


def test_a_package_importing_itself_by_name_needs_no_dependency(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "version": "1.0.0", "exports": {".": "./lib.js"}},
            "index.js": "const lib = require('app');\n" + LOADED,
            "lib.js": "module.exports = 1;\n",
        },
    )
    report = check(root)
    assert report.findings == [] and report.reachable == 2
    assert_loads(root)


def test_dev_dependency_imported_at_runtime_blocks(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "type": "module", "devDependencies": {"devtool": "1.0.0"}},
            "index.js": "import devtool from 'devtool';\n" + LOADED,
            "node_modules/devtool/package.json": {"name": "devtool", "main": "index.js"},
            "node_modules/devtool/index.js": "module.exports = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("dev-dependency-at-runtime", "index.js")]
    assert report.errors[0].message == (
        "crashes at start in production: 'devtool' is only in devDependencies, which production installs "
        "(npm ci --omit=dev) leave out: move it to dependencies"
    )
    assert_loads(root)  # locally the dev dependency is installed ...
    import shutil

    shutil.rmtree(root / "node_modules/devtool")  # ... a production install leaves it out
    assert_node_fails(root, "Cannot find package 'devtool'")


# ---- formats, JSON, syntax -----------------------------------------------------------------------------


def test_json_import_needs_the_type_attribute(tmp_path):
    root = project(
        tmp_path,
        {**ESM, "index.js": "import data from './d.json';\n" + LOADED, "d.json": '{"a": 1}\n'},
    )
    report = check(root)
    assert errors(report) == [("missing-import-attribute", "index.js")]
    assert_node_fails(root, 'needs an import attribute of type "json"')
    assert report.errors[0].message == (
        'crashes at start: TypeError [ERR_IMPORT_ASSERTION_TYPE_MISSING]: Module "d.json" needs an import '
        "attribute of type \"json\": write `with { type: 'json' }`"
    )


def test_json_import_with_attribute_loads(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import data from './d.json' with { type: 'json' };\nimport { x } from './d.json' with { type: 'json' };\n"
            + LOADED,
            "d.json": '{"x": 1}\n',
        },
    )
    report = check(root)
    # JSON modules have only a default export
    assert errors(report) == [("missing-export", "index.js")]
    assert_node_fails(root, "does not provide an export named 'x'")


def test_json_required_or_resolved_from_an_es_module_needs_no_attribute(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n"
            "const d = require('./d.json');\nconst where = import.meta.resolve('./d.json');\n" + LOADED,
            "d.json": '{"a": 1}\n',
        },
    )
    assert check(root).findings == []
    assert_loads(root)


def test_syntax_error_in_a_reachable_file_blocks_though_node_check_passes_on_the_entry(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { usage } from './usage.js';\n" + LOADED,
            "usage.js": "export const usage = () => {\n  return { total: 1 ;\n};\n",
        },
    )
    assert run_node(root, "index.js", "--check").returncode == 0  # the seeds' "BUILD PASSED"
    report = check(root)
    assert errors(report) == [("syntax-error", "usage.js")]
    assert report.errors[0].line == 2
    assert report.errors[0].message == "crashes at start: SyntaxError: Unexpected token ';' (confirmed by node --check)"
    assert_node_fails(root, "SyntaxError")


def test_import_statement_in_a_commonjs_package_blocks(tmp_path):
    root = project(
        tmp_path,
        {"package.json": {"name": "app", "type": "commonjs"}, "index.js": "import fs from 'fs';\n" + LOADED},
    )
    report = check(root)
    assert errors(report) == [("syntax-error", "index.js")]
    assert (report.errors[0].line, report.errors[0].column) == (1, 1)  # the `import` keyword, as node points
    assert report.errors[0].message == (
        "crashes at start: SyntaxError: Cannot use import statement outside a module (package.json says "
        '"type": "commonjs"; rename it .mjs or set "type": "module")'
    )
    assert_node_fails(root, "Cannot use import statement outside a module")


@pytest.mark.parametrize(
    ("source", "error", "column"),
    [
        ("const a = 1;\nexport const x = a;\n", "Unexpected token 'export'", 1),
        ("const a = 1;\n  export { b } from './b.js';\nimport c from './b.js';\n", "Unexpected token 'export'", 3),
        ("const a = 1;\nconsole.log(import.meta.url);\n", "Cannot use 'import.meta' outside a module", 13),
    ],
    ids=["export", "re-export before an import", "import.meta"],
)
def test_module_syntax_in_commonjs_is_said_as_node_says_it_where_node_stops(tmp_path, source, error, column):
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "type": "commonjs"},
            "index.js": "require('./lib.js');\n" + LOADED,
            "lib.js": source,
            "b.js": "module.exports = { b: 1 };\n",
        },
    )
    report = check(root)
    assert [(f.rule, f.file, f.line, f.column) for f in report.errors] == [("syntax-error", "lib.js", 2, column)]
    assert report.errors[0].message == (
        f'crashes at start: SyntaxError: {error} (package.json says "type": "commonjs"; rename it .mjs or set '
        '"type": "module")'
    )
    assert_node_fails(root, "lib.js:2\n")
    assert_node_fails(root, f"SyntaxError: {error}")


def test_typeless_package_with_module_syntax_loads_on_node_20_19_and_later(tmp_path):
    root = project(tmp_path, {**CJS, "index.js": "import fs from 'fs';\n" + LOADED})
    assert check(root, node_version="20.20.2").findings == []
    assert_loads(root)
    old = check(root, node_version="18.19.0")
    assert errors(old) == [("syntax-error", "index.js")]
    assert '(Node 18.19.0 does not detect module syntax in .js files without "type";' in old.errors[0].message


def test_circular_import_is_a_warning_and_loads(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import './a.js';\n" + LOADED,
            "a.js": "import { b } from './b.js';\nimport './leaf.js';\nexport const a = () => b;\n",
            "b.js": "import { a } from './a.js';\nexport const b = () => a;\n",
            "leaf.js": "export const leaf = 1;\n",  # a module in no cycle, met before the cycle
        },
    )
    report = check(root)
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("circular-import", "warning")]
    circle = report.findings[0]
    assert (circle.file, circle.line, circle.column, circle.specifier) == ("a.js", 1, 19, "./b.js")
    assert circle.message == (
        "circular import: a.js → b.js → a.js; bindings used while the cycle loads are undefined or in their "
        "temporal dead zone"
    )
    assert_loads(root)

    # Three modules in a ring are one cycle as well.
    ring = {
        "b.js": "import './c.js';\nexport const b = () => 1;\n",
        "c.js": "import { a } from './a.js';\nexport const c = () => a;\n",
    }
    write_tree(root, ring)
    assert [f.message.split(";")[0] for f in check(root).findings] == ["circular import: a.js → b.js → c.js → a.js"]
    assert_loads(root)

    # Back through import() (in a function or not) is no cycle: that load runs later, not while the modules link.
    write_tree(root, {"b.js": "export const b = () => import('./a.js');\nimport('./a.js').then(() => {});\n"})
    assert check(root).findings == []
    assert_loads(root)


# ---- dormant files -------------------------------------------------------------------------------------


def test_dormant_broken_files_are_warnings_and_never_block(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": LOADED,
            "legacy/public-signup.js": "import { Router } from 'hono';\nexport const r = Router();\n",
            "legacy/system-status.js": "import { redis } from '../config/redis.js';\n",
            "legacy/broken.js": "export const = ;\n",
        },
    )
    report = check(root)
    assert report.exit_code == 0
    assert report.errors == []
    assert report.dormant == ["legacy/broken.js", "legacy/public-signup.js", "legacy/system-status.js"]
    assert {(f.rule, f.file) for f in report.warnings} == {
        ("missing-package", "legacy/public-signup.js"),
        ("unresolved-import", "legacy/system-status.js"),
        ("syntax-error", "legacy/broken.js"),
    }
    assert all(not f.reachable and f.chain == () for f in report.warnings)
    assert {f.file: f.message for f in report.warnings} == {
        "legacy/broken.js": "if loaded, crashes at start: SyntaxError: Unexpected token '=' (confirmed by node --check)",
        "legacy/public-signup.js": "if loaded, crashes at start: Cannot find package 'hono' imported from "
        "legacy/public-signup.js; it is not installed or declared in package.json: add it to dependencies "
        "(npm install hono)",
        "legacy/system-status.js": "if loaded, crashes at start: Cannot find module '../config/redis.js' imported "
        "from legacy/system-status.js (no file at config/redis.js)",
    }
    assert_loads(root)


def test_gitignored_files_are_not_dormant(tmp_path):
    root = project(
        tmp_path, {**ESM, "index.js": LOADED, ".gitignore": "dist/\n", "dist/bundle.js": "x(\n", "scripts/a.js": ""}
    )
    report = check(root, exclude=["scripts/**"])
    assert report.dormant == []


# ---- TypeScript ----------------------------------------------------------------------------------------


def test_type_only_imports_need_no_runtime_target(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "tsconfig.json": '{\n  // comments and trailing commas are legal here\n  "compilerOptions": {"strict": true,},\n}\n',
            "src/index.ts": "import type { User } from './types';\nimport { type Role, hello } from './lib';\n"
            "export const u: User | null = null;\nconsole.log(hello);\n",
            "src/types.ts": "export interface User { id: string }\n",
            "src/lib.ts": "export type Role = 'admin';\nexport const hello = 'hi';\n",
        },
    )
    report = check(root, ["src/index.ts"])
    assert report.findings == []
    assert report.dormant == ["src/types.ts"]  # only a type import reaches it: erased at run time


def test_typescript_paths_and_js_to_ts_mapping(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "tsconfig.json": {
                "compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["src/*"], "~config": ["src/config/index.ts"]}}
            },
            "src/index.ts": "import { db } from '@/db/connection.js';\nimport { cfg } from '~config';\nimport { Missing } from '@/db/connection.js';\n"
            "import { other } from '@/nope/thing';\nconsole.log(db, cfg, Missing, other);\n",
            "src/db/connection.ts": "export const db = 1;\n",
            "src/config/index.ts": "export const cfg = {};\n",
        },
    )
    report = check(root, ["src/index.ts"])
    assert sorted(errors(report)) == [("missing-export", "src/index.ts"), ("unresolved-import", "src/index.ts")]
    assert {f.specifier for f in report.errors} == {"@/db/connection.js", "@/nope/thing"}


# ---- bad input -----------------------------------------------------------------------------------------


def test_missing_root_is_a_clear_error(tmp_path):
    from deploysafe.errors import ConfigError

    with pytest.raises(ConfigError, match="no such directory"):
        check(tmp_path / "nope")


# ---- modules the start command preloads --------------------------------------------------------------------


def test_preloaded_dev_dependency_blocks_and_its_line_in_package_json_is_shown(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {
                "name": "app",
                "type": "module",
                "scripts": {"start": "node -r dotenvish/config index.js"},
                "devDependencies": {"dotenvish": "1.0.0"},
            },
            "index.js": LOADED,
            "node_modules/dotenvish/package.json": {"name": "dotenvish", "version": "1.0.0"},
            "node_modules/dotenvish/config.js": "process.env.LOADED_ENV = '1';\n",
        },
    )
    report = check(root)
    assert [(f.rule, f.file, f.chain) for f in report.errors] == [
        ("dev-dependency-at-runtime", "package.json", ("package.json",))
    ]
    assert report.errors[0].line == 5
    assert report.errors[0].message.startswith("crashes at start in production: 'dotenvish' is only in devDep")
    assert_loads(root)  # locally the dev dependency is there
    import shutil

    shutil.rmtree(root / "node_modules" / "dotenvish")
    done = run_node(root, "index.js", "-r", "dotenvish/config")
    assert done.returncode != 0 and "Cannot find module 'dotenvish/config'" in done.stderr


def test_preloaded_local_file_is_reachable(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {
                "name": "app",
                "type": "module",
                "scripts": {"start": "node --import ./instrument.mjs index.js"},
            },
            "index.js": LOADED,
            "instrument.mjs": "import './tracing/missing.js';\n",
        },
    )
    report = check(root)
    assert [(f.rule, f.chain) for f in report.errors] == [("unresolved-import", ("package.json", "instrument.mjs"))]
    assert report.dormant == []


def test_dev_only_require_behind_node_env_is_a_warning_and_production_loads(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "devDependencies": {"pretty": "1.0.0"}},
            "index.js": "if (process.env.NODE_ENV !== 'production') {\n  require('pretty');\n}\n"
            "if (process.env.NODE_ENV === 'production') require('./prod-only.js');\n" + LOADED,
            "prod-only.js": "module.exports = 1;\n",
        },
    )
    report = check(root)
    assert report.errors == []
    assert [(f.rule, str(f.severity)) for f in report.warnings] == [("dev-dependency-at-runtime", "warning")]
    assert report.warnings[0].message == (
        "crashes at start: Cannot find package 'pretty' imported from index.js; it is only in devDependencies, "
        "which production installs (npm ci --omit=dev) leave out: move it to dependencies (only when NODE_ENV "
        "is not 'production': production never runs it)"
    )
    done = run_node(root, "index.js", env={"NODE_ENV": "production"})
    assert done.returncode == 0 and "loaded" in done.stdout  # what production does
    dev = run_node(root, "index.js", env={"NODE_ENV": "development"})
    assert dev.returncode != 0 and "Cannot find module 'pretty'" in dev.stderr  # the warning is real


def test_require_that_production_runs_behind_node_env_still_blocks(tmp_path):
    root = project(
        tmp_path,
        {**CJS, "index.js": "if (process.env.NODE_ENV === 'production') require('./newrelic.js');\n" + LOADED},
    )
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "index.js")]
    done = run_node(root, "index.js", env={"NODE_ENV": "production"})
    assert done.returncode != 0 and "Cannot find module './newrelic.js'" in done.stderr


# A deploy goes to Linux: a platform test goes the way it goes there; an arch test stays unknown.
PLATFORM_GUARDS = [
    ("if (process.platform === 'win32') require('./gone.js');\n", True),
    ("if (process.platform === 'linux') require('./gone.js');\n", False),
    ("if (process.platform !== 'win32') { require('./gone.js'); }\n", False),
    ("if (process.platform === 'linux' && process.env.PATH) require('./gone.js');\n", False),
    ("module.exports = require('os').platform() != 'darwin' ? 1 : require('./gone.js');\n", True),
    ("switch (process.platform) {\n  case 'win32': require('./gone.js'); break;\n  case 'linux': break;\n}\n", True),
    ("switch (process.platform) {\n  case 'linux':\n  case 'win32': require('./gone.js');\n}\n", False),
]


@pytest.mark.parametrize("in_package", [False, True], ids=["own-code", "package"])
@pytest.mark.parametrize(
    ("guard", "loads"),
    PLATFORM_GUARDS,
    ids=["win32", "linux", "not-win32", "linux-and-env", "os-ternary", "switch-win32", "switch-fallthrough"],
)
def test_a_require_behind_a_platform_test_is_judged_as_linux_runs_it(tmp_path, guard, loads, in_package):
    files = {"package.json": {"name": "app", "version": "1.0.0", "dependencies": {"kit": "1.0.0"}}}
    if in_package:
        files["index.js"] = "require('kit');\n" + LOADED
        files["node_modules/kit/package.json"] = {"name": "kit", "version": "1.0.0"}
        files["node_modules/kit/index.js"] = guard
    else:
        files["index.js"] = guard + LOADED
    root = project(tmp_path, files)
    report = check(root)
    if loads:
        assert report.errors == []
        assert_loads(root)
    else:
        assert errors(report) == [("unresolved-import", "index.js")]
        assert "crashes at start" in report.errors[0].message
        assert_node_fails(root, "Cannot find module './gone.js'")


def test_a_require_behind_an_arch_test_is_a_warning_not_a_block(tmp_path):
    root = project(tmp_path, {**CJS, "index.js": "if (process.arch === 's390x') require('./s390x.js');\n" + LOADED})
    report = check(root)
    assert report.errors == []
    assert [f.message for f in report.warnings] == [
        "crashes at start: Cannot find module './s390x.js' imported from index.js (no file at s390x.js) "
        "(only where `process.arch === 's390x'` says so: a feature test guards it)"
    ]
    assert_loads(root)


def test_package_installed_only_for_another_package_is_missing_and_says_where_it_is(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "type": "module", "dependencies": {"outer": "1.0.0"}},
            "index.js": "import inner from 'inner';\n" + LOADED,
            "node_modules/outer/package.json": {"name": "outer", "main": "index.js"},
            "node_modules/outer/index.js": "module.exports = require('inner');\n",
            "node_modules/outer/node_modules/inner/package.json": {"name": "inner", "main": "index.js"},
            "node_modules/outer/node_modules/inner/index.js": "module.exports = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-package", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Cannot find package 'inner' imported from index.js; it is not installed or declared "
        "in package.json (only node_modules/outer/node_modules/inner has it, for another package; Node does not "
        "look there): add it to dependencies (npm install inner)"
    )
    assert_node_fails(root, "Cannot find package 'inner'")


def test_package_only_in_pnpms_store_or_nested_deeper_is_missing_and_says_where_it_is(tmp_path):
    """The index of node_modules finds a copy in pnpm's store, and one two packages deep (scoped)."""
    store = "node_modules/.pnpm/@acme+inner@1.0.0/node_modules/@acme/inner"
    deep = "node_modules/outer/node_modules/middle/node_modules/@acme/deep"
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "dependencies": {"outer": "1.0.0"}},
            "index.js": "require('outer');\nrequire('@acme/inner');\nrequire('@acme/deep');\n" + LOADED,
            "node_modules/outer/package.json": {"name": "outer", "main": "index.js"},
            "node_modules/outer/index.js": "module.exports = 1;\n",
            "node_modules/outer/node_modules/middle/package.json": {"name": "middle"},
            f"{store}/package.json": {"name": "@acme/inner"},
            f"{store}/index.js": "module.exports = 1;\n",
            f"{deep}/package.json": {"name": "@acme/deep"},
            f"{deep}/index.js": "module.exports = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-package", "index.js")] * 2
    assert f"only {store} has it" in report.errors[0].message
    assert f"only {deep} has it" in report.errors[1].message
    assert_node_fails(root, "Cannot find module '@acme/inner'")


def test_a_missing_file_with_two_namesakes_suggests_both(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { a } from './lib/util.js';\n" + LOADED,
            "api/util.js": "export const a = 1;\n",
            "web/util.js": "export const a = 2;\n",  # both export the name: neither is "the" file that does
        },
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message.endswith(
        "(no file at lib/util.js); did you mean './api/util.js' or './web/util.js'?"
    )
    assert_node_fails(root, "ERR_MODULE_NOT_FOUND")

    write_tree(root, {"cli/util.js": "export const a = 3;\n"})  # three are too many to guess from
    assert check(root).errors[0].message.endswith("(no file at lib/util.js)")


def test_an_addon_loaded_by_a_file_the_package_entry_requires_is_missing_without_its_binary(tmp_path):
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "dependencies": {"@acme/fastaddon": "1.0.0"}},
            "index.js": "require('@acme/fastaddon');\n" + LOADED,
            "node_modules/@acme/fastaddon/package.json": {
                "name": "@acme/fastaddon",
                "version": "1.0.0",
                "main": "index.js",
            },
            "node_modules/@acme/fastaddon/index.js": "module.exports = require('./lib/native.js');\n",
            "node_modules/@acme/fastaddon/lib/native.js": "module.exports = require('../build/Release/addon.node');\n",
        },
    )
    report = check(root)
    # the package's own require of the addon file fails as well, and is said where the package is imported
    assert errors(report) == [("missing-native-binding", "index.js"), ("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: @acme/fastaddon loads a compiled addon (require('../build/Release/addon.node') in "
        "lib/native.js) and no binary for linux-x64 is built in node_modules/@acme/fastaddon: its build script did "
        "not run (an install with --ignore-scripts, or pnpm, which builds only `onlyBuiltDependencies`); run "
        "`npm rebuild @acme/fastaddon`"
    )
    assert_node_fails(root, "Cannot find module '../build/Release/addon.node'")


def test_an_addon_package_imported_dynamically_at_the_top_level_or_found_in_its_25th_file_is_missing(tmp_path):
    # an unguarded `await import()` at the top level crashes the start as a require() does; the binding is
    # loaded by the last of the 25 files read from the package's entry (the entry and the 24 it requires)
    fan = "".join(f"require('./f{n}.js');\n" for n in range(1, 25))
    files = {f"node_modules/fan/f{n}.js": "module.exports = 1;\n" for n in range(1, 24)}
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "await import('fan');\n" + LOADED,
            "node_modules/fan/package.json": {"name": "fan", "version": "1.0.0", "main": "index.js"},
            "node_modules/fan/index.js": fan,
            **files,
            "node_modules/fan/f24.js": "module.exports = require('./build/Release/fan.node');\n",
        },
    )
    report = check(root)
    assert [f.rule for f in report.errors if f.rule == "missing-native-binding"] == ["missing-native-binding"]
    assert "(require('./build/Release/fan.node') in f24.js)" in report.errors[0].message
    assert_node_fails(root, "Cannot find module './build/Release/fan.node'")


def test_a_missing_package_in_a_folder_without_package_json_says_how_to_install_it(tmp_path):
    root = project(tmp_path, {"index.js": "require('ioredis');\n" + LOADED})
    report = check(root)
    assert errors(report) == [("missing-package", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Cannot find package 'ioredis' imported from index.js; it is not installed: add it to "
        "dependencies (npm install ioredis)"
    )
    assert_node_fails(root, "Cannot find module 'ioredis'")


def test_the_names_a_module_exports_are_listed_up_to_six(tmp_path):
    six = "".join(f"export const {n} = 1;\n" for n in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"))
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { zulu } from './six.js';\nimport { yankee } from './seven.js';\n" + LOADED,
            "six.js": six,
            "seven.js": six + "export const golf = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")] * 2
    assert [f.message for f in report.errors] == [
        "crashes at start: SyntaxError: The requested module './six.js' does not provide an export named 'zulu' "
        "(it exports alpha, bravo, charlie, delta, echo, foxtrot)",
        "crashes at start: SyntaxError: The requested module './seven.js' does not provide an export named 'yankee'",
    ]
    assert_node_fails(root, "does not provide an export named")


def test_a_resolve_inside_a_function_fails_when_it_runs_and_a_feature_test_guards_a_require(tmp_path):
    root = project(
        tmp_path / "cjs",
        {
            **CJS,
            "index.js": "function page() { return require.resolve('./templates/welcome.html'); }\n"
            "if (typeof structuredClone === 'undefined') require('./polyfill.js');\n"
            + LOADED
            + "if (process.env.RUN) page();\n",
        },
    )
    report = check(root)
    assert [(f.rule, str(f.severity), f.message) for f in report.findings] == [
        (
            "unresolved-import",
            "error",
            "fails when this require.resolve() runs: Cannot find module './templates/welcome.html' imported from "
            "index.js (no file at templates/welcome.html)",
        ),
        (
            "unresolved-import",
            "warning",
            "crashes at start: Cannot find module './polyfill.js' imported from index.js (no file at polyfill.js) "
            "(only where `typeof structuredClone === 'undefined'` says so: a feature test guards it)",
        ),
    ]
    assert_loads(root)  # this Node has structuredClone, and page() does not run at start
    done = run_node(root, "index.js", env={"RUN": "1"})
    assert done.returncode != 0 and "Cannot find module './templates/welcome.html'" in done.stderr

    esm = project(
        tmp_path / "esm",
        {
            **ESM,
            "index.js": "export function page() { return import.meta.resolve('not-installed'); }\n"
            + LOADED
            + "if (process.env.RUN) page();\n",
        },
    )
    assert [f.message.split(":")[0] for f in check(esm).errors] == ["fails when this import.meta.resolve() runs"]
    assert_loads(esm)
    done = run_node(esm, "index.js", env={"RUN": "1"})
    assert done.returncode != 0 and "Cannot find package 'not-installed'" in done.stderr


def test_a_package_whose_main_is_typescript_source_fails_under_plain_node(tmp_path):
    # A workspace package that ships its TypeScript source: node (no tsx) cannot import a .ts file (Node 22.23,
    # which strips types elsewhere, refuses too: ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING).
    shared = "node_modules/@acme/shared"
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { id } from '@acme/shared';\n" + LOADED,
            f"{shared}/package.json": {"name": "@acme/shared", "version": "1.0.0", "main": "src/index.ts"},
            f"{shared}/src/index.ts": "export const id: string = 'a';\n",
        },
    )
    report = check(root)
    assert errors(report) == [("unknown-file-extension", "index.js")]
    assert report.errors[0].message == (
        'crashes at start: TypeError [ERR_UNKNOWN_FILE_EXTENSION]: Unknown file extension ".ts" for '
        f"{shared}/src/index.ts"
    )
    assert_node_fails(root, "ERR_UNKNOWN_FILE_EXTENSION")


def test_javascript_importing_a_name_a_package_declares_only_as_a_type_fails(tmp_path):
    # Only TypeScript erases an import of an interface; plain JavaScript asks the module for it at link time.
    typed = "node_modules/typed"
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { Options } from 'typed';\n" + LOADED,
            f"{typed}/package.json": {"name": "typed", "version": "1.0.0", "type": "module", "types": "index.d.ts"},
            f"{typed}/index.js": "export const make = () => 1;\n",
            f"{typed}/index.d.ts": "export interface Options {\n  a: number;\n}\nexport declare const make: () => number;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("missing-export", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: SyntaxError: The requested module 'typed' does not provide an export named 'Options' "
        "(it exports make)"
    )
    assert_node_fails(root, "does not provide an export named 'Options'")


def test_a_package_whose_entry_requires_a_file_it_does_not_ship_blocks(tmp_path):
    broken = "node_modules/broken"
    root = project(
        tmp_path,
        {
            "package.json": {"name": "app", "version": "1.0.0", "dependencies": {"broken": "1.0.0"}},
            "index.js": "require('broken');\n" + LOADED,
            f"{broken}/package.json": {"name": "broken", "version": "1.0.0", "main": "index.js"},
            f"{broken}/index.js": "module.exports = require('./lib/core.js');\n",
        },
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: in node_modules/broken/index.js:1:26: Cannot find module './lib/core.js' imported from "
        "node_modules/broken/index.js (no file at node_modules/broken/lib/core.js)"
    )
    assert_node_fails(root, "Cannot find module './lib/core.js'")


def test_an_es_module_importing_a_file_a_package_does_not_have_blocks(tmp_path):
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import 'kit/lib/gone.js';\n" + LOADED,
            "node_modules/kit/package.json": {"name": "kit", "version": "1.0.0"},
            "node_modules/kit/lib/here.js": "export const a = 1;\n",
        },
    )
    report = check(root)
    assert errors(report) == [("unresolved-import", "index.js")]
    assert report.errors[0].message == (
        "crashes at start: Cannot find module 'kit/lib/gone.js' imported from index.js (no file at "
        "node_modules/kit/lib/gone.js)"
    )
    assert_node_fails(root, "ERR_MODULE_NOT_FOUND")


def test_a_name_differing_only_in_case_is_suggested_before_a_closer_spelling(tmp_path):
    # difflib finds 'IDs' closer to 'ID' than 'Id'; the export that differs in case only is the likelier slip.
    root = project(
        tmp_path,
        {
            **ESM,
            "index.js": "import { ID } from './ids.js';\n" + LOADED,
            "ids.js": "export const Id = 1;\nexport const IDs = [1];\n",
        },
    )
    report = check(root)
    assert [f.message for f in report.errors] == [
        "crashes at start: SyntaxError: The requested module './ids.js' does not provide an export named 'ID' "
        "(did you mean 'Id'?)"
    ]
    assert_node_fails(root, "does not provide an export named 'ID'")
