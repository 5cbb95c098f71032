"""Lock, circuit breaker, prune, and kill -9 at every step of a real `deploysafe deploy` process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from deploysafe import artifact, release
from deploysafe.artifact import parse_manifest, sha256_file
from deploysafe.errors import DeployFailed, LockError
from deploysafe.release import ReleaseFailed, prune
from deploysafe.release.lock import LockInfo
from tests.support.sshd import free_port

from .conftest import current_of, fast, history_of, serving


def _cli_deploy(artifact: Path, spec, *extra: str) -> subprocess.Popen[str]:
    """A real `deploysafe deploy --format json` process for the spec's directory target."""
    argv = [
        sys.executable,
        "-m",
        "deploysafe",
        "deploy",
        str(artifact),
        "--to",
        spec.path,
        "--format",
        "json",
        "--restart",
        spec.restart,
        "--health",
        spec.health,
        "--health-interval",
        str(spec.health_interval),
        "--health-passes",
        str(spec.health_passes),
        "--health-deadline",
        str(spec.health_deadline),
        *[f"--env={k}={v}" for k, v in spec.env.items()],
        *extra,
    ]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_step(proc: subprocess.Popen[str], step: str, status: str = "start") -> bool:
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("event") == "step" and event["step"] == step and event["status"] == status:
            return True
    return False


def _release_is_complete(root: Path, release_id: str) -> bool:
    base = root / "releases" / release_id
    manifest = parse_manifest((base / ".deploysafe" / "manifest.json").read_bytes())
    return all(sha256_file(base / f.path) == f.sha256 for f in manifest.files)


def test_a_second_deploy_while_one_runs_is_refused_or_waits(make_artifact, local_spec, host_root, live_port):
    release.deploy(make_artifact("1.0.0"), local_spec)
    slow = local_spec.with_overrides(health_interval=0.5, health_passes=4, health_deadline=10.0)
    first = _cli_deploy(make_artifact("1.1.0"), slow)
    try:
        assert _wait_for_step(first, "health")
        with pytest.raises(LockError, match="is locked by deploy run"):
            release.deploy(make_artifact("1.2.0"), local_spec)
        waited = release.deploy(make_artifact("1.2.0"), local_spec, lock_wait=30)
    finally:
        first.wait(30)
    assert first.returncode == 0
    assert waited.status == "good"
    assert serving(live_port)["version"] == "1.2.0"


def test_a_lock_held_from_another_machine_is_refused_until_unlocked(make_artifact, local_spec, host_root):
    release.deploy(make_artifact("1.0.0"), local_spec)
    foreign = LockInfo("abc123", "ops@elsewhere", "elsewhere", "", 4242, "", "2025-11-03T15:26:00Z", "deploy")
    (host_root / ".deploysafe" / "lock").write_bytes(foreign.to_bytes())

    with pytest.raises(LockError, match="another machine"):
        release.deploy(make_artifact("1.1.0"), local_spec)
    assert release.unlock(local_spec).run == "abc123"
    assert release.deploy(make_artifact("1.1.0"), local_spec).status == "good"


def test_a_lock_whose_holder_died_is_taken_over_with_a_message(make_artifact, local_spec, host_root):
    release.deploy(make_artifact("1.0.0"), local_spec)
    dead = subprocess.Popen(["true"])
    dead.wait()
    info = LockInfo.for_this_process("deploy", run="deadbeef0001")
    info = LockInfo(**{**info.__dict__, "pid": dead.pid, "pid_start": "1"})
    (host_root / ".deploysafe" / "lock").write_bytes(info.to_bytes())
    messages: list[str] = []

    class Collect(release.NullReporter):
        def message(self, text: str, level: str = "info") -> None:
            messages.append(text)

    assert release.deploy(make_artifact("1.1.0"), local_spec, reporter=Collect()).status == "good"
    assert any("taking over the lock of deploy run deadbeef0001" in m for m in messages)


