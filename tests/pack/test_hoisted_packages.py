"""pack judges self-containment as check does: an undeclared package the packed lockfile installs at the
top level (hoisted) is present on the host, a package neither declared nor locked is an error. npm ci from
the packed lockfile and real node on the unpacked artifact are the judges."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from deploysafe import check
from deploysafe.pack import PackError, pack
from tests.support.npm_cache import installed
from tests.support.projects import run_node, write_tree

pytestmark = pytest.mark.slow

# express 4.21.2 installs debug at the top level of node_modules: importing it undeclared works by hoisting.
SERVICE = {"name": "hoisted", "version": "1.0.0", "main": "index.js", "dependencies": {"express": "4.21.2"}}


def service(tmp_path: Path, code: str) -> Path:
    packages = installed("hoisted-express", SERVICE)
    root = tmp_path / "svc"
    shutil.copytree(packages, root, symlinks=True)
    write_tree(root, {"index.js": code})
    return root


def test_an_undeclared_package_the_lockfile_installs_stays_a_warning_and_the_artifact_runs(tmp_path):
    root = service(
        tmp_path, "const express = require('express');\nconst debug = require('debug');\nconsole.log('loaded');\n"
    )
    report = check(root)
    assert report.errors == [] and [f.rule for f in report.warnings] == ["undeclared-dependency"]

    result = pack(root, output=tmp_path / "out" / "a.tar.gz")
    assert result.verification is not None and result.verification.self_contained
    assert result.verification.undeclared_from_lockfile == ["debug"]
    assert [f.rule for f in result.verification.report.errors] == ["missing-package"]  # without node_modules

    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with tarfile.open(result.path) as archive:
        archive.extractall(unpacked, filter="data")
    subprocess.run(
        ["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"],
        cwd=unpacked,
        check=True,
        capture_output=True,
    )
    done = run_node(unpacked, "index.js")
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr


def test_a_package_neither_declared_nor_locked_stops_pack(tmp_path):
    root = service(tmp_path, "require('express');\nrequire('left-pad');\nconsole.log('loaded');\n")
    assert [(f.rule, f.specifier) for f in check(root).errors] == [("missing-package", "left-pad")]
    assert run_node(root, "index.js").returncode != 0
    with pytest.raises(PackError, match="missing-package"):
        pack(root, output=tmp_path / "out" / "b.tar.gz")
    forced = pack(root, output=tmp_path / "out" / "c.tar.gz", force=True)
    assert forced.verification is not None and not forced.verification.self_contained
    assert [(f.rule, f.specifier) for f in forced.verification.errors] == [("missing-package", "left-pad")]
    assert forced.verification.undeclared_from_lockfile == []
    assert json.loads((root / "package-lock.json").read_text())["packages"].get("node_modules/left-pad") is None
