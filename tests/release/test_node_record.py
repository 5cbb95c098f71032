"""A good deploy records the Node version the target runs (.deploysafe/node.json); checking or packing for
that target (`--to`, `deploy ROOT`) then judges against it instead of the engines lower bound."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deploysafe import check, release
from deploysafe.pack.errors import PackBlocked
from deploysafe.release.node_record import record, runtime_for
from deploysafe.release.spec import open_target
from tests.support import tools
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


def test_deploying_a_root_is_refused_or_allowed_as_the_node_the_target_recorded_loads_it(
    local_spec, host_root, tmp_path
):
    """`deploy ROOT` packs for the target: its recorded Node, not the engines lower bound, decides."""
    root = write_tree(
        tmp_path / "api", {**SERVICE, "package.json": {**SERVICE["package.json"], "engines": {"node": ">=20.19"}}}
    )
    assert check(root).errors == []  # engines' 20.19.0 loads require(esm)
    Path(local_spec.layout.meta).mkdir(parents=True)  # a target directory deploysafe has deployed to
    target = open_target(local_spec)
    try:  # the record a good deploy on a host running Node 18.20.8 leaves (`node --version` printed there)
        assert record(target, local_spec.layout, "release-api-0.9.0", seen="v18.20.8") == "18.20.8"
    finally:
        target.close()
    with pytest.raises(PackBlocked) as refused:
        release.deploy(root, local_spec, dry_run=True)
    assert [(f.rule, f.message) for f in refused.value.report.errors] == [
        (
            "require-of-esm",
            "crashes at start: Error [ERR_REQUIRE_ESM]: require() of ES Module esm.mjs not supported on Node 18.20.8 "
            "(use import() instead)",
        )
    ]
    on_18 = subprocess.run(
        [str(tools.node("18.20.8")), "index.js"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert on_18.returncode != 0 and "ERR_REQUIRE_ESM" in on_18.stderr
    assert not (host_root / "releases").exists()

    here = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    target = open_target(local_spec)
    try:  # the host was upgraded to this machine's node, which loads it
        assert record(target, local_spec.layout, "release-api-0.9.1", seen=here) == here.lstrip("v")
    finally:
        target.close()
    planned = release.deploy(root, local_spec, dry_run=True)
    assert planned.status == "planned"
    started = subprocess.run(["node", "index.js"], cwd=root, capture_output=True, text=True, timeout=30)
    assert started.returncode == 0 and started.stdout == "loaded 1\n"
