"""A syntax error blocks only when the platform agrees: tree-sitter's word is checked by `node --check` for
JavaScript and by the project's TypeScript compiler for TypeScript. Valid code the grammars reject must not
block (node or tsx runs it here); real errors must block, and say which judge confirmed them; with no judge,
the error is a warning that says why it is unconfirmed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from deploysafe import check
from deploysafe.ecosystems.node.parse.javascript import Dialect, parse_module
from tests.support import tools
from tests.support.projects import run_node, write_tree

LOADED = "console.log('loaded');\n"
CJS = {"package.json": {"name": "app", "version": "1.0.0"}}
TS = {"package.json": {"name": "app", "version": "1.0.0", "scripts": {"start": "tsx src/index.ts"}}}
# Valid JavaScript the grammar rejects: a class field without initializer ends at the newline (ASI).
VALID_JS = "class Config {\n  static defaults\n  ['name'] = 'x'\n}\n" + LOADED
# Valid TypeScript (4.7 variance annotations) the grammar rejects.
VALID_TS = (
    "interface Box<in out T> { value: T }\nconst box: Box<number> = { value: 1 };\nconsole.log('loaded', box.value);\n"
)
BROKEN_JS = "const total = { a: 1 ;\n" + LOADED
BROKEN_TS = "const total: number = (1 + ;\n" + LOADED


def grammar_rejects(source: str, dialect: Dialect) -> None:
    """The premise of a second-opinion test: tree-sitter alone would call this a syntax error."""
    assert parse_module(source.encode(), dialect).syntax_errors, "the grammar accepts this now: pick another case"


def run_tsx(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(tools.tsx()), "src/index.ts"], cwd=root, capture_output=True, text=True, timeout=60)


def with_typescript(root: Path) -> Path:
    """The project's own TypeScript compiler, as `npm install typescript` leaves it."""
    (root / "node_modules").mkdir(exist_ok=True)
    os.symlink(tools.typescript(), root / "node_modules" / "typescript")
    return root


def test_valid_javascript_the_grammar_rejects_does_not_block_because_node_refutes_it(tmp_path):
    grammar_rejects(VALID_JS, Dialect.JAVASCRIPT)
    root = write_tree(
        tmp_path / "app", {**CJS, "index.js": "require('./config.js');\n" + LOADED, "config.js": VALID_JS}
    )
    report = check(root)
    assert report.findings == []
    done = run_node(root, "index.js")
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr


def test_a_real_javascript_syntax_error_blocks_confirmed_by_node(tmp_path):
    root = write_tree(tmp_path / "app", {**CJS, "index.js": "require('./usage.js');\n" + LOADED, "usage.js": BROKEN_JS})
    report = check(root)
    assert [(f.rule, f.file, f.line, f.column) for f in report.errors] == [("syntax-error", "usage.js", 1, 22)]
    assert report.errors[0].message == "crashes at start: SyntaxError: Unexpected token ';' (confirmed by node --check)"
    assert "SyntaxError" in run_node(root, "index.js").stderr
    # a token of several characters: node marks it with several carets, and the column is where they start
    (root / "usage.js").write_text("const total = 1 count;\n" + LOADED)
    report = check(root)
    assert [(f.line, f.column, f.message) for f in report.errors] == [
        (1, 17, "crashes at start: SyntaxError: Unexpected identifier 'count' (confirmed by node --check)")
    ]
    assert "Unexpected identifier 'count'" in run_node(root, "index.js").stderr

    # Where node places the error elsewhere than the grammar, node's place is given: an unterminated template
    # literal ends the input (node names line 3 and no column; the grammar stops at the backtick, 1:15).
    write_tree(root, {"usage.js": "const page = `<h1>\n" + LOADED})
    report = check(root)
    assert [(f.rule, f.file, f.line, f.column) for f in report.errors] == [("syntax-error", "usage.js", 3, 1)]
    assert (
        report.errors[0].message == "crashes at start: SyntaxError: Unexpected end of input (confirmed by node --check)"
    )
    done = run_node(root, "index.js")
    assert "usage.js:3\n" in done.stderr and "SyntaxError: Unexpected end of input" in done.stderr, done.stderr


