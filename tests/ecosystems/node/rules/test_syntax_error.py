"""`syntax-error` on a file deploysafe does not parse: said as unverified at the file's start, never blocked
(node loads it). The node/tsx-confirmed syntax verdicts are in tests/check."""

from __future__ import annotations

from deploysafe import check
from deploysafe.check import sources
from deploysafe.check.findings import UNREADABLE
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
