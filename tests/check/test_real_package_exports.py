"""Export and parse verdicts on real published packages whose shapes once fooled the check, each judged
by real node: `export * as default`, one binding through two star exports, reserved words as export
names, a package require() cannot load, and non-JavaScript files reached through a package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploysafe import check
from tests.support.npm_cache import installed
from tests.support.projects import run_node, write_tree

DEPENDENCIES = {
    "log-symbols": "7.0.1",
    "ora": "9.4.1",
    "date-fns": "4.4.0",
    "valibot": "1.5.0",
    "@types/node": "26.6.11",
    "highlight.js": "11.12.0",
}
LOADED = "console.log('loaded');\n"


@pytest.fixture(scope="module")
def packages() -> Path:
    return installed("export-shapes", {"dependencies": DEPENDENCIES})


def service(tmp_path: Path, packages: Path, files: dict[str, str]) -> Path:
    root = write_tree(
        tmp_path / "app", {"package.json": {"name": "app", "type": "module", "dependencies": DEPENDENCIES}, **files}
    )
    os.symlink(packages / "node_modules", root / "node_modules")
    return root


def verdict(root: Path) -> list[tuple[str, str]]:
    report = check(root)
    return [(f.rule, f.file) for f in report.errors]


def test_a_namespace_exported_as_default_is_a_default_export(tmp_path, packages):
    # log-symbols 7: `export * as default from './symbols.js'`; ora 9 imports it that way.
    root = service(
        tmp_path,
        packages,
        {"index.js": "import logSymbols from 'log-symbols';\nimport ora from 'ora';\n" + LOADED},
    )
    assert verdict(root) == []
    assert run_node(root, "index.js").returncode == 0


def test_one_binding_through_two_star_exports_is_no_conflict(tmp_path, packages):
    # date-fns 4: format.js and parse.js both `export { longFormatters }` imported from one file.
    root = service(tmp_path, packages, {"index.js": "import { longFormatters, format } from 'date-fns';\n" + LOADED})
    report = check(root)
    assert report.errors == [] and report.unverified == []
    assert run_node(root, "index.js").returncode == 0


def test_two_different_bindings_under_one_name_are_still_a_conflict(tmp_path, packages):
    root = service(
        tmp_path,
        packages,
        {
            "index.js": "import { x } from './both.js';\n" + LOADED,
            "both.js": "export * from './a.js';\nexport * from './b.js';\n",
            "a.js": "import { x } from './c.js';\nexport { x };\n",
            "b.js": "export const x = 2;\n",
            "c.js": "export const x = 1;\n",
        },
    )
    assert verdict(root) == [("missing-export", "index.js")]
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "conflicting star exports for name 'x'" in done.stderr


def test_reserved_words_as_export_names_are_read_and_checked(tmp_path, packages):
    # valibot 1: `export { ..., function_ as function, ..., void_ as void, words }`
    good = service(tmp_path, packages, {"index.js": "import { object, void as v, words } from 'valibot';\n" + LOADED})
    report = check(good)
    assert report.errors == [] and report.unverified == []
    assert run_node(good, "index.js").returncode == 0

    (good / "index.js").write_text("import { object, objekt } from 'valibot';\n" + LOADED)
    assert verdict(good) == [("missing-export", "index.js")]
    assert "does not provide an export named 'objekt'" in run_node(good, "index.js").stderr


def test_a_package_file_that_does_not_parse_blocks_and_leaves_the_names_unverified(tmp_path, packages):
    root = service(tmp_path, packages, {"index.js": "import { a } from 'broken';\n" + LOADED})
    os.unlink(root / "node_modules")
    write_tree(
        root / "node_modules" / "broken",
        {
            "package.json": {"name": "broken", "type": "module"},
            "index.js": "export const a = (;\nexport const b = 1 +;\n",
        },
    )
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("syntax-error", "index.js")]  # Node fails loading it
    assert "in node_modules/broken/index.js:1:" in report.errors[0].message
    assert [(u.file, u.detail) for u in report.unverified] == [
        (
            "index.js",
            "the names imported from 'broken' were not checked: node_modules/broken/index.js did not parse at 1:16",
        )
    ]
    assert "SyntaxError" in run_node(root, "index.js").stderr

    # A project file that does not parse is the syntax error's alone: its names are not said to be unchecked.
    write_tree(root, {"index.js": "import { a } from './local.js';\n" + LOADED, "local.js": "export const a = (;\n"})
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("syntax-error", "local.js")]
    assert report.unverified == []
    assert "SyntaxError" in run_node(root, "index.js").stderr


def test_require_of_a_package_with_nothing_to_load_cannot_find_module(tmp_path, packages):
    # @types/node has `"main": ""` and no index.js: installed, declared, and still `Cannot find module`.
    root = service(tmp_path, packages, {"index.cjs": "require('@types/node');\n" + LOADED})
    report = check(root, entries=["index.cjs"])
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "index.cjs")]
    assert "Cannot find module '@types/node'" in report.errors[0].message
    assert report.unverified == []
    done = run_node(root, "index.cjs")
    assert done.returncode != 0 and "Cannot find module '@types/node'" in done.stderr


def test_a_stylesheet_from_a_package_is_not_a_module(tmp_path, packages):
    root = service(
        tmp_path,
        packages,
        {
            "index.js": "import 'highlight.js/styles/github.css';\n" + LOADED,
            "index.cjs": "require('highlight.js/styles/github.css');\n" + LOADED,
            "ok.cjs": "require('highlight.js/lib/core');\nrequire('date-fns/package.json');\n" + LOADED,
        },
    )
    imported = check(root, entries=["index.js"])
    assert [(f.rule, f.file) for f in imported.errors] == [("unknown-file-extension", "index.js")]
    assert "ERR_UNKNOWN_FILE_EXTENSION" in imported.errors[0].message
    assert "ERR_UNKNOWN_FILE_EXTENSION" in run_node(root, "index.js").stderr

    required = check(root, entries=["index.cjs"])
    assert [(f.rule, f.file) for f in required.errors] == [("unknown-file-extension", "index.cjs")]
    assert "SyntaxError" in run_node(root, "index.cjs").stderr

    assert check(root, entries=["ok.cjs"]).errors == []
    assert run_node(root, "ok.cjs").returncode == 0
