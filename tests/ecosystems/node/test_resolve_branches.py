"""Every branch of the resolver (src/deploysafe/ecosystems/node/resolve.py) that changes a verdict, each in a
small project that real node runs: deploysafe's verdict on the entry must be node's.

The branches covered elsewhere, with node or tsx confirming them, are listed in BRANCHES_ELSEWHERE; the
cases below hold the rest. A case is the project's files (the app's package.json is added) and either
None (node loads the entry and prints "loaded"; deploysafe finds no error) or the text of node's error
(node fails with it; deploysafe blocks the entry, with unresolved-import unless FINDING says otherwise).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deploysafe import check
from deploysafe.check.why import MISSING, why
from deploysafe.report.graph_formats import graph_view
from tests.support import other_user
from tests.support.npm_cache import installed
from tests.support.projects import run_node, write_tree
from tests.support.tools import run_command, typescript_tool

LOADED = "console.log('loaded');\n"
ESM = {"name": "app", "version": "1.0.0", "type": "module", "dependencies": {"p": "1.0.0", "q": "1.0.0"}}
CJS = {"name": "app", "version": "1.0.0", "dependencies": {"p": "1.0.0", "q": "1.0.0"}}
MAIN = {"node_modules/p/main.js": "export const p = 1;\n"}
CJS_Q = {"node_modules/q/package.json": {"name": "q", "version": "1.0.0"}, "node_modules/q/index.js": ""}


def pkg(exports: object = None, **more: object) -> dict:
    """node_modules/p/package.json (an ES module package) with ``exports`` when given."""
    data: dict = {"name": "p", "version": "1.0.0", "type": "module", **more}
    if exports is not None:
        data["exports"] = exports
    return {"node_modules/p/package.json": data}


# id: (package.json of the app, files, node's error or None)
CASES: dict[str, tuple[dict, dict, str | None]] = {
    # ---- "exports" (PACKAGE_EXPORTS_RESOLVE, PACKAGE_TARGET_RESOLVE)
    "exports as a string": (ESM, {**pkg("./main.js"), **MAIN, "index.js": "import 'p';\n"}, None),
    "exports array: an invalid target is skipped": (
        ESM,
        {**pkg({".": ["../outside.js", "./main.js"]}), **MAIN, "index.js": "import 'p';\n"},
        None,
    ),
    "exports: a nested condition no import matches falls through to default": (
        ESM,
        {**pkg({".": {"node": {"worker": "./gone.js"}, "default": "./main.js"}}), **MAIN, "index.js": "import 'p';\n"},
        None,
    ),
    "exports: a pattern with a trailer matches a longer subpath": (
        ESM,
        {
            **pkg({"./features/*.js": "./lib/*.js"}),
            "node_modules/p/lib/auth/login.js": "",
            "index.js": "import 'p/features/auth/login.js';\n",
        },
        None,
    ),
    "exports: a subpath outside every pattern is not exported": (
        ESM,
        {**pkg({"./f/*": "./lib/*.js"}), "node_modules/p/lib/b.js": "", "index.js": "import 'p/x/b';\n"},
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "exports array: a condition no import matches is skipped": (
        ESM,
        {**pkg({".": [{"worker": "./gone.js"}, "./main.js"]}), **MAIN, "index.js": "import 'p';\n"},
        None,
    ),
    "exports array: a subpath is not exported": (
        ESM,
        {**pkg(["./main.js"]), **MAIN, "index.js": "import 'p/main.js';\n"},
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "exports array: a missing file is not skipped": (
        ESM,
        {**pkg({".": ["./gone.js", "./main.js"]}), **MAIN, "index.js": "import 'p';\n"},
        "ERR_MODULE_NOT_FOUND",
    ),
    "exports main names a missing file": (
        ESM,
        {**pkg("./gone.js"), "index.js": "import 'p';\n"},
        "ERR_MODULE_NOT_FOUND",
    ),
    "exports main names a missing file, require()": (
        CJS,
        {**pkg({"require": "./gone.cjs"}), "index.js": "require('p');\n"},
        "Cannot find module",
    ),
    "exports: a null target hides a subpath": (
        ESM,
        {
            **pkg({".": "./main.js", "./*": "./*", "./secret.js": None}),
            **MAIN,
            "node_modules/p/secret.js": "",
            "index.js": "import 'p/secret.js';\n",
        },
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "exports: a target outside the package": (
        ESM,
        {**pkg({".": "../outside.js"}), "node_modules/outside.js": "", "index.js": "import 'p';\n"},
        "ERR_INVALID_PACKAGE_TARGET",
    ),
    "exports: a target without ./": (
        ESM,
        {**pkg({".": "main.js"}), **MAIN, "index.js": "import 'p';\n"},
        "ERR_INVALID_PACKAGE_TARGET",
    ),
    "exports: a target through node_modules": (
        ESM,
        {
            **pkg({"./x": "./node_modules/q/index.js"}),
            "node_modules/p/node_modules/q/index.js": "",
            "index.js": "import 'p/x';\n",
        },
        "ERR_INVALID_PACKAGE_TARGET",
    ),
    "exports: keys with and without a dot": (
        ESM,
        {**pkg({".": "./main.js", "import": "./main.js"}), **MAIN, "index.js": "import 'p';\n"},
        "ERR_INVALID_PACKAGE_CONFIG",
    ),
    "exports: no condition matches": (
        ESM,
        {**pkg({".": {"browser": "./main.js"}}), **MAIN, "index.js": "import 'p';\n"},
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "exports: nested conditions, the first that matches": (
        ESM,
        {
            **pkg({".": {"browser": "./gone.js", "node": {"import": "./main.js", "default": "./gone.cjs"}}}),
            **MAIN,
            "index.js": "import { p } from 'p';\n",
        },
        None,
    ),
    "exports: a subpath not listed": (
        ESM,
        {**pkg({".": "./main.js"}), **MAIN, "node_modules/p/other.js": "", "index.js": "import 'p/other.js';\n"},
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "exports pattern with a trailer": (
        ESM,
        {**pkg({"./feat/*.js": "./lib/*.js"}), "node_modules/p/lib/a.js": "", "index.js": "import 'p/feat/a.js';\n"},
        None,
    ),
    "exports pattern: a trailer that does not match": (
        ESM,
        {**pkg({"./feat/*.js": "./lib/*.js"}), "node_modules/p/lib/a.js": "", "index.js": "import 'p/feat/a.mjs';\n"},
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "exports patterns: the longest prefix wins": (
        ESM,
        {
            **pkg({"./*": "./gone/*", "./lib/*": "./lib/*"}),
            "node_modules/p/lib/a.js": "",
            "index.js": "import 'p/lib/a.js';\n",
        },
        None,
    ),
    "exports: an exact key beats a pattern": (
        ESM,
        {
            **pkg({"./lib/*": "./gone/*", "./lib/a.js": "./lib/a.js"}),
            "node_modules/p/lib/a.js": "",
            "index.js": "import 'p/lib/a.js';\n",
        },
        None,
    ),
    # ---- self-reference (the package's own name, through its own exports)
    "self-reference through exports": (
        {**ESM, "exports": {".": "./lib.js"}},
        {"lib.js": "export const x = 1;\n", "index.js": "import { x } from 'app';\n"},
        None,
    ),
    "self-reference needs exports": (
        {**ESM, "main": "lib.js"},
        {"lib.js": "export const x = 1;\n", "index.js": "import 'app';\n"},
        "ERR_MODULE_NOT_FOUND",
    ),
    # ---- "imports" (#specifiers)
    "imports: not defined": (
        {**ESM, "imports": {"#a": "./a.js"}},
        {"a.js": "", "index.js": "import '#b';\n"},
        "ERR_PACKAGE_IMPORT_NOT_DEFINED",
    ),
    "imports: a target naming a package": (
        {**ESM, "imports": {"#dep": "p"}},
        {**pkg("./main.js"), **MAIN, "index.js": "import { p } from '#dep';\n"},
        None,
    ),
    "imports: conditions and a pattern with a trailer": (
        {**ESM, "imports": {"#lib/*.js": {"node": "./src/*.js", "default": "./gone/*.js"}}},
        {"src/a.js": "", "index.js": "import '#lib/a.js';\n"},
        None,
    ),
    "imports: a null target": (
        {**ESM, "imports": {"#a": None}},
        {"index.js": "import '#a';\n"},
        "ERR_PACKAGE_IMPORT_NOT_DEFINED",
    ),
    "imports: a # specifier in a package with no imports field": (
        ESM,
        {"index.js": "import '#db';\n"},
        "ERR_PACKAGE_IMPORT_NOT_DEFINED",
    ),
    "imports: a require() of a # specifier": (
        {**CJS, "imports": {"#a": {"require": "./a.cjs", "import": "./gone.mjs"}}},
        {"a.cjs": "", "index.js": "require('#a');\n"},
        None,
    ),
    "imports: '#/' starts no package import in node 20": (
        {**ESM, "imports": {"#/a": "./a.js"}},
        {"a.js": "", "index.js": "import '#/a';\n"},
        "ERR_INVALID_MODULE_SPECIFIER",
    ),
    "imports: a target outside the package": (
        {**ESM, "imports": {"#a": "../outside.js"}},
        {"index.js": "import '#a';\n"},
        "ERR_INVALID_PACKAGE_TARGET",
    ),
    "imports: an extensionless target under import": (
        {**ESM, "imports": {"#a": "./a"}},
        {"a.js": "", "index.js": "import '#a';\n"},
        "ERR_MODULE_NOT_FOUND",
    ),
    # ---- schemes and built-ins
    "an unknown node: built-in": (ESM, {"index.js": "import 'node:nothing';\n"}, "ERR_UNKNOWN_BUILTIN_MODULE"),
    "an https: URL": (ESM, {"index.js": "import 'https://example.com/x.js';\n"}, "ERR_UNSUPPORTED_ESM_URL_SCHEME"),
    "a one-letter URL scheme (a drive letter)": (
        ESM,
        {"index.js": "import 'c:/app/x.js';\n"},
        "ERR_UNSUPPORTED_ESM_URL_SCHEME",
    ),
    "a URL scheme with a digit after its first letter": (
        ESM,
        {"index.js": "import 'h2:app/x.js';\n"},
        "ERR_UNSUPPORTED_ESM_URL_SCHEME",
    ),
    "a data: URL": (ESM, {"index.js": "import 'data:text/javascript,export default 1';\n"}, None),
    "a relative import with a query": (ESM, {"a.js": "", "index.js": "import './a.js?v=2';\n"}, None),
    # ---- packages without exports (legacy main, files)
    "import: main without its extension": (
        ESM,
        {**pkg(main="lib/entry"), "node_modules/p/lib/entry.js": "", "index.js": "import 'p';\n"},
        None,
    ),
    "import: main is a folder with an index": (
        ESM,
        {**pkg(main="lib"), "node_modules/p/lib/index.js": "", "index.js": "import 'p';\n"},
        None,
    ),
    "import: main missing, index.js beside it": (
        ESM,
        {**pkg(main="gone.js"), "node_modules/p/index.js": "", "index.js": "import 'p';\n"},
        None,
    ),
    "import: main and index missing": (
        ESM,
        {**pkg(main="gone.js"), "node_modules/p/other.js": "", "index.js": "import 'p';\n"},
        "ERR_MODULE_NOT_FOUND",
    ),
    "import: an extensionless package subpath": (
        ESM,
        {**pkg(), "node_modules/p/sub.js": "", "index.js": "import 'p/sub';\n"},
        "ERR_MODULE_NOT_FOUND",
    ),
    "import: neither main nor index": (
        ESM,
        {**pkg(), "node_modules/p/other.js": "", "index.js": "import 'p';\n"},
        "ERR_MODULE_NOT_FOUND",
    ),
    "require: a package subpath finds its extension": (
        CJS,
        {**pkg(), "node_modules/p/sub.cjs": "", "node_modules/p/sub.js": "", "index.js": "require('p/sub');\n"},
        None,
    ),
    "require: a file node_modules/p.js": (
        CJS,
        {"node_modules/p.js": "module.exports = 1;\n", "index.js": "require('p');\n"},
        None,
    ),
    "require: past an installed folder without main or index": (
        CJS,
        {
            "src/node_modules/p/package.json": {"name": "p"},
            "node_modules/p/index.js": "module.exports = 1;\n",
            "src/index.js": "require('p');\n",
            "index.js": "require('./src/index.js');\n",
        },
        None,
    ),
    "require: an installed folder with nothing to load": (
        CJS,
        {"node_modules/p/package.json": {"name": "p", "main": ""}, "index.js": "require('p');\n"},
        "Cannot find module",
    ),
    "require: a main that is missing stops the search": (
        CJS,
        {
            "src/node_modules/p/package.json": {"name": "p", "main": "gone.js"},
            "node_modules/p/index.js": "module.exports = 1;\n",
            "src/index.js": "require('p');\n",
            "index.js": "require('./src/index.js');\n",
        },
        'Please verify that the package.json has a valid "main" entry',
    ),
    "require: a folder whose package.json main is a folder": (
        CJS,
        {
            "lib/package.json": {"main": "./impl"},
            "lib/impl/index.js": "module.exports = 1;\n",
            "index.js": "require('./lib');\n",
        },
        None,
    ),
    "require: an extensionless path finds no .mjs": (
        CJS,
        {"x.mjs": "", "index.js": "require('./x');\n"},
        "Cannot find module './x'",
    ),
    "require: a TypeScript source whose name differs in letter case is no match": (
        CJS,
        {"Helper.ts": "", "index.js": "require('./helper');\n"},
        "Cannot find module './helper'",
    ),
    "require: a missing file beside one with a close name": (
        CJS,
        {"config.js": "module.exports = 1;\n", "index.js": "require('./confg.js');\n"},
        "Cannot find module './confg.js'",
    ),
    "a package.json that does not parse": (
        ESM,
        {"node_modules/p/package.json": "{ not json", "node_modules/p/index.js": "", "index.js": "import 'p';\n"},
        "ERR_INVALID_PACKAGE_CONFIG",
    ),
}

# The finding a blocked case gives, where it is not unresolved-import on index.js.
FINDING = {
    "self-reference needs exports": ("missing-package", "index.js"),
    "require: a main that is missing stops the search": ("unresolved-import", "src/index.js"),
}
# What the user reads where the verdict alone does not show the branch taken: id -> the finding's message.
MESSAGE = {
    "exports main names a missing file": "crashes at start: Cannot find module 'p' imported from index.js (no file "
    "at node_modules/p/gone.js)",
    "exports main names a missing file, require()": "crashes at start: Cannot find module 'p' imported from index.js "
    '(the file its "exports" names is missing: node_modules/p/gone.cjs)',
    "require: a missing file beside one with a close name": "crashes at start: Cannot find module './confg.js' "
    "imported from index.js (no file at confg.js); did you mean './config.js'?",
    "require: an extensionless path finds no .mjs": "crashes at start: Cannot find module './x' imported from "
    "index.js (no file at x)",
    "imports: a target outside the package": "crashes at start: cannot load '#a' from index.js: Invalid \"imports\" "
    'target "../outside.js" in package.json',
    "exports: a null target hides a subpath": "crashes at start: Package subpath './secret.js' is not defined by "
    "\"exports\" in node_modules/p/package.json (imported as 'p/secret.js' from index.js)",
}

# Symlinked installs (pnpm): node follows the link and resolves the package's own imports from where it
# really is, beside its dependencies in the store; the link's folder holds nothing.
SYMLINKED = {
    "store/node_modules/p/package.json": {"name": "p", "version": "1.0.0", "main": "index.js"},
    "store/node_modules/p/index.js": "module.exports = require('q');\n",
    "store/node_modules/q/package.json": {"name": "q", "version": "1.0.0", "main": "index.js"},
    "store/node_modules/q/index.js": "module.exports = 1;\n",
    "index.js": "require('p');\n",
}

# Branches with a node- or tsx-confirmed test elsewhere (module: test).
BRANCHES_ELSEWHERE = {
    "relative ESM file missing / extensionless / directory": "tests/check/test_verdicts_agree_with_node.py: "
    "test_missing_relative_file_blocks_deploy_and_node_agrees, test_extensionless_esm_import_is_blocked_with_the_"
    "file_that_would_match, test_esm_directory_import_is_blocked",
    "require extension and index search": "test_verdicts_agree_with_node.py: "
    "test_commonjs_require_finds_extension_and_index_like_node, test_missing_require_blocks_and_node_agrees",
    "letter case": "test_verdicts_agree_with_node.py: test_import_with_wrong_letter_case_is_a_case_mismatch, "
    "test_require_with_wrong_letter_case_in_a_directory_name",
    "conditions per import kind": "test_verdicts_agree_with_node.py: test_exports_conditions_are_chosen_per_import_kind",
    "exports subpath patterns, imports patterns": "test_verdicts_agree_with_node.py: "
    "test_subpath_patterns_and_package_imports_resolve",
    "package missing or installed for another package": "test_verdicts_agree_with_node.py: "
    "test_package_that_is_neither_installed_nor_declared_is_missing, "
    "test_package_installed_only_for_another_package_is_missing_and_says_where_it_is",
    "module-sync and version-dependent conditions": "tests/check/test_version_dependent_verdicts.py",
    "TypeScript files, tsconfig paths, compiled output": "tests/check/test_typescript_verdicts_under_tsx.py, "
    "tests/check/test_typescript_runs.py",
    "Yarn PnP": "tests/check/test_service_setups.py",
}


def _verdict(root: Path, entry: str = "index.js") -> tuple[list[tuple[str, str]], int, str]:
    report = check(root, [entry])
    done = run_node(root, entry)
    return [(f.rule, f.file) for f in report.errors], done.returncode, done.stdout + done.stderr


def _only_finding(root: Path, node_error: str):
    """The one error check finds from index.js, once node has failed on it with ``node_error``."""
    report = check(root, ["index.js"])
    done = run_node(root, "index.js")
    assert done.returncode != 0 and node_error in done.stderr, done.stderr
    [finding] = report.errors
    return finding


@pytest.mark.parametrize("case", list(CASES))
def test_a_resolver_branch_gives_nodes_verdict(tmp_path, case):
    manifest, files, node_error = CASES[case]
    source = files["index.js"]
    root = write_tree(tmp_path / "app", {"package.json": manifest, **files, "index.js": source + LOADED})
    found, code, output = _verdict(root)
    if node_error is None:
        assert code == 0 and "loaded" in output, output
        assert found == [], output
    else:
        assert code != 0 and node_error in output, output
        assert found == [FINDING.get(case, ("unresolved-import", "index.js"))], output
        if case in MESSAGE:
            assert [f.message for f in check(root, ["index.js"]).errors] == [MESSAGE[case]]


def test_a_symlinked_package_resolves_its_imports_from_where_it_really_is(tmp_path):
    root = write_tree(tmp_path / "app", {"package.json": CJS, **SYMLINKED, "index.js": SYMLINKED["index.js"] + LOADED})
    (root / "node_modules").mkdir()
    os.symlink("../store/node_modules/p", root / "node_modules" / "p")
    found, code, output = _verdict(root)
    assert code == 0 and "loaded" in output, output
    assert found == [], output
    # the same link with q gone from the store: node fails, and so does the check
    (root / "store/node_modules/q/index.js").unlink()
    (root / "store/node_modules/q/package.json").unlink()
    found, code, output = _verdict(root)
    assert code != 0 and "Cannot find module 'q'" in output, output
    assert found == [("unresolved-import", "index.js")], output  # said at the import of p: p cannot load


def test_a_missing_subpath_of_an_installed_package_is_named_in_the_finding(tmp_path):
    files = {**pkg(), "node_modules/p/index.js": "", "index.js": "require('p/lib/gone');\n"}
    root = write_tree(tmp_path / "app", {"package.json": CJS, **files, "index.js": files["index.js"] + LOADED})
    finding = _only_finding(root, "Cannot find module 'p/lib/gone'")
    assert "installed but has no 'lib/gone' for require() to load" in finding.message, finding.message
    # the edge points at the missing file, not at the package's index.js (which is there)
    asked = why(root, "node_modules/p/lib/gone", ["index.js"])
    assert asked.status == MISSING and [(i.file, i.resolves) for i in asked.importers] == [("index.js", False)]
    assert why(root, "node_modules/p/index.js", ["index.js"]).importers == ()


def test_a_deep_import_into_a_scoped_package_and_a_file_url_load_as_in_node(tmp_path):
    manifest = {"name": "app", "version": "1.0.0", "type": "module", "dependencies": {"@s/p": "1.0.0"}}
    files = {
        "node_modules/@s/p/package.json": {"name": "@s/p", "version": "1.0.0", "type": "module"},
        "node_modules/@s/p/lib/x.js": "export const x = 1;\n",
        "local.js": "export const y = 2;\n",
    }
    root = write_tree(tmp_path / "app", {"package.json": manifest, **files})
    url = (root / "local.js").as_uri()
    (root / "index.js").write_text(f"import '@s/p/lib/x.js';\nimport '{url}';\n" + LOADED)
    found, code, output = _verdict(root)
    assert code == 0 and "loaded" in output, output
    assert found == [], output
    (root / "local.js").unlink()  # the file URL now names nothing: node fails, and so does the check
    found, code, output = _verdict(root)
    assert code != 0 and "ERR_MODULE_NOT_FOUND" in output, output
    assert found == [("unresolved-import", "index.js")], output


def test_an_undefined_package_import_names_its_package_json(tmp_path):
    manifest = {"name": "app", "version": "1.0.0", "type": "module", "imports": {"#db": "./db.js"}}
    root = write_tree(tmp_path / "app", {"package.json": manifest, "db.js": "", "index.js": "import '#nope';\n"})
    finding = _only_finding(root, "ERR_PACKAGE_IMPORT_NOT_DEFINED")
    assert '"#nope" is not defined in package package.json' in finding.message, finding.message
    # the graph's broken edge points where the import must be defined
    [link] = graph_view(check(root, ["index.js"])).broken()
    assert (link.source, link.target, link.specifier) == ("index.js", "package.json", "#nope"), link


def test_a_bare_specifier_with_a_backslash_or_a_percent_sign_is_invalid_as_node_says(tmp_path):
    """Node refuses a package specifier holding ``\\`` or ``%`` (ERR_INVALID_MODULE_SPECIFIER) even when the
    package is installed: the finding says so, not that the package is missing."""
    for specifier in ("p\\\\main.js", "p%2Fmain.js"):
        files = {**pkg(), **MAIN, "index.js": f"import '{specifier}';\n"}
        root = write_tree(
            tmp_path / str(len(specifier)), {"package.json": ESM, **files, "index.js": files["index.js"] + LOADED}
        )
        finding = _only_finding(root, "ERR_INVALID_MODULE_SPECIFIER")
        assert finding.rule == "unresolved-import" and "Invalid module specifier" in finding.message, finding.message


def test_a_package_that_is_one_file_in_node_modules_loads_with_require(tmp_path):
    """require('q') loads node_modules/q.js (LOAD_NODE_MODULES tries the name as a file): no finding, and q
    is not reported as a declared dependency that is not installed."""
    files = {"node_modules/q.js": "", "index.js": "require('q');\n" + LOADED}
    root = write_tree(tmp_path / "app", {"package.json": CJS, **files})
    done = run_node(root, "index.js")
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr
    report = check(root, ["index.js"])
    assert (report.errors, report.unverified) == ([], []), (report.errors, report.unverified)


def test_a_directory_import_points_why_at_its_index_file(tmp_path):
    """import './lib' of a folder with index.js: node refuses it; the finding suggests './lib/index.js' and
    `why lib/index.js` names the import that meant it."""
    files = {"lib/index.js": "", "index.js": "import './lib';\n" + LOADED}
    root = write_tree(tmp_path / "app", {"package.json": ESM, **files})
    finding = _only_finding(root, "ERR_UNSUPPORTED_DIR_IMPORT")
    assert "./lib/index.js" in finding.message, finding.message
    asked = why(root, "lib/index.js", ["index.js"])
    assert [(i.file, i.resolves) for i in asked.importers] == [("index.js", False)]


def test_a_missing_file_in_a_missing_folder_is_matched_against_the_folder_above(tmp_path):
    """import './sub/helpr.js' with no sub/ folder: node fails; the finding suggests ./helper.js one level up."""
    files = {"helper.js": "", "index.js": "import './sub/helpr.js';\n" + LOADED}
    root = write_tree(tmp_path / "app", {"package.json": ESM, **files})
    finding = _only_finding(root, "ERR_MODULE_NOT_FOUND")
    assert "did you mean './helper.js'?" in finding.message, finding.message


# src/index.ts of a service that tsc compiles to ES modules (judged before the build), what the check finds
# there (None: nothing) and node's error on the built output (None: it loads)
COMPILED_ESM: dict[str, tuple[dict, str | None, str | None]] = {
    "a JSON file named in full loads": (
        {
            "src/json.d.ts": "declare module '*.json' { const value: { a: number }; export default value; }\n",
            "src/index.ts": "import c from '../config.json' with { type: 'json' };\nconsole.log('loaded', c.a);\n",
            "config.json": {"a": 1},
        },
        None,
        None,
    ),
    "an alias that is also an installed package's name loads the package": (
        {
            "tsconfig.json": {
                "compilerOptions": {
                    "module": "esnext",
                    "target": "es2022",
                    "outDir": "dist",
                    "rootDir": "src",
                    "paths": {"p": ["./src/p.ts"]},
                }
            },
            "src/p.ts": "export const p = 1;\n",
            "src/index.ts": "import { p } from 'p';\nconsole.log('loaded', p);\n",
            "node_modules/p/package.json": {"name": "p", "version": "1.0.0", "type": "module", "main": "main.js"},
            "node_modules/p/main.js": "export const p = 2;\n",
        },
        None,
        None,
    ),
    "a mis-cased extensionless import is said to be one": (
        {"src/index.ts": "// @ts-ignore\nimport './Helper';\nconsole.log('loaded');\n", "src/helper.mjs": ""},
        "case-mismatch",
        "ERR_MODULE_NOT_FOUND",
    ),
}


@pytest.mark.parametrize("case", list(COMPILED_ESM))
def test_an_import_in_typescript_compiled_to_esm_gets_the_verdict_of_node_on_the_output(tmp_path, case):
    files, rule, node_error = COMPILED_ESM[case]
    manifest = {"name": "app", "type": "module", "scripts": {"build": "tsc", "start": "node dist/index.js"}}
    options = {"module": "esnext", "target": "es2022", "outDir": "dist", "rootDir": "src"}
    root = write_tree(
        tmp_path / "app", {"package.json": manifest, "tsconfig.json": {"compilerOptions": options}, **files}
    )
    found = [f.rule for f in check(root).errors]
    built = run_command(root, typescript_tool("tsc"))
    assert built.returncode == 0, built.stdout
    _agree(run_command(root, "node", "dist/index.js"), node_error, found, rule)


def _agree(done: subprocess.CompletedProcess, error: str | None, found: list[str], blocked: str | None) -> None:
    """The run (node or tsx) loaded and the check ``found`` nothing, or it failed with ``error`` and the check
    found just ``blocked``."""
    if error is None:
        assert done.returncode == 0 and "loaded" in done.stdout, done.stderr
        assert found == [], found
    else:
        assert done.returncode != 0 and error in done.stderr, done.stderr
        assert found == [blocked], found


def test_require_looks_past_a_folder_it_may_enter_but_not_list(tmp_path):
    """src/ is enter-only (mode 711) for the user the service runs as: node still finds node_modules/q one
    level up, and so does the check (a clear verdict, not a crash)."""
    with other_user.shared_folder() as shared:
        files = {**CJS_Q, "src/index.js": "require('q');\n" + LOADED}
        root = write_tree(shared / "app", {"package.json": CJS, **files})
        (root / "src").chmod(0o711)
        ran = other_user.node(root, "src/index.js")
        checked = other_user.deploysafe_check(shared, root, "--entry", "src/index.js")
    assert ran.returncode == 0 and "loaded" in ran.stdout, ran.stderr
    assert checked.returncode == 0 and "· 0 errors ·" in checked.stdout, checked.stdout + checked.stderr


def test_require_of_a_url_fails_as_in_node(tmp_path):
    """require() takes no file: or data: URL (node: "Cannot find module 'file:///...'"), though import does."""
    root = write_tree(tmp_path / "app", {"package.json": CJS, "local.js": "module.exports = 1;\n"})
    for specifier in ((root / "local.js").as_uri(), "data:text/javascript,module.exports = 1"):
        (root / "index.js").write_text(f"require({specifier!r});\n" + LOADED)
        finding = _only_finding(root, "Cannot find module")
        assert finding.rule == "unresolved-import" and "not a URL" in finding.message, finding.message


def test_a_package_import_with_no_package_json_above_is_not_defined(tmp_path):
    """import '#a' in a file with no package.json anywhere above: node says ERR_PACKAGE_IMPORT_NOT_DEFINED."""
    root = write_tree(tmp_path / "app", {"index.mjs": "import '#a';\n" + LOADED})
    assert not any((parent / "package.json").exists() for parent in root.parents)
    done = run_node(root, "index.mjs")
    assert done.returncode != 0 and "ERR_PACKAGE_IMPORT_NOT_DEFINED" in done.stderr, done.stderr
    [finding] = check(root, ["index.mjs"]).errors
    assert finding.message.endswith('Package import specifier "#a" is not defined'), finding.message


# index.ts run by tsx (type of the app's package.json, files, tsx's error or None, the check's finding message)
UNDER_TSX: dict[str, tuple[str, dict, str | None, str | None]] = {
    # tsconfig "paths" names no file: tsx falls back to node_modules with the import's own conditions
    "an alias with no file falls back to a package, as import": (
        "module",
        {"node_modules/p/package.json": {"name": "p", "exports": {"import": "./main.mjs"}}},
        None,
        None,
    ),
    "an alias with no file falls back to a package, as require()": (
        "commonjs",
        {"node_modules/p/package.json": {"name": "p", "exports": {"import": "./main.mjs"}}},
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
        "crashes at start: Cannot find module 'p' imported from index.ts (no file at gone/p)",
    ),
    # an ES module's extensionless import finds no native addon (and no advice to import one)
    "an extensionless import beside a .node file": (
        "module",
        {"addon.node": "not an addon", "index.ts": "import './addon';\nconsole.log('loaded');\n"},
        "ERR_MODULE_NOT_FOUND",
        "crashes at start: Cannot find module './addon' imported from index.ts (no file at addon)",
    ),
}


@pytest.mark.parametrize("case", list(UNDER_TSX))
def test_a_typescript_import_gets_the_verdict_of_tsx(tmp_path, case):
    kind, files, tsx_error, message = UNDER_TSX[case]
    base = {
        "package.json": {"name": "app", "version": "1.0.0", "type": kind, "dependencies": {"p": "1.0.0"}},
        "tsconfig.json": {"compilerOptions": {"paths": {"p": ["./gone/p"]}}},
        "node_modules/p/main.mjs": "export const p = 1;\n",
        "index.ts": "import { p } from 'p';\nconsole.log('loaded', p);\n",
    }
    root = write_tree(tmp_path / "app", {**base, **files})
    done = run_command(root, typescript_tool("tsx"), "index.ts")
    _agree(done, tsx_error, [f.message for f in check(root, ["index.ts"]).errors], message)


def test_a_commonjs_typescript_import_finds_a_native_addon_as_require_does(tmp_path):
    """import './addon' in TypeScript that tsx runs as CommonJS is require('./addon'): it loads addon.node
    (bcrypt's prebuilt N-API addon here); the check agrees, as tsx does (an ES module finds none, above)."""
    bcrypt = installed("bcrypt6", {"dependencies": {"bcrypt": "6.0.0"}}) / "node_modules/bcrypt"
    files = {"index.ts": "import * as addon from './addon';\nconsole.log('loaded', typeof addon);\n"}
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app", "version": "1.0.0"}, **files})
    shutil.copyfile(bcrypt / "prebuilds/linux-x64/bcrypt.glibc.node", root / "addon.node")
    done = run_command(root, typescript_tool("tsx"), "index.ts")
    assert done.returncode == 0 and "loaded object" in done.stdout, done.stderr
    report = check(root, ["index.ts"])
    assert (report.errors, report.unverified) == ([], []), (report.errors, report.unverified)
