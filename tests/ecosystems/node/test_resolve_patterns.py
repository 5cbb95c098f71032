"""Pins the resolver's reading of "exports" targets and conditions, tsconfig `paths` patterns and the
validity of a bare specifier (src/deploysafe/ecosystems/node/resolve.py), each in a small project that
real node (JavaScript) or tsx (TypeScript) runs: deploysafe's verdict on the entry must be the tool's.

- an "exports" object whose keys are all subpaths has no main: `import 'p'` is not exported;
- a subpath pattern that does not match gives way to the next one (longest prefix first);
- a bare name as an "exports" target, alone or as the only entry of an array, is an invalid target;
- an array of conditions none of which matches leaves the main undefined (not exported);
- `@scope` without a package name, or a name starting with a dot (even one installed), is an invalid specifier;
- a tsconfig `paths` alias whose targets are all missing falls back to an installed package of that name;
- a `paths` pattern matches only a specifier with both its prefix and its suffix (else baseUrl applies);
- an alias target missing only by letter case is reported as a case mismatch, naming the file on disk;
- a pattern whose suffix does not match is passed over; a bare name as a subpath target, or an imports
  target leaving the package, is invalid, and the finding names it;
- `/#x` and `file://?x` name the root folder (a directory import); require() keeps `?v=1` in the file name;
- `@scope/` is the package in node_modules/@scope; a missing alias names its first target; `./data.json`
  is not data.json.ts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploysafe import check
from tests.support import tools
from tests.support.projects import run_node, write_tree

LOADED = "console.log('loaded');\n"
APP = {"name": "app", "version": "1.0.0", "type": "module", "dependencies": {"p": "1.0.0", "q": "1.0.0"}}
MAIN = {"node_modules/p/main.js": "export const p = 1;\n", "node_modules/q/index.js": "export const q = 1;\n"}


def pkg(exports: object) -> dict:
    """node_modules/p/package.json (an ES module package) with ``exports``; q is installed beside it."""
    return {
        "node_modules/p/package.json": {"name": "p", "version": "1.0.0", "type": "module", "exports": exports},
        "node_modules/q/package.json": {"name": "q", "version": "1.0.0", "type": "module", "main": "index.js"},
        **MAIN,
    }


# id: (files besides the app's package.json and index.js, index.js's import, node's error or None)
CASES: dict[str, tuple[dict, str, str | None]] = {
    "exports with only subpath keys has no main": (
        pkg({"./main": "./main.js"}),
        "import 'p';\n",
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "a longer pattern that does not match gives way to a shorter one": (
        {**pkg({"./a/b/*": "./gone/*.js", "./*": "./lib/*.js"}), "node_modules/p/lib/c.js": ""},
        "import 'p/c';\n",
        None,
    ),
    "a bare name as the exports main is an invalid target": (
        pkg({".": "q"}),
        "import 'p';\n",
        "ERR_INVALID_PACKAGE_TARGET",
    ),
    "an array whose only target is a bare name is invalid": (
        pkg({".": ["q"]}),
        "import 'p';\n",
        "ERR_INVALID_PACKAGE_TARGET",
    ),
    "an array of conditions none matches is not exported": (
        pkg({".": [{"worker": "./main.js"}]}),
        "import 'p';\n",
        "ERR_PACKAGE_PATH_NOT_EXPORTED",
    ),
    "a scope without a package name is an invalid specifier": (
        {},
        "import '@scope';\n",
        "ERR_INVALID_MODULE_SPECIFIER",
    ),
    "a package name starting with a dot is invalid even when installed": (
        {
            "node_modules/.hidden/package.json": {"name": ".hidden", "version": "1.0.0", "main": "index.js"},
            "node_modules/.hidden/index.js": "",
        },
        "import '.hidden';\n",
        "ERR_INVALID_MODULE_SPECIFIER",
    ),
}


def agree_with_node(root: Path, errors: list, node_error: str | None) -> None:
    """node runs index.js: it loads when deploysafe found no error, else it fails with ``node_error``."""
    done = run_node(root, "index.js")
    output = done.stdout + done.stderr
    if node_error is None:
        assert done.returncode == 0 and "loaded" in output and errors == [], output
    else:
        assert done.returncode != 0 and node_error in output and errors, output


@pytest.mark.parametrize("case", list(CASES))
def test_an_exports_pattern_or_specifier_gets_nodes_verdict(tmp_path, case):
    files, source, node_error = CASES[case]
    root = write_tree(tmp_path / "app", {"package.json": APP, **files, "index.js": source + LOADED})
    errors = check(root, ["index.js"]).errors
    agree_with_node(root, errors, node_error)
    if node_error is not None:
        assert [(f.rule, f.file) for f in errors] == [("unresolved-import", "index.js")], errors


TS_APP = {"package.json": {"name": "app", "version": "1.0.0", "type": "module", "dependencies": {"p": "1.0.0"}}}


def judged(root: Path) -> list:
    """deploysafe's errors on src/index.ts, after requiring that tsx agrees on whether it loads."""
    report = check(root, ["src/index.ts"])
    done = subprocess.run([str(tools.tsx()), "src/index.ts"], cwd=root, capture_output=True, text=True, timeout=60)
    loads = done.returncode == 0 and "loaded" in done.stdout
    assert (not report.errors) is loads, f"deploysafe says {report.errors}; tsx: {done.stderr[-800:]}"
    return report.errors


