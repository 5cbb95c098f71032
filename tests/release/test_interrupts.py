"""A real `deploysafe deploy` process cut short: SIGINT, SIGTERM, SIGHUP, its stdout closed, a restart that
outlives ``restart_timeout``. After the switch the previous good release must serve again, health-gated,
with the lock free and the run recorded; before it the incoming release and the lock go and the run is
recorded ``interrupted``, which the circuit breaker does not count.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deploysafe import artifact, release
from deploysafe.hosts import LocalHost
from deploysafe.hosts.base import run_configured
from deploysafe.release import ReleaseFailed, interrupts
from deploysafe.release.events import NullReporter
from tests.release.test_cli import _fleet_toml
from tests.release.test_safety_rails import _release_is_complete, _wait_for_step
from tests.support.processes import alive
from tests.support.sshd import free_port

from .conftest import current_of, history_of, serving

# The health window lasts about 2 s, so a signal sent when it starts lands inside it.
TIMINGS = "health_interval = 0.4\nhealth_passes = 5\nhealth_deadline = 8.0\nboot_deadline = 10.0\n"


def write_toml(tmp_path: Path, root: Path, port: int, extra: str = "") -> Path:
    """deploysafe.toml with [targets.app]: the release app restarted by its pidfile script on ``port``."""
    (tmp_path / "deploysafe.toml").write_text(
        "[targets.app]\n"
        f'path = "{root}"\n'
        'restart = "sh bin/restart.sh"\n'
        f'health = "http://127.0.0.1:{port}/health"\n'
        'health_expect = "healthy"\n'
        f'env = {{ PORT = "{port}" }}\n' + TIMINGS + extra
    )
    return tmp_path


DEPLOYSAFE = (sys.executable, "-m", "deploysafe")
PIPES: dict = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}


def cli(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*DEPLOYSAFE, *args, "--to", "app", "--format", "json"], cwd=cwd, **PIPES)


def finished(proc: subprocess.Popen[str]) -> tuple[int, str]:
    """Exit code and stderr of a run whose stdout the test may have closed."""
    if proc.stdout is not None and not proc.stdout.closed:
        _, err = proc.communicate(timeout=120)
    else:
        assert proc.stderr is not None
        err = proc.stderr.read()
        proc.wait(120)
    return proc.returncode, err or ""


def assert_settled(root: Path, port: int, cwd: Path, version: str) -> None:
    """A complete ``current`` serving ``version``, the lock free, no incoming release, status truthful."""
    live = current_of(root)
    assert live is not None and _release_is_complete(root, live)
    assert serving(port)["version"] == version
    assert not (root / ".deploysafe" / "lock").exists()
    assert not (root / ".deploysafe" / "run.json").exists()
    assert not any(p.name.startswith(".incoming-") for p in (root / "releases").iterdir())
    status = release.status(release.target("app", root=cwd))
    assert (status.current, status.healthy, status.lock) == (live, True, None)


@pytest.fixture
def site(make_artifact, tmp_path):
    """A target with 1.0.0 deployed and serving: (cwd with deploysafe.toml, root, port, base release id)."""
    root, port = tmp_path / "host" / "app", free_port()
    cwd = write_toml(tmp_path, root, port)
    base = make_artifact("1.0.0")
    done = cli(cwd, "deploy", str(base))
    assert finished(done)[0] == 0
    return cwd, root, port, artifact.read_manifest(base).id


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_in_the_health_window_puts_the_previous_release_back(make_artifact, site, signum):
    cwd, root, port, base = site
    new = make_artifact("1.1.0")
    proc = cli(cwd, "deploy", str(new))
    assert _wait_for_step(proc, "health")
    os.kill(proc.pid, signum)
    code, err = finished(proc)

    assert code == 128 + signum, err
    assert f"interrupted: {signum.name}" in err and "rolled back to" in err
    assert current_of(root) == base
    assert_settled(root, port, cwd, "1.0.0")
    last = history_of(root)[-1]
    assert (last["kind"], last["status"], last["release"]) == ("deploy", "interrupted", artifact.read_manifest(new).id)
    steps = {s["step"]: s["status"] for s in last["steps"]}
    assert steps["health"] == "failed" and steps["rollback-health"] == "ok"

    assert finished(cli(cwd, "deploy", str(new)))[0] == 0
    assert serving(port)["version"] == "1.1.0"


@pytest.mark.slow
def test_a_second_signal_during_the_rollback_waits_until_it_is_done(make_artifact, site):
    cwd, root, port, base = site
    proc = cli(cwd, "deploy", str(make_artifact("1.1.0")))
    assert _wait_for_step(proc, "health")
    os.kill(proc.pid, signal.SIGTERM)
    assert _wait_for_step(proc, "rollback-restart")
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGHUP)
    out, err = proc.communicate(timeout=120)
    code = proc.returncode

    assert code == 143, err  # the first signal decides
    warnings = [e["text"] for e in map(json.loads, out.splitlines()) if e.get("level") == "warning"]
    held, _, rest = warnings[0].partition(" arrived ") if len(warnings) == 1 else ("", "", str(warnings))
    assert rest == "while the run was being ended safely: held until it was done", warnings
    assert sorted(held.split(", ")) == ["SIGHUP", "SIGINT"]  # pending signals come in signal-number order
    assert current_of(root) == base
    assert_settled(root, port, cwd, "1.0.0")
    steps = {s["step"]: s["status"] for s in history_of(root)[-1]["steps"]}
    assert steps["rollback-restart"] == steps["rollback-health"] == "ok"


@pytest.mark.slow
def test_interrupts_before_the_switch_are_recorded_and_do_not_open_the_circuit_breaker(make_artifact, site):
    cwd, root, port, base = site
    new = make_artifact("1.1.0")
    for step, signum in [("upload", signal.SIGINT), ("install", signal.SIGTERM), ("boot-test", signal.SIGHUP)]:
        proc = cli(cwd, "deploy", str(new))
        assert _wait_for_step(proc, step)
        os.kill(proc.pid, signum)
        code, err = finished(proc)
        assert code == 128 + signum, err
        assert "before the switch; current is untouched" in err
        assert current_of(root) == base
        assert_settled(root, port, cwd, "1.0.0")
        assert history_of(root)[-1]["status"] == "interrupted"
    assert not release.status(release.target("app", root=cwd)).breaker_open
    assert finished(cli(cwd, "deploy", str(new)))[0] == 0  # no --force needed
    assert serving(port)["version"] == "1.1.0"


@pytest.mark.slow
@pytest.mark.parametrize("step", ["upload", "health"])
def test_a_closed_stdout_ends_the_run_as_an_interrupt(make_artifact, site, step):
    cwd, root, port, base = site
    new = make_artifact("1.1.0")
    proc = cli(cwd, "deploy", str(new))
    assert _wait_for_step(proc, step)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away: the next line deploysafe writes meets a closed pipe
    code, err = finished(proc)

    assert code == 141, err
    assert "Traceback" not in err
    assert current_of(root) == base
    assert_settled(root, port, cwd, "1.0.0")
    last = history_of(root)[-1]
    assert last["status"] == "interrupted" and "output was closed" in last["message"]
    assert finished(cli(cwd, "deploy", str(new)))[0] == 0


class ReaderGoneAtSwitch(NullReporter):
    """Writes each step's name to a real pipe whose reader goes away as the switch step starts."""

    def __init__(self) -> None:
        self.read, self.write = os.pipe()

    def step_started(self, step: str, detail: str = "") -> None:
        if step == "switch":
            os.close(self.read)
        os.write(self.write, f"{step}\n".encode())  # EPIPE once the reader is gone


