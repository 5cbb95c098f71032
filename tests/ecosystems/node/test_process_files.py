"""A PM2 process file in JavaScript is read with the grammars once per content: the next check of the same
file takes its apps from the cache and never loads tree-sitter, and says the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.projects import run_node, write_tree

PROCESS_FILE = """module.exports = {
  apps: [
    { name: 'web', script: './server.js' },
    // { name: 'old', script: './old.js' },
    { name: 'jobs', script: require('path').join(__dirname, 'jobs.js') },
  ],
};
"""


def _check(root, cache):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "deploysafe", "check", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DEPLOYSAFE_CACHE_DIR": str(cache)},
    )
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, json.loads(done.stdout), imported


def test_an_unchanged_process_file_is_not_parsed_again(tmp_path):
    root = write_tree(
        tmp_path / "svc",
        {
            "package.json": {"name": "svc", "version": "1.0.0"},
            "ecosystem.config.js": PROCESS_FILE,
            "server.js": "require('./lib');\n",
            "lib.js": "module.exports = 1;\n",
            "jobs.js": "module.exports = 2;\n",
        },
    )
    first, report, imported = _check(root, tmp_path / "cache")
    assert first.returncode == 0, first.stderr[-2000:]
    assert report["entries"] == ["server.js"] and "tree_sitter" in imported
    assert [u["file"] for u in report["unverified"]] == ["ecosystem.config.js"]  # the computed script

    again, report_again, imported = _check(root, tmp_path / "cache")
    assert again.returncode == 0
    assert not [name for name in imported if name.startswith("tree_sitter")]
    assert {**report_again, "seconds": 0} == {**report, "seconds": 0}
    assert run_node(root, "server.js").returncode == 0

    (root / "ecosystem.config.js").write_text(PROCESS_FILE.replace("./server.js", "./lib.js"))
    _, report_edited, imported = _check(root, tmp_path / "cache")  # new content: read again
    assert report_edited["entries"] == ["lib.js"] and "tree_sitter" in imported
