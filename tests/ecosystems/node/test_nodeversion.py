"""The lowest Node version an engines.node range admits is npm's own answer (semver.minVersion), for every
range form: >, >=, ^, ~, x-ranges, ||, hyphen ranges, prereleases, and ranges that admit nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deploysafe.check.ecosystem import RuntimeChoice
from deploysafe.ecosystems.node.nodeversion import admits, assume, local_node, lowest_in_range
from deploysafe.errors import ConfigError
from tests.support.npm_cache import installed

RANGES = [
    ">20",
    ">=20",
    ">=20.0.0",
    ">20.1.2",
    ">=18.17.0",
    "=20.3.1",
    "20.3.1",
    "v20",
    "20",
    "20.x",
    "20.1.x",
    "20.*",
    "^20",
    "^20.1",
    "^20.1.2",
    "^0.2.3",
    "^0.0.3",
    "~20",
    "~20.1",
    "~20.1.2",
    "18 - 20",
    "18.1 - 20.2.3",
    "^18 || ^20",
    ">=22 || >=20.19",
    "^16.14.0 || >=18.0.0",
    ">=20 <22",
    ">=20.0.0 <20.5",
    ">20 <=21",
    "<22 >=20.5",
    ">=20.0.0-rc.1",
    ">20.1.2-beta.1",
    "^20.0.0-0",
    "~20.1.0-rc.2",
    ">=20.0.0-rc.1 <20.0.0",
    ">=20 <19",
    ">1.2.3 <1.2.2",
    "*",
    "",
    "x",
    "<20",
    "<=20.1",
    "latest",
    "node >= 20",
    ">= 20",
    ">=  20.9 ",
]


SEMVER = {"name": "semver-oracle", "private": True, "dependencies": {"semver": "7.8.6"}}


def test_lowest_admitted_version_is_npm_semver_min_version() -> None:
    semver = installed("npm-semver", SEMVER)
    script = "const s=require('semver');console.log(JSON.stringify(JSON.parse(process.argv[1]).map(r=>{try{const v=s.minVersion(r);return v&&[v.major,v.minor,v.patch]}catch{return null}})))"
    done = subprocess.run(
        ["node", "-e", script, json.dumps(RANGES)], cwd=semver, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    npm = dict(zip(RANGES, json.loads(done.stdout), strict=True))
    ours = {}
    for spec in RANGES:
        lowest = lowest_in_range(spec, "engines.node")
        ours[spec] = [lowest.major, lowest.minor, lowest.patch] if lowest else None
    # no lower bound: npm says 0.0.0, deploysafe assumes no Node from it (the local node is taken instead)
    expected = {spec: (None if answer == [0, 0, 0] else answer) for spec, answer in npm.items()}
    assert ours == expected
    assert expected[">20"] == [21, 0, 0] and expected[">=20.0.0-rc.1"] == [20, 0, 0]


# `deploysafe doctor`: does engines.node admit this node? (range, `node --version`)
ADMITS = [
    (">=20", "v20.11.1"),
    (">=20", "v18.20.8"),
    ("^20.19 || >=22.12", "v22.11.0"),
    ("^20.19 || >=22.12", "v22.12.0"),
    ("20.x", "20.0.0"),
    (">=20.0.0-rc.1", "v20.0.0"),
    ("latest", "v20.11.1"),
    (">=20", "twenty"),
    ("1.2.3beta", "v1.2.3"),
]


def test_a_range_admits_a_version_as_npm_semver_satisfies_says() -> None:
    semver = installed("npm-semver", SEMVER)
    script = (
        "const s=require('semver');console.log(JSON.stringify(JSON.parse(process.argv[1]).map(([r,v])=>"
        "s.validRange(r)&&s.valid(v)?s.satisfies(v,r):null)))"
    )
    done = subprocess.run(
        ["node", "-e", script, json.dumps(ADMITS)], cwd=semver, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    npm = json.loads(done.stdout)
    assert [admits(spec, version) for spec, version in ADMITS] == npm
    assert npm[:4] == [True, False, False, True]


def test_the_node_assumed_is_the_first_source_that_names_one(tmp_path, monkeypatch) -> None:
    """--node, then deploysafe.toml, then engines.node's lowest version, then the node on PATH, then 20.0.0."""

    def said(version) -> tuple[str, str]:
        return str(version), version.source

    recorded = RuntimeChoice("22.11.0", "target web runs it")
    assert said(assume(recorded, "22.x", ">=20.19")) == ("22.11.0", "target web runs it")
    assert said(assume("18", "22.x", ">=20.19")) == ("18.0.0", "--node")
    assert said(assume(None, "22.x", ">=20.19")) == ("22.0.0", "deploysafe.toml [check] node")
    assert said(assume(None, None, ">=20.19")) == (
        "20.19.0",
        "lowest version package.json engines.node '>=20.19' admits",
    )
    monkeypatch.setenv("PATH", str(tmp_path))  # no node here
    local_node.cache_clear()
    try:
        assert said(assume(None, None, "*")) == ("20.0.0", "default (no node found, no engines.node)")
    finally:
        local_node.cache_clear()


def test_a_node_version_someone_wrote_that_is_not_one_is_a_config_error(tmp_path) -> None:
    """--node banana (or [check] node = "lts") is refused with exit 2, not passed over for engines.node; a
    target's recorded version that does not parse is passed over."""
    (tmp_path / "package.json").write_text('{"name": "a", "main": "index.js", "engines": {"node": ">=20.19"}}')
    (tmp_path / "index.js").write_text("module.exports = 1;\n")
    done = subprocess.run(
        [sys.executable, "-m", "deploysafe", "check", str(tmp_path), "--node", "banana"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "deploysafe: error: --node 'banana' is not a Node version: give one like 20, 20.19 or v20.19.1"
    ]
    with pytest.raises(ConfigError, match=r"deploysafe.toml \[check\] node 'lts' is not a Node version"):
        assume(None, "lts", ">=20.19")
    assert str(assume(RuntimeChoice("unknown", "target web runs it"), None, ">=20.19")) == "20.19.0"
