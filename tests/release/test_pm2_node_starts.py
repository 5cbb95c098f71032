"""The node processes an in-place pm2 deploy and a rollback start on a local host, counted by a logging
``node`` first on the target's PATH: one read of pm2's list before the restart (preflight's, shared), no
``node`` for the boot test's port, for the recorded node version or for the outgoing release's app names.
The same walk shows the rollback's window: the release it puts back passed here before, so it needs pm2's own
second up, not the target's pm2_min_uptime."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from deploysafe import release

from .conftest import current_of, fast, serving

pytestmark = pytest.mark.slow


def _logging_node(directory: Path, log: Path) -> Path:
    """A ``node`` that appends its arguments (one line, first 200 characters) to ``log``, then is node."""
    real = subprocess.run(["sh", "-c", "command -v node"], capture_output=True, text=True, check=True).stdout.strip()
    directory.mkdir(parents=True)
    wrapper = directory / "node"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$(printf '%s ' \"$@\" | tr '\\n' ' ' | cut -c1-200)\" >> '{log}'\n"
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    return directory


def _starts(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    log.write_text("")
    return lines


def _before_restart(starts: list[str]) -> list[str]:
    """The node starts before pm2's ``startOrReload`` (the pm2 CLI is a node script)."""
    restart = next(i for i, line in enumerate(starts) if "startOrReload" in line)
    return starts[:restart]


def test_in_place_pm2_deploy_and_rollback_start_node_only_where_they_must(pm2, example, host_root, live_port, tmp_path):
    log = tmp_path / "node.log"
    path = f"{_logging_node(tmp_path / 'bin', log)}{os.pathsep}{os.environ['PATH']}"
    spec = release.target(
        str(host_root),
        config={},
        pm2="ecosystem.config.cjs",
        pm2_bin=str(pm2.binary),
        pm2_min_uptime=4.0,
        health=f"http://127.0.0.1:{live_port}/health",
        health_expect="healthy",
        env={"PORT": str(live_port), **pm2.env, "PATH": path},
    )
    spec = fast(spec).with_overrides(health_deadline=10.0)
    first = release.deploy(example.build("1.4.0", port=live_port), spec)
    _starts(log)

    second = release.deploy(example.build("1.5.0", port=live_port), spec)
    deployed = _starts(log)
    back = release.rollback(spec)
    rolled = _starts(log)

    assert serving(live_port) == {"status": "healthy", "version": "1.4.0"}
    # a new release waits out pm2_min_uptime (counted from pm2's start of the app, within `restart`); the
    # release rolled back to passed here before: pm2's own second
    took = {s.step: s.seconds for s in second.steps}
    assert took["restart"] + took["health"] >= 3.95
    assert next(s for s in back.steps if s.step == "health").seconds < 3.0
    assert current_of(host_root) == back.release == first.release != second.release
    snapshot = "deploysafe-pm2-snapshot"
    # the deploy: preflight's read of pm2's list serves the restart; the boot test's port needs no node
    assert [line for line in _before_restart(deployed) if snapshot in line] == [deployed[0]]
    assert not [line for line in deployed if "createServer" in line or line.strip() == "--version"]
    assert any(line.startswith("src/index.js") for line in deployed)  # the boot test still runs on node
    # the rollback: one read; the outgoing release's apps come from its deploy's record
    assert sum(snapshot in line for line in _before_restart(rolled)) == 1
    assert not [line for line in rolled if "resolve(process.argv[1])" in line or line.strip() == "--version"]
    history = [json.loads(line) for line in (host_root / ".deploysafe" / "history.jsonl").read_text().splitlines()]
    assert history[-2]["release"] == second.release and history[-2]["pm2_apps"] == ["seed-api", "seed-email-worker"]
    # the version recorded is the one the host's node prints
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    recorded = json.loads((host_root / ".deploysafe" / "node.json").read_text())
    assert (recorded["version"], recorded["release"]) == (node.removeprefix("v"), first.release)
