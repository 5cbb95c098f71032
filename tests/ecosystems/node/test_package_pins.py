"""Facts of installed package files found by the package's version and integrity, without reading the files;
a file changed after the install (as patch-package does) is read again. Real npm install, node as the judge."""

from __future__ import annotations

import shutil

from deploysafe.check import pipeline, sources
from tests.support.npm_cache import installed
from tests.support.projects import run_node


def test_a_warm_check_reads_no_pinned_package_file_and_a_patched_one_is_read_again(tmp_path, monkeypatch):
    packages = installed("ms", {"dependencies": {"ms": "2.1.3"}})
    root = tmp_path / "svc"
    shutil.copytree(packages, root, ignore=shutil.ignore_patterns(".deploysafe-installed"))
    (root / "index.js").write_text("const ms = require('ms');\nconsole.log(ms('2 days'));\n")
    monkeypatch.setenv("DEPLOYSAFE_CACHE_DIR", str(tmp_path / "cache"))
    read: list[str] = []
    original = sources._read_source
    monkeypatch.setattr(sources, "_read_source", lambda path: read.append(path) or original(path))
    package_file = str((root / "node_modules" / "ms" / "index.js").resolve())

    cold = pipeline.check(root)
    assert package_file in read and cold.deployable
    read.clear()
    warm = pipeline.check(root)
    assert package_file not in read and str((root / "index.js").resolve()) in read  # the project's own: hashed
    assert {**warm.to_json(), "seconds": 0} == {**cold.to_json(), "seconds": 0}
    assert run_node(root, "index.js").returncode == 0

    patched = root / "node_modules" / "ms" / "index.js"
    patched.write_text("require('./gone');\n" + patched.read_text())  # same version and integrity, new content
    read.clear()
    after = pipeline.check(root)
    assert package_file in read
    assert [(f.rule, f.file) for f in after.errors] == [("unresolved-import", "index.js")]
    assert "Cannot find module './gone'" in run_node(root, "index.js").stderr
