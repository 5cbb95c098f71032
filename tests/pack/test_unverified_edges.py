"""pack names every reachable edge computed at run time with the files it may load and the include line
that takes them, and refuses until it is covered or acknowledged; real node runs the unpacked artifacts."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from deploysafe.pack import pack
from deploysafe.pack.errors import UnverifiedEdges
from tests.support.projects import run_cli, run_node, write_tree

SERVICE = {
    "package.json": {"name": "dyn", "version": "1.0.0", "type": "module", "main": "app.js"},
    "app.js": "const name = process.env.BANK || 'a_one';\nconst bank = await import(`./banks/${name}.js`);\n"
    "console.log(bank.default);\n",
    "banks/a_one.js": "export default 'one';\n",
    "banks/b_two.js": "export default 'two';\n",
}


def unpack(artifact: Path, dest: Path) -> Path:
    dest.mkdir()
    with tarfile.open(artifact) as archive:
        archive.extractall(dest, filter="data")
    return dest


def test_an_uncovered_computed_import_stops_pack_and_names_the_include(tmp_path):
    root = write_tree(tmp_path / "svc", SERVICE)
    done = run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/")
    assert done.returncode == 1
    assert not list((tmp_path / "out").glob("*.tar.gz"))
    assert "app.js:2 import(`./banks/${name}.js`)" in done.stderr
    assert "may load banks/a_one.js, banks/b_two.js" in done.stderr
    assert 'add: [pack] include = ["banks/**"]' in done.stderr
    with pytest.raises(UnverifiedEdges):
        pack(root, output=tmp_path / "out2" / "a.tar.gz")


def test_acknowledged_it_is_packed_recorded_and_node_crashes_where_the_report_said(tmp_path):
    root = write_tree(tmp_path / "svc", SERVICE)
    result = pack(root, output=tmp_path / "out" / "a.tar.gz", allow_unverified=True)
    recorded = json.loads(result.manifest_bytes)["unverified"]
    assert recorded["allowed"] is True
    assert recorded["edges"][0]["may_load"] == ["banks/a_one.js", "banks/b_two.js"]
    done = run_node(unpack(result.path, tmp_path / "unpacked"), "app.js")
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr


def test_covered_by_the_include_it_names_the_artifact_runs(tmp_path):
    root = write_tree(tmp_path / "svc", {**SERVICE, "deploysafe.toml": '[pack]\ninclude = ["banks/**"]\n'})
    result = pack(root, output=tmp_path / "out" / "a.tar.gz")
    assert [edge.covered for edge in result.unverified] == [True]
    assert json.loads(result.manifest_bytes)["unverified"]["allowed"] is False
    done = run_node(unpack(result.path, tmp_path / "unpacked"), "app.js", env={"BANK": "b_two"})
    assert done.returncode == 0 and "two" in done.stdout, done.stderr


def test_allow_in_the_config_acknowledges_it(tmp_path):
    root = write_tree(tmp_path / "svc", {**SERVICE, "deploysafe.toml": '[pack]\nunverified = "allow"\n'})
    assert pack(root, output=tmp_path / "out" / "a.tar.gz").unverified[0].covered is False