def test_without_node_a_javascript_syntax_error_is_an_unconfirmed_warning(tmp_path, monkeypatch):
    root = write_tree(tmp_path / "app", {**CJS, "index.js": BROKEN_JS})
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    report = check(root, node_version="20.20.2")
    assert report.errors == []
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("syntax-error", "warning")]
    assert "(not confirmed: no node found)" in report.findings[0].message


def test_valid_typescript_the_grammar_rejects_does_not_block_because_tsc_refutes_it(tmp_path):
    grammar_rejects(VALID_TS, Dialect.TYPESCRIPT)
    root = with_typescript(write_tree(tmp_path / "app", {**TS, "src/index.ts": VALID_TS}))
    report = check(root)
    assert report.findings == []
    done = run_tsx(root)
    assert done.returncode == 0 and "loaded 1" in done.stdout, done.stderr


def test_a_real_typescript_syntax_error_blocks_confirmed_by_tsc_and_tsx_fails(tmp_path):
    root = with_typescript(write_tree(tmp_path / "app", {**TS, "src/index.ts": BROKEN_TS}))
    report = check(root)
    assert [(f.rule, f.file, f.line, f.column) for f in report.errors] == [("syntax-error", "src/index.ts", 1, 28)]
    assert report.errors[0].message == "crashes at start: SyntaxError: Expression expected. (confirmed by typescript)"
    done = run_tsx(root)
    assert done.returncode != 0 and "loaded" not in done.stdout


def test_without_a_typescript_compiler_a_typescript_error_is_an_unconfirmed_warning(tmp_path):
    grammar_rejects(VALID_TS, Dialect.TYPESCRIPT)
    root = write_tree(tmp_path / "app", {**TS, "src/index.ts": VALID_TS})
    report = check(root)
    assert report.errors == []
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("syntax-error", "warning")]
    assert (report.findings[0].line, report.findings[0].column) == (1, 18)
    assert report.findings[0].message == (
        "possible SyntaxError: Unexpected identifier 'out' (not confirmed: no TypeScript compiler installed in "
        "node_modules)"
    )


def test_a_judge_that_cannot_run_leaves_the_error_an_unconfirmed_warning(tmp_path, monkeypatch):
    """A `node` on PATH that cannot start (a shim whose interpreter is gone), and a TypeScript install that
    cannot load (its compiler file missing): neither judges, and the check says so instead of failing."""
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "node").write_text("#!/nonexistent/interpreter\n")
    (shims / "node").chmod(0o755)
    root = write_tree(tmp_path / "js", {**CJS, "index.js": BROKEN_JS})
    with monkeypatch.context() as patched:
        patched.setenv("PATH", str(shims))
        report = check(root, node_version="20.20.2", cache=False)
    assert report.errors == []
    assert [(f.rule, str(f.severity)) for f in report.findings] == [("syntax-error", "warning")]
    assert "(not confirmed: node --check failed to run: " in report.findings[0].message
    with monkeypatch.context() as patched:  # the TypeScript compiler runs on that node too
        patched.setenv("PATH", str(shims))
        report = check(with_typescript(write_tree(tmp_path / "ts-shim", {**TS, "src/index.ts": VALID_TS})), cache=False)
    assert [f.message.split(" (")[1] for f in report.findings] == [
        "not confirmed: the TypeScript compiler failed to run)"
    ]

    broken_compiler = {"node_modules/typescript/package.json": {"name": "typescript", "main": "lib/typescript.js"}}
    ts = write_tree(tmp_path / "ts", {**TS, **broken_compiler, "src/index.ts": VALID_TS})
    report = check(ts, cache=False)
    assert report.errors == []
    assert [f.message for f in report.findings] == [
        "possible SyntaxError: Unexpected identifier 'out' (not confirmed: the TypeScript compiler failed to run)"
    ]


def test_the_typescript_compiler_of_the_workspace_root_judges_a_package_inside_it(tmp_path):
    """npm workspaces hoist typescript to the root's node_modules: a service in packages/api is judged by it."""
    grammar_rejects(VALID_TS, Dialect.TYPESCRIPT)
    workspace = with_typescript(write_tree(tmp_path / "repo", {"package.json": {"name": "repo", "private": True}}))
    service = write_tree(workspace / "packages" / "api", {**TS, "src/index.ts": VALID_TS})
    assert check(service).findings == []
    done = run_tsx(service)
    assert done.returncode == 0 and "loaded 1" in done.stdout, done.stderr