def test_tsconfig_paths_fall_back_to_a_package_and_match_prefix_and_suffix_both(tmp_path):
    """`p` is aliased to a folder that does not exist: tsx loads the installed package p. `lib/*.gen`
    does not match `lib/util` (no `.gen` suffix), so baseUrl finds lib/util.ts."""
    files = {
        **TS_APP,
        "tsconfig.json": '{"compilerOptions": {"baseUrl": ".", "paths": '
        '{"p": ["./vendor/p"], "lib/*.gen": ["./generated/*.gen.ts"]}}}\n',
        "node_modules/p/package.json": '{"name": "p", "version": "1.0.0", "type": "module", "main": "main.js"}\n',
        "node_modules/p/main.js": "export const p = 1;\n",
        "lib/util.ts": "export const u = 2;\n",
        "src/index.ts": "import { p } from 'p';\nimport { u } from 'lib/util';\nconsole.log(p, u);\n" + LOADED,
    }
    assert judged(write_tree(tmp_path / "app", files)) == []


def test_an_alias_target_missing_by_letter_case_is_a_case_mismatch(tmp_path):
    files = {
        **TS_APP,
        "tsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./src/*"]}}}\n',
        "src/Util.ts": "export const u = 1;\n",
        "src/index.ts": "import { u } from '@/util';\nconsole.log(u);\n" + LOADED,
    }
    [finding] = judged(write_tree(tmp_path / "app", files))
    assert finding.rule == "case-mismatch" and "('util.ts' is 'Util.ts' on disk" in finding.message, finding.message


# id: (files besides index.js, index.js's import, node's error or None, what deploysafe's finding must say)
NAMED: dict[str, tuple[dict, str, str | None, str]] = {
    "a pattern whose suffix does not match gives way to a shorter one": (
        {**pkg({"./a/*.js": "./gone/*.js", "./a/*": "./lib/*"}), "node_modules/p/lib/x.cjs": "module.exports = 1;\n"},
        "import 'p/a/x.cjs';\n",
        None,
        "",
    ),
    "a bare name as an exports subpath target is invalid": (
        pkg({"./x": "q"}),
        "import 'p/x';\n",
        "ERR_INVALID_PACKAGE_TARGET",
        'target "q"',
    ),
    "an imports target leaving the package is invalid": (
        {"package.json": {**APP, "imports": {"#up": "../outside.js"}}, "../outside.js": LOADED},
        "import '#up';\n",
        "ERR_INVALID_PACKAGE_TARGET",
        'target "../outside.js"',
    ),
    "a hash after the root is cut off: the root is a directory": (
        {},
        "import '/#x';\n",
        "ERR_UNSUPPORTED_DIR_IMPORT",
        "Directory import",
    ),
    "the file URL file://?x names the root, a directory": (
        {},
        "import 'file://?x';\n",
        "ERR_UNSUPPORTED_DIR_IMPORT",
        "Directory import",
    ),
    "require() reads a query as part of the file name": (
        {"lib.cjs": "require('./x.cjs?v=1');\n", "x.cjs": ""},
        "import './lib.cjs';\n",
        "MODULE_NOT_FOUND",
        "'./x.cjs?v=1'",
    ),
    "a scope folder with a package.json loads as the package '@scope/'": (
        {
            "node_modules/@scope/package.json": {"name": "@scope", "version": "1.0.0", "main": "index.js"},
            "node_modules/@scope/index.js": "",
        },
        "import '@scope/';\n",
        None,
        "",
    ),
}


@pytest.mark.parametrize("case", list(NAMED))
def test_an_exports_or_imports_target_is_judged_and_named_as_node_does(tmp_path, case):
    files, source, node_error, says = NAMED[case]
    tree = {"package.json": APP, **files, "index.js": source + LOADED}
    root = write_tree(tmp_path / "app", {k: v for k, v in tree.items() if not k.startswith("../")})
    write_tree(tmp_path, {k[3:]: v for k, v in tree.items() if k.startswith("../")})
    errors = check(root, ["index.js"]).errors
    agree_with_node(root, errors, node_error)
    if node_error is not None:
        [finding] = errors
        assert finding.rule == "unresolved-import" and says in finding.message, finding.message


def test_a_missing_alias_names_its_first_target_and_a_json_import_gets_no_extension(tmp_path):
    """Neither target of `@app/*` has util.ts: the finding names the first, as tsc does. `./data.json`
    is not data.json.ts (tsx fails)."""
    files = {
        **TS_APP,
        "tsconfig.json": '{"compilerOptions": {"paths": {"@app/*": ["./src/gen/*", "./lib/*"]}}}\n',
        "src/data.json.ts": "export const v = 1;\n",
        "src/index.ts": "import '@app/util';\n" + LOADED,
        "src/json.ts": "import { v } from './data.json';\nconsole.log(v);\n" + LOADED,
    }
    root = write_tree(tmp_path / "app", files)
    [finding] = judged(root)
    assert "src/gen/util" in finding.message and "lib/util" not in finding.message, finding.message
    report = check(root, ["src/json.ts"])
    done = subprocess.run([str(tools.tsx()), "src/json.ts"], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr, done.stderr[-800:]
    assert [f.rule for f in report.errors] == ["unresolved-import"], report.errors