def test_circuit_breaker_trips_after_three_failed_deploys(make_artifact, local_spec, host_root, live_port):
    release.deploy(make_artifact("1.0.0"), local_spec)
    for n in range(3):
        with pytest.raises(ReleaseFailed):
            release.deploy(make_artifact(f"2.0.{n}", faults={"crash_at_boot": True}), local_spec)

    with pytest.raises(DeployFailed, match="circuit breaker open: the last 3 deploys"):
        release.deploy(make_artifact("2.1.0"), local_spec)
    assert release.status(local_spec).breaker_open

    assert release.deploy(make_artifact("2.1.0"), local_spec, force=True).status == "good"
    assert not release.status(local_spec).breaker_open
    assert serving(live_port)["version"] == "2.1.0"


def test_a_rollback_closes_the_circuit_breaker(make_artifact, local_spec, host_root):
    release.deploy(make_artifact("1.0.0"), local_spec)
    release.deploy(make_artifact("1.1.0"), local_spec)
    for n in range(3):
        with pytest.raises(ReleaseFailed):
            release.deploy(make_artifact(f"2.0.{n}", faults={"crash_at_boot": True}), local_spec)
    release.rollback(local_spec)
    assert release.deploy(make_artifact("2.1.0"), local_spec).status == "good"


def test_prune_removes_failed_releases_first_then_the_oldest_good_ones():
    statuses = {"a": "good", "b": "good", "c": "failed", "d": "good", "e": "rolled-back", "f": "good"}
    order = ["a", "b", "c", "d", "e", "f"]
    assert prune.plan(order, statuses, order, keep=4, protect=["f", "d"]) == ["c", "e"]
    assert prune.plan(order, statuses, order, keep=3, protect=["f", "d"]) == ["c", "e", "a"]
    assert prune.plan(order, statuses, order, keep=2, protect=["f", "a"]) == ["c", "e", "b", "d"]


def test_prune_on_the_host_keeps_current_and_the_previous_good_release(make_artifact, local_spec, host_root):
    spec = local_spec.with_overrides(keep=3)
    ids = [release.deploy(make_artifact(f"1.{n}.0"), spec).release for n in range(3)]
    with pytest.raises(ReleaseFailed):
        release.deploy(make_artifact("9.9.9", faults={"crash_at_boot": True}), spec)
    last = release.deploy(make_artifact("1.3.0"), spec).release
    on_host = sorted(p.name for p in (host_root / "releases").iterdir())
    assert on_host == sorted([ids[1], ids[2], last])  # the failed one went first, then the oldest good
    assert current_of(host_root) == last


LANES = 3


def kill_at(proc: subprocess.Popen[str], step: str) -> None:
    """SIGKILL a deploy process as it says it starts ``step``; the test fails when it never got there."""
    reached = _wait_for_step(proc, step)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert reached, f"never reached {step}: {proc.stderr.read() if proc.stderr else ''}"


def check_after_kill(root: Path, port: int, step: str) -> None:
    """After a kill at ``step``: current is a complete release, and something serves."""
    live = current_of(root)
    assert live is not None and _release_is_complete(root, live), f"after kill at {step}"
    # a restart the kill interrupted finishes on its own (it runs in its own session): allow for a
    # loaded machine before judging that nothing serves
    deadline = time.monotonic() + 30
    while serving(port) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert serving(port) is not None, f"nothing serves after kill at {step}"


# A kill aimed at a step lands at that step when the test reads the step's start and kills at once; on a
# loaded machine the run may get further first. Where it landed is read from the record it left, and a kill
# that landed elsewhere is aimed again (with a new release) up to this many times.
ATTEMPTS = 4
_NAMES = list(release.STEPS)
# From the upload on, a killed run has left its record in run.json (the next run appends it to history).
MEASURED = _NAMES[_NAMES.index("upload") :]
BEFORE_VERDICT = _NAMES[: _NAMES.index("mark-good")]


