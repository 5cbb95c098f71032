"""A swarm target in a real single-node Docker Swarm on loopback (dockerd's data under a temporary folder,
its API on a unix socket, the swarm's ports on 127.0.0.1): images from ``pack --format oci`` are rolled out
by the engine, start-first, gated on the image's HEALTHCHECK, and deploysafe reports what the engine did.

One rollout story, in order, so the swarm starts once: a first deploy creates the service; a crashing image
is rolled back by the engine and reported as a failed deploy with the task's logs; a healthy new version
rolls out; ``releases`` and ``status`` read the service; ``rollback`` puts the previous image back. During
both rollouts a bounded client in a container on the service's overlay network (no port is published on
the host) counts failed requests: none.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.containers import service
from tests.support.dockerd import Dockerd, dockerd_missing
from tests.support.projects import run_cli
from tests.support.schemas import assert_valid
from tests.support.swarm import Load, start_swarm, stop_swarm

pytestmark = pytest.mark.slow

TARGET = """
[targets.swarm]
swarm = "api"
swarm_networks = ["clients"]
swarm_monitor = 2
swarm_deadline = 120
"""


@pytest.fixture(scope="module")
def swarm() -> Iterator[Dockerd]:
    missing = dockerd_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need a real Docker daemon; scripts/system-deps installs it")
    daemon = start_swarm()
    yield daemon
    stop_swarm(daemon)


def _image(root: Path, out: Path) -> Path:
    done = run_cli("pack", str(root), "--format", "oci", "-o", str(out), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _deploy(project: Path, source: Path, daemon: Dockerd) -> tuple[subprocess.CompletedProcess, list[dict]]:
    done = run_cli(
        "deploy", str(source), "--to", "swarm", "--format", "json", cwd=project, env=daemon.env(), timeout=300
    )
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    events = [e for e in events if "event" in e]  # the error line of a failure has none (error.schema.json)
    for event in events:
        assert_valid(event, "swarm")
    return done, events


def _listeners(pid: int) -> list[str]:
    """The TCP addresses the daemon listens on, from ``ss``."""
    done = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, timeout=30)
    return [line.split()[3] for line in done.stdout.splitlines() if f"pid={pid}," in line]


def test_swarm_rolls_out_healthy_images_and_reports_the_engines_rollback_of_a_sick_one(engine, built, swarm, tmp_path):
    root, healthy = built
    project = root
    config = root / "deploysafe.toml"
    if "[targets.swarm]" not in config.read_text():
        config.write_text(config.read_text() + TARGET)
    sick_root = service(tmp_path / "sick", engine, crash="boom: the config is missing")
    sick = _image(sick_root, tmp_path / "sick.tar")
    fixed = service(tmp_path / "next", engine)  # deployed as a tree: deploy packs its image itself
    (fixed / "deploysafe.toml").write_text((fixed / "deploysafe.toml").read_text() + TARGET)
    package = json.loads((fixed / "package.json").read_text())
    (fixed / "package.json").write_text(json.dumps({**package, "version": "1.4.1"}, indent=2) + "\n")

    done, events = _deploy(project, healthy, swarm)
    assert done.returncode == 0, done.stdout + done.stderr
    result = events[-1]
    assert result["event"] == "result" and result["ok"] and result["state"] == "created"
    first = result["image"]
    assert any(e["event"] == "task" and e["state"] == "running" and e["image"] == first for e in events)
    health = swarm.docker("ps", "--format", "{{.Status}}").stdout
    assert "(healthy)" in health  # the image's HEALTHCHECK, kept through skopeo, is what swarm waited for

    load = Load(swarm, first, "api")
    done, events = _deploy(project, sick, swarm)
    during_sick = load.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    result = events[-1]
    assert result["event"] == "result", done.stdout + done.stderr
    assert not result["ok"] and result["rolled_back"] and result["image"] == first
    assert "boom: the config is missing" in "\n".join(result["logs"])  # the failing task's own output
    assert "rolled back by the engine" in done.stderr and "failure or early termination of task" in done.stderr
    assert any(e["event"] == "rollout" and e["state"] == "rollback_started" for e in events)

    load = Load(swarm, first, "api")
    done, events = _deploy(project, fixed, swarm)
    during_update = load.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert events[-1]["state"] == "completed" and events[-1]["image"] != first
    assert any(e["event"] == "packed" for e in events) and any(e["event"] == "image" for e in events)
    second = events[-1]["image"]

    listed = run_cli("releases", "--to", "swarm", "--format", "json", cwd=project, env=swarm.env())
    assert listed.returncode == 0, listed.stderr
    assert_valid(json.loads(listed.stdout), "swarm")
    history = {r["role"]: r for r in json.loads(listed.stdout)["releases"]}
    assert history["current"]["image"] == second and history["current"]["version"] == "1.4.1"
    assert history["previous"]["image"] == first and history["previous"]["version"] == "1.4.0"
    assert re.fullmatch(r"[0-9a-f]{64}", history["current"]["content_sha256"])

    back = run_cli("rollback", "--to", "swarm", cwd=project, env=swarm.env(), timeout=300)
    assert back.returncode == 0, back.stdout + back.stderr
    shown = run_cli("status", "--to", "swarm", "--format", "json", cwd=project, env=swarm.env())
    assert shown.returncode == 0, shown.stderr
    state = json.loads(shown.stdout)
    assert_valid(state, "swarm")
    assert state["image"] == first and state["running"] == 1 and state["image_version"] == "1.4.0"
    assert state["update_state"] == "rollback_completed"

    for counts in (during_sick, during_update):  # the service answered throughout both rollouts
        assert counts["ok"] > 50 and counts["failed"] == 0, (during_sick, during_update)

    addresses = _listeners(swarm.process.pid)
    assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), addresses  # nothing beyond loopback
