"""What installed packages load at start is followed like the service's own code: each fault inside a
package is reported at the service's import that brings it in, and real node agrees on every verdict.
Lazy loads inside packages are not followed, and laziness carries over: a file only a require() inside a
function reaches never "crashes at start"."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from deploysafe import check
from tests.support.npm_cache import installed
from tests.support.projects import run_node, write_tree

APP = {"package.json": {"name": "app", "version": "1.0.0", "type": "module", "dependencies": {"lib": "1.0.0"}}}
LOADED = "console.log('loaded');\n"


def project(tmp_path: Path, lib: dict, index: str = "import 'lib';\n", manifest: dict | None = None) -> Path:
    files = {f"node_modules/lib/{rel}": content for rel, content in lib.items()}
    package = {"name": "lib", "version": "1.0.0", "main": "index.js", **(manifest or {})}
    return write_tree(
        tmp_path / "app", {**APP, **files, "node_modules/lib/package.json": package, "index.js": index + LOADED}
    )


def blocked(root: Path) -> list[tuple[str, str, int]]:
    report = check(root, ["index.js"])
    return [(f.rule, f.file, f.line) for f in report.errors]


def node_fails(root: Path, expected: str) -> None:
    done = run_node(root, "index.js")
    assert done.returncode != 0, done.stdout
    assert expected in done.stderr, done.stderr


CASES = {
    "extensionless import inside an ESM package": (
        {"index.js": "import './util';\n", "util.js": "export const u = 1;\n"},
        {"type": "module"},
        "unresolved-import",
        "ERR_MODULE_NOT_FOUND",
    ),
    "JSON import without its attribute inside a package": (
        {"index.js": "import data from './data.json';\nexport default data;\n", "data.json": "{}"},
        {"type": "module"},
        "missing-import-attribute",
        'needs an import attribute of type "json"',
    ),
    "a named import its CommonJS dependency lacks": (
        {"index.js": "import { nope } from './dep.cjs';\nexport default nope;\n", "dep.cjs": "exports.yes = 1;\n"},
        {"type": "module"},
        "missing-export",
        "Named export 'nope' not found",
    ),
    "module syntax in a commonjs package": (
        {"index.js": "export const a = 1;\n"},
        {"type": "commonjs"},
        "syntax-error",
        "SyntaxError",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_fault_inside_a_package_blocks_at_the_import_that_brings_it_in(tmp_path, case):
    lib, manifest, rule, node_says = CASES[case]
    root = project(tmp_path, lib, manifest=manifest)
    report = check(root, ["index.js"])
    assert [(f.rule, f.file, f.line) for f in report.errors] == [(rule, "index.js", 1)]
    finding = report.errors[0]
    assert finding.message.startswith("crashes at start: in node_modules/lib/index.js:")
    assert finding.chain == ("index.js", "node_modules/lib/index.js")
    node_fails(root, node_says)


def test_a_fault_deeper_in_a_package_names_the_chain_through_it(tmp_path):
    root = project(
        tmp_path,
        {"index.js": "require('./a');\n", "a.js": "require('./b');\n", "b.js": "require('missing-peer');\n"},
        manifest={"peerDependencies": {"missing-peer": "1"}},
    )
    report = check(root, ["index.js"])
    assert [(f.rule, f.file) for f in report.errors] == [("missing-package", "index.js")]
    message = report.errors[0].message
    assert "in node_modules/lib/b.js:1:9: Cannot find module 'missing-peer'" in message
    assert "a peer dependency of lib" in message and "npm install missing-peer" in message
    assert "node_modules/lib/index.js → node_modules/lib/a.js → node_modules/lib/b.js" in message
    node_fails(root, "Cannot find module 'missing-peer'")


def test_require_resolve_loads_nothing_inside_or_into_a_package(tmp_path):
    root = project(
        tmp_path,
        {
            "index.js": "module.exports = require.resolve('./broken.js');\n",
            "broken.js": "export const a = 1;\n",
            "s.css": "a { b: c }\n",
        },
        index="import { createRequire } from 'node:module';\ncreateRequire(import.meta.url).resolve('lib/s.css');\n",
    )
    report = check(root, ["index.js"])
    assert report.errors == []
    assert run_node(root, "index.js").returncode == 0


def test_lazy_and_guarded_loads_inside_a_package_are_not_followed(tmp_path):
    # sequelize's shape: hstore.js requires pg-hstore, and only a constructor requires hstore.js.
    root = project(
        tmp_path,
        {
            "index.js": "class Db { constructor() { this.h = require('./hstore'); } }\n"
            "try { require('optional-native'); } catch {}\nmodule.exports = Db;\n",
            "hstore.js": "module.exports = require('pg-hstore');\n",
        },
    )
    report = check(root, ["index.js"])
    assert report.errors == []
    assert run_node(root, "index.js").returncode == 0


def test_a_package_a_lazy_load_brings_in_fails_when_that_code_runs(tmp_path):
    root = project(
        tmp_path,
        {"index.js": "require('missing-peer');\n"},
        index="export function later() { return import('lib'); }\nif (process.env.RUN) await later();\n",
    )
    report = check(root, ["index.js"])
    assert [(f.rule, f.file) for f in report.errors] == [("missing-package", "index.js")]
    assert report.errors[0].message.startswith("fails when this code runs: ")
    assert run_node(root, "index.js").returncode == 0
    assert run_node(root, "index.js", env={"RUN": "1"}).returncode != 0


def test_a_project_file_only_a_lazy_require_reaches_never_crashes_at_start(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0"},
            "index.js": "function later() { return require('./later'); }\n"
            + LOADED
            + "if (process.env.RUN) later();\n",
            "later.js": "require('./gone');\n",
        },
    )
    report = check(root, ["index.js"])
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "later.js")]
    assert report.errors[0].message.startswith("fails when this code runs")
    assert "crashes at start" not in report.errors[0].message
    assert run_node(root, "index.js").returncode == 0
    assert "Cannot find module './gone'" in run_node(root, "index.js", env={"RUN": "1"}).stderr


def test_a_clean_package_interior_adds_nothing(tmp_path):
    root = project(
        tmp_path,
        {
            "index.js": "import { b } from './b.js';\nexport * from './b.js';\nexport default b;\n",
            "b.js": "export const b = 1;\n",
        },
        index="import lib, { b } from 'lib';\n",
        manifest={"type": "module"},
    )
    report = check(root, ["index.js"])
    assert report.errors == [] and report.unverified == []
    assert run_node(root, "index.js").returncode == 0


def test_computed_loads_inside_a_package_are_counted_once_as_unverified(tmp_path):
    root = project(
        tmp_path,
        {
            "index.js": "const path = require('path');\nconst impl = process.env.LIB_IMPL || './a.js';\n"
            "module.exports = [require(impl), require(path.join(__dirname, 'b.js'))];\n"
            "function later(x) { return require(x); }\n",
            "a.js": "module.exports = 'a';\n",
            "b.js": "module.exports = 'b';\n",
        },
    )
    report = check(root, ["index.js"])
    assert report.errors == []
    assert [(u.reason, u.file, u.line, u.detail) for u in report.unverified] == [
        (
            "computed-in-package",
            "index.js",
            1,
            "2 computed loads inside lib not followed (e.g. node_modules/lib/index.js:3 require(impl))",
        )
    ]
    assert report.exit_code == 0
    assert run_node(root, "index.js").returncode == 0


# ---- real packages -----------------------------------------------------------------------------------------

REAL = {"@reduxjs/toolkit": "2.16.0", "sequelize": "6.37.8", "ora": "9.4.1", "date-fns": "4.4.0"}


@pytest.fixture(scope="module")
def real_packages() -> Path:
    return installed("package-interiors", {"dependencies": REAL})


def real_service(tmp_path: Path, packages: Path, index: str, entry: str = "index.js") -> Path:
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app", "type": "module", "dependencies": REAL}})
    (root / entry).write_text(index + LOADED)
    os.symlink(packages / "node_modules", root / "node_modules")
    return root


def test_a_real_package_whose_entry_imports_an_uninstalled_peer_blocks(tmp_path, real_packages):
    # @reduxjs/toolkit/react imports react-redux, an optional peer npm does not install.
    root = real_service(tmp_path, real_packages, "import { configureStore } from '@reduxjs/toolkit/react';\n")
    report = check(root, ["index.js"])
    assert [(f.rule, f.file, f.line) for f in report.errors] == [("missing-package", "index.js", 1)]
    assert "Cannot find package 'react-redux'" in report.errors[0].message
    assert "npm install react-redux" in report.errors[0].message
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "Cannot find package 'react-redux'" in done.stderr


def test_real_packages_that_load_stay_clean_through_their_interiors(tmp_path, real_packages):
    # sequelize requires pg-hstore only from a constructor; ora 9 and date-fns 4 load hundreds of files.
    index = (
        "import { configureStore } from '@reduxjs/toolkit';\nimport ora from 'ora';\n"
        "import { format, longFormatters } from 'date-fns';\nimport { createRequire } from 'node:module';\n"
        "createRequire(import.meta.url)('sequelize');\nimport { Sequelize } from 'sequelize';\n"
    )
    root = real_service(tmp_path, real_packages, index)
    report = check(root, ["index.js"])
    assert report.errors == [], [str(f) for f in report.errors]
    assert [str(u) for u in report.unverified] == []
    assert run_node(root, "index.js").returncode == 0


@pytest.fixture(scope="module")
def graphql_tag() -> Path:
    return installed("graphql-tag", {"dependencies": {"graphql-tag": "2.12.6", "graphql": "16.11.0"}})


@pytest.mark.parametrize("with_graphql", [False, True], ids=["graphql missing", "graphql installed"])
def test_a_umd_wrapper_requires_its_dependencies_at_load(tmp_path, graphql_tag, with_graphql):
    # graphql-tag's UMD build requires graphql inside `(function (global, factory) { typeof exports ... })()`.
    wanted = ["graphql-tag", "tslib"] + (["graphql"] if with_graphql else [])
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app", "dependencies": {"graphql-tag": "2"}}})
    for name in wanted:
        shutil.copytree(graphql_tag / "node_modules" / name, root / "node_modules" / name)
    (root / "index.js").write_text("const gql = require('graphql-tag');\n" + LOADED)
    report = check(root, ["index.js"])
    done = run_node(root, "index.js")
    if with_graphql:
        assert report.errors == [] and report.unverified == []
        assert done.returncode == 0, done.stderr
        return
    assert [(f.rule, f.file, f.line) for f in report.errors] == [("missing-package", "index.js", 1)]
    finding = report.errors[0]
    assert finding.message.startswith("crashes at start: in node_modules/graphql-tag/lib/graphql-tag.umd.js:2:")
    assert "npm install graphql" in finding.message
    assert done.returncode != 0 and "Cannot find module 'graphql'" in done.stderr
