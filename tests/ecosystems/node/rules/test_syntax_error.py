"""`syntax-error` on a file deploysafe does not parse: said as unverified at the file's start, never blocked
(node loads it). The node/tsx-confirmed syntax verdicts are in tests/check."""

from __future__ import annotations

from deploysafe import check
from deploysafe.check import sources
from deploysafe.check.findings import UNREADABLE
from deploysafe.ecosystems.node import confirm
from tests.support.projects import run_node, write_tree


def test_a_file_over_the_size_limit_is_unverified_at_its_start_and_node_loads_it(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_SOURCE_BYTES", 1024 * 1024)  # 16 MiB in use; a smaller file says the same
    big = "const table = [\n" + "  1,\n" * 300_000 + "];\nconsole.log('loaded', table.length);\n"
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app", "version": "1.0.0"}, "big.js": big})
    report = check(root, ["big.js"])
    assert report.errors == []
    assert [(u.reason, u.file, u.line, u.column, u.detail) for u in report.unverified] == [
        (UNREADABLE, "big.js", 1, 1, "big.js: larger than 1 MiB; not parsed")
    ]
    done = run_node(root, "big.js")
    assert done.returncode == 0 and done.stdout.strip() == "loaded 300000", done.stderr


def test_past_the_files_node_checks_the_grammar_s_word_blocks_as_it_is(tmp_path, monkeypatch):
    """Node confirms both files fail; the second is blocked on the grammar's word alone, and says so by not
    naming a judge."""
    monkeypatch.setattr(confirm, "MAX_CONFIRMATIONS", 1)  # 64 in use: the first broken file is checked, not the next
    broken = {"a.js": "const a = { x: 1 ;\n", "b.js": "console.log(\n  'a',\n  'b'\n\nconsole.log('c');\n"}
    index = "require('./a.js');\nrequire('./b.js');\nconsole.log('loaded');\n"
    root = write_tree(
        tmp_path / "app", {"package.json": {"name": "app", "version": "1.0.0"}, "index.js": index, **broken}
    )
    report = check(root, ["index.js"])
    assert [(f.file, f.line, f.column, f.message) for f in report.errors] == [
        ("a.js", 1, 18, "crashes at start: SyntaxError: Unexpected token ';' (confirmed by node --check)"),
        ("b.js", 3, 3, "crashes at start: SyntaxError: Unexpected string"),  # the grammar's first word, unchecked
    ]
    for name in broken:
        done = run_node(root, name)
        assert done.returncode != 0 and "SyntaxError: " in done.stderr, done.stderr