def _landed(records: list[dict]) -> str | None:
    """The step a killed run was at, from the record it left: the step after the last one it finished.
    None when it left no record (killed before it held the lock)."""
    if not records:
        return None
    done = [s["step"] for s in records[0].get("steps", [])]
    later = [n for n in _NAMES if n not in done]
    return later[0] if later else "finished"


def _kill_walk(
    steps: list[str], build: Callable[[str, int], Path], base: Path, spec, root: Path, port: int
) -> list[tuple[str, str | None, str | None]]:
    """Kill -9 a real `deploysafe deploy` at the start of each step, check the host, deploy again.

    Returns (aimed step, step the kill landed at, status of the killed run's record) for every kill."""
    release.deploy(base, spec)
    kills = []
    for step in steps:
        for attempt in range(ATTEMPTS):
            artifact_path = build(step, attempt)
            seen = len(history_of(root))
            kill_at(_cli_deploy(artifact_path, spec), step)
            check_after_kill(root, port, step)

            result = release.deploy(artifact_path, spec)
            assert result.status == "good", f"deploy after kill at {step}"
            version = artifact.read_manifest(artifact_path).version
            assert serving(port)["version"] == version, f"after kill at {step}"
            killed = history_of(root)[seen:-1]  # the killed run's record, if it held the lock; then the deploy's
            assert len(killed) <= 1, killed
            landed = _landed(killed)
            kills.append((step, landed, killed[0]["status"] if killed else None))
            if step not in MEASURED or landed == step:
                break
    assert not any(p.name.startswith(".incoming-") for p in (root / "releases").iterdir())
    assert not (root / ".deploysafe" / "boot.pid").exists()
    return kills


@pytest.mark.slow
def test_kill_9_at_every_step_leaves_a_healthy_current_and_the_next_deploy_succeeds(make_artifact, tmp_path):
    # Every step is killed on one of LANES independent hosts walked at the same time (each its own
    # directory, service port, lock and history): the same proof as one long walk, in a third of the time.
    artifacts = {"base": make_artifact("1.0.0")}
    artifacts |= {step: make_artifact(f"1.{n + 1}.0") for n, step in enumerate(release.STEPS)}
    packing = threading.Lock()  # the packer's working copy is shared

    def build(step: str, attempt: int) -> Path:
        if attempt == 0:
            return artifacts[step]
        with packing:
            return make_artifact(f"1.{_NAMES.index(step) + 1}.{attempt}")

    lanes = []
    for lane in range(LANES):
        root, port = tmp_path / f"lane{lane}" / "app", free_port()
        spec = release.target(
            str(root),
            config={},
            restart="sh bin/restart.sh",
            health=f"http://127.0.0.1:{port}/health",
            health_expect="healthy",
            env={"PORT": str(port)},
        )
        lanes.append((list(release.STEPS[lane::LANES]), build, artifacts["base"], fast(spec), root, port))

    with ThreadPoolExecutor(LANES) as pool:
        kills = [k for f in [pool.submit(_kill_walk, *lane) for lane in lanes] for k in f.result()]

    # Every step from the upload on was really interrupted by a kill, as measured from the records the
    # killed runs left (however loaded the machine, a kill that landed later was aimed again).
    # (A kill aimed at the lock step may land once the lock is held, and is then measured there too.)
    landed_where_aimed = {at for aimed, at, _ in kills if at == aimed}
    assert set(MEASURED) <= landed_where_aimed <= set(MEASURED) | {"lock"}, kills
    # And every killed run that held the lock left a record that tells the truth about where it stopped.
    for aimed, at, status in kills:
        if at is not None:
            assert status in _honest(at), (aimed, at, status)


def _honest(landed: str) -> set[str]:
    """The statuses a run killed at ``landed`` may be recorded with: ``interrupted`` before the verdict,
    ``good`` after it, either inside mark-good (its first act is to say ``good``)."""
    if landed == "mark-good":
        return {"interrupted", "good"}
    return {"interrupted"} if landed in BEFORE_VERDICT else {"good"}