def test_output_closed_as_the_switch_starts_stops_the_deploy_with_current_untouched(
    make_artifact, local_spec, host_root, live_port
):
    """Cut short inside the switch step, before its rename: nothing to put back, so the run is recorded
    interrupted (which the circuit breaker does not count), not rolled back."""
    first = release.deploy(make_artifact("1.0.0"), local_spec)
    reporter = ReaderGoneAtSwitch()
    try:
        with pytest.raises(ReleaseFailed, match="output was closed before the switch; current is untouched"):
            release.deploy(make_artifact("1.1.0"), local_spec, reporter=reporter)
    finally:
        os.close(reporter.write)

    assert current_of(host_root) == first.release and serving(live_port)["version"] == "1.0.0"
    last = history_of(host_root)[-1]
    assert last["status"] == "interrupted"
    steps = [s["step"] for s in last["steps"]]
    assert steps[-1] == "switch" and not any(s.startswith("rollback-") for s in steps), steps
    assert not (host_root / ".deploysafe" / "lock").exists()


HANGING_RESTART = b"""#!/bin/sh
# stops the running service, then never finishes
pid=$(cat "$DEPLOYSAFE_ROOT/shared/app.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
exec sleep 300
"""


@pytest.mark.slow
def test_a_restart_past_restart_timeout_is_rolled_back(make_artifact, local_spec, host_root, live_port):
    release.deploy(make_artifact("1.0.0"), local_spec)
    base = current_of(host_root)
    hanging = make_artifact("1.1.0", extra={"bin/restart.sh": HANGING_RESTART})
    with pytest.raises(ReleaseFailed, match="timed out after 2s; rolled back to") as failed:
        release.deploy(hanging, local_spec.with_overrides(restart_timeout=2.0))
    assert failed.value.exit_code == 1
    assert failed.value.result.status == "rolled-back"
    assert current_of(host_root) == base
    assert serving(live_port)["version"] == "1.0.0"
    assert not (host_root / ".deploysafe" / "lock").exists()
    assert history_of(host_root)[-1]["status"] == "rolled-back"


