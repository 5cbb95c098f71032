"""A good deploy records the Node version the target runs (.deploysafe/node.json); checking or packing for
that target (`--to`, `deploy ROOT`) then judges against it instead of the engines lower bound."""

from __future__ import annotations

import json
import subprocess

from deploysafe import check, release
from deploysafe.release.node_record import runtime_for
from tests.support.projects import run_cli, write_tree

from .conftest import current_of

# require() of an ES module: fails on Node 18, loads on Node 20.19 and later (this machine's node).
SERVICE = {
    "package.json": {
        "name": "api",
        "version": "1.0.0",
        "engines": {"node": ">=18"},
        "scripts": {"start": "node index.js"},
    },
    "index.js": "const { x } = require('./esm.mjs');\nconsole.log('loaded', x);\n",
    "esm.mjs": "export const x = 1;\n",
}


def test_the_target_node_recorded_by_a_deploy_is_the_version_checked_for_it(
    make_artifact, local_spec, host_root, tmp_path
):
    done = release.deploy(make_artifact("1.0.0"), local_spec)
    assert done.status == "good"
    here = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip().lstrip("v")
    recorded = json.loads((host_root / ".deploysafe" / "node.json").read_text())
    assert recorded["version"] == here and recorded["release"] == current_of(host_root)
    assert any(s.step == "mark-good" and f"on node {here}" in s.detail for s in done.steps)

    root = write_tree(tmp_path / "api", SERVICE)
    assert [f.rule for f in check(root).errors] == ["require-of-esm"]  # engines' 18.0.0, as without a target
    runtime, _ = runtime_for(local_spec)
    assert runtime is not None and runtime.version == here
    report = check(root, node_version=runtime)
    assert report.errors == [] and str(report.node) == here
    assert report.node.source.startswith(f"target {host_root}'s node --version, recorded after the deploy of")
    started = subprocess.run(["node", "index.js"], cwd=root, capture_output=True, text=True, timeout=30)
    assert started.returncode == 0 and started.stdout == "loaded 1\n"

    cli = run_cli("check", str(root), "--to", str(host_root))
    assert cli.returncode == 0 and f"node  {here} (target {host_root}'s node --version" in cli.stdout
    none_yet = run_cli("check", str(root), "--to", str(tmp_path / "elsewhere"))
    assert none_yet.returncode == 1 and "has no recorded Node version yet" in none_yet.stderr