STARTS_A_SERVICE = 'setsid sleep 60 & echo $! > service.pid; sleep 1; echo "pidfile written"'


def _signal_me(*delays: float, signum: signal.Signals = signal.SIGINT) -> None:
    for delay in delays:
        threading.Timer(delay, os.kill, (os.getpid(), signum)).start()


def test_a_signal_during_a_restart_command_lets_it_finish_and_a_second_one_stops_it(tmp_path):
    """The first signal waits for the command (it records its service's pid); a second kills the command
    and what it started, even in a session of its own."""
    host = LocalHost(tmp_path)
    done: list[str] = []
    with interrupts.trapped() as trap, pytest.raises(interrupts.Interrupted) as first, trap.finishing():
        _signal_me(0.3)
        done.append(run_configured(host, STARTS_A_SERVICE, cwd=str(tmp_path)).stdout)
    assert first.value.exit_code == 130 and done == ["pidfile written\n"]
    os.kill(int((tmp_path / "service.pid").read_text()), signal.SIGKILL)

    (tmp_path / "service.pid").unlink()
    with interrupts.trapped() as trap, pytest.raises(interrupts.Interrupted) as second, trap.finishing():
        _signal_me(0.3, 0.6, signum=signal.SIGTERM)
        done.append(run_configured(host, STARTS_A_SERVICE, cwd=str(tmp_path)).stdout)
    assert second.value.exit_code == 143 and len(done) == 1
    service = int((tmp_path / "service.pid").read_text())
    deadline = time.monotonic() + 5  # a SIGKILL is delivered, not waited for
    while alive(service) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(service), "the service the cut-short command started runs on"


def _fleet_events_until(proc: subprocess.Popen[str], host: str, step: str) -> bool:
    """Read a fleet run's JSON events until ``host`` starts ``step``."""
    assert proc.stdout is not None
    for line in proc.stdout:
        event = json.loads(line)
        if event.get("event") == "step" and (event.get("host"), event["step"], event["status"]) == (
            host,
            step,
            "start",
        ):
            return True
    return False


@pytest.mark.slow
def test_a_signal_during_a_fleet_deploy_ends_every_host_it_touched_healthy(tmp_path, make_artifact):
    """SIGTERM while the batch's hosts (threads) are in their health window, then SIGINT during the
    canary's restart: each time every host ends on the release it had, serving, unlocked, and the fleet
    exits with the signal's code and says what each host runs."""
    hosts = {name: (tmp_path / name / "app", free_port()) for name in ("web1", "web2", "web3")}
    cwd = _fleet_toml(tmp_path, hosts)
    with (cwd / "deploysafe.toml").open("a") as toml:
        toml.write('on_failure = "rollback"\n')
    old, new = make_artifact("1.0.0"), make_artifact("1.1.0")
    fleet = ("--fleet", "web", "--format", "json")
    assert finished(subprocess.Popen([*DEPLOYSAFE, "deploy", str(old), *fleet], cwd=cwd, **PIPES))[0] == 0

    for signum, host, step in [(signal.SIGTERM, "web2", "health"), (signal.SIGINT, "web1", "restart")]:
        proc = subprocess.Popen([*DEPLOYSAFE, "deploy", str(new), *fleet], cwd=cwd, **PIPES)
        assert _fleet_events_until(proc, host, step)
        os.kill(proc.pid, signum)
        assert proc.stdout is not None
        events = [json.loads(line) for line in proc.stdout]
        code, err = finished(proc)
        assert code == 128 + signum and "Traceback" not in err, err
        result = next(e for e in events if e.get("event") == "result")
        assert result["status"] == "interrupted" and events[-1]["error"]["exit_code"] == 128 + signum, events[-1]
        assert [h["running"] for h in result["hosts"]] == [artifact.read_manifest(old).id] * 3, err
        for root, port in hosts.values():
            assert serving(port)["version"] == "1.0.0"
            assert not (root / ".deploysafe" / "lock").exists()

    assert finished(subprocess.Popen([*DEPLOYSAFE, "deploy", str(new), *fleet], cwd=cwd, **PIPES))[0] == 0
    assert [serving(port)["version"] for _, port in hosts.values()] == ["1.1.0"] * 3
