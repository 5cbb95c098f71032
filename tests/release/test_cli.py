"""The command line: JSON step events, one-line errors (never a traceback), [targets.NAME] config."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploysafe import release
from tests.support.netcut import CuttingProxy
from tests.support.schemas import assert_valid
from tests.support.sshd import free_port

from .conftest import current_of, serving


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploysafe", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def _toml(tmp_path: Path, host_root: Path, live_port: int, **extra: str) -> Path:
    lines = [
        "[targets.production]",
        f'path = "{host_root}"',
        'restart = "sh bin/restart.sh"',
        f'health = "http://127.0.0.1:{live_port}/health"',
        'health_expect = "healthy"',
        "health_interval = 0.2",
        "health_passes = 2",
        "health_deadline = 4.0",
        'logs = ["shared/app.log"]',
        f'env = {{ PORT = "{live_port}" }}',
        *[f"{k} = {v}" for k, v in extra.items()],
    ]
    (tmp_path / "deploysafe.toml").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_deploy_to_a_configured_target_prints_json_step_events(tmp_path, make_artifact, host_root, live_port):
    cwd = _toml(tmp_path, host_root, live_port)
    done = _run("deploy", str(make_artifact("1.0.0")), "--to", "production", "--format", "json", cwd=cwd)

    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    for event in events:
        assert_valid(event, "events")
    started = [e["step"] for e in events if e["event"] == "step" and e["status"] == "start"]
    assert started == list(release.STEPS)
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    assert all(e["done"] <= e["total"] for e in events if e["event"] == "progress" and e["total"] is not None)
    probes = [e for e in events if e["event"] == "probe"]  # the health window, probe by probe
    assert probes[-1]["ok"] and probes[-1]["streak"] == probes[-1]["needed"] and "HTTP 200" in probes[-1]["detail"]
    assert events[-1]["event"] == "result" and events[-1]["status"] == "good"
    assert serving(live_port)["version"] == "1.0.0"


def test_a_failed_deploy_exits_1_with_a_report_and_a_one_line_error(tmp_path, make_artifact, host_root, live_port):
    cwd = _toml(tmp_path, host_root, live_port)
    assert _run("deploy", str(make_artifact("1.0.0")), "--to", "production", cwd=cwd).returncode == 0

    bad = make_artifact("2.0.0", faults={"unhealthy_on_port": live_port})
    done = _run("deploy", str(bad), "--to", "production", "--health-deadline", "2", cwd=cwd)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("deploysafe: error: health failed after restart")
    assert "database pool exhausted" in done.stderr
    assert "shared/app.log" in done.stderr  # the configured log, tailed in the report
    assert serving(live_port)["version"] == "1.0.0"


def test_dry_run_prints_a_plan_and_changes_nothing(tmp_path, make_artifact, host_root, live_port):
    cwd = _toml(tmp_path, host_root, live_port)
    done = _run("deploy", str(make_artifact("1.0.0")), "--to", "production", "--dry-run", cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "plan for deploy" in done.stdout and "boot-test" in done.stdout
    assert not host_root.exists()


def test_status_releases_and_unlock_commands(tmp_path, make_artifact, host_root, live_port):
    cwd = _toml(tmp_path, host_root, live_port)
    shown = _run("deploy", str(make_artifact("1.0.0")), "--to", "production", cwd=cwd).stdout
    assert re.search(r"health probe ✓ 1/\d+  HTTP 200", shown)  # a line when what answers changes, not per probe

    status = json.loads(_run("status", "--to", "production", "--format", "json", cwd=cwd).stdout)
    assert_valid(status, "status")
    assert status["healthy"] is True and status["current"] == current_of(host_root)
    listed = json.loads(_run("releases", "--to", "production", "--format", "json", cwd=cwd).stdout)
    assert_valid(listed, "releases")
    assert [r["current"] for r in listed["releases"]] == [True]
    assert _run("unlock", "--to", "production", cwd=cwd).stdout.strip() == "not locked"


def test_a_usage_error_exits_2_in_one_line(tmp_path):
    done = _run("deploy", str(tmp_path / "missing.tar.gz"), "--to", str(tmp_path / "t"), "--health", "tcp://x:1")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_ssh_host_dropping_mid_upload_is_one_line_and_no_traceback(tmp_path, make_artifact, sshd, host_root, live_port):
    big = make_artifact("1.0.0", extra={"public/video.bin": os.urandom(3 * 1024 * 1024)})
    proxy = CuttingProxy(sshd.port, cut_after=1024 * 1024)
    known = sshd.write_known_hosts(tmp_path / "known_hosts", proxy.port)
    try:
        done = _run(
            "deploy",
            str(big),
            "--to",
            sshd.url(str(host_root), proxy.port),
            "--known-hosts",
            str(known),
            "--identity",
            str(sshd.key),
            "--health",
            f"http://127.0.0.1:{live_port}/health",
        )
    finally:
        proxy.close()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "connection lost during upload" in lines[0], done.stderr
    assert current_of(host_root) is None


def _fleet_toml(tmp_path: Path, hosts: dict[str, tuple[Path, int]]) -> Path:
    lines = []
    for name, (root, port) in hosts.items():
        lines += [
            f"[targets.{name}]",
            f'path = "{root}"',
            'restart = "sh bin/restart.sh"',
            f'health = "http://127.0.0.1:{port}/health"',
            'health_expect = "healthy"',
            "health_interval = 0.2",
            "health_passes = 2",
            "health_deadline = 3.0",
            f'env = {{ PORT = "{port}" }}',
            f"boot_port = {free_port()}",
            "",
        ]
    lines += ["[fleets.web]", f"targets = {json.dumps(list(hosts))}", "canary = 1", "batch = 2"]
    (tmp_path / "deploysafe.toml").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_fleet_commands_plan_every_host_and_tag_every_json_event_with_its_host(tmp_path, make_artifact):
    hosts = {name: (tmp_path / name / "app", free_port()) for name in ("web1", "web2", "web3")}
    cwd = _fleet_toml(tmp_path, hosts)
    good, bad = make_artifact("1.0.0"), make_artifact("2.0.0", faults={"crash_at_boot": True})

    plan = _run("deploy", str(good), "--fleet", "web", "--dry-run", cwd=cwd)
    assert plan.returncode == 0, plan.stderr
    assert "canary: web1" in plan.stdout and "batch 1: web2" in plan.stdout and "batch 1: web3" in plan.stdout
    assert plan.stdout.count("boot-test") == 3
    assert not any(root.exists() for root, _ in hosts.values())

    done = _run("deploy", str(good), "--fleet", "web", "--format", "json", cwd=cwd)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    for event in events:
        assert_valid(event, "events")
    steps = [e for e in events if e["event"] == "step"]
    assert {e["host"] for e in steps} == set(hosts)
    assert [e["step"] for e in steps if e["host"] == "web3" and e["status"] == "start"] == list(release.STEPS)
    assert [(e["phase"], e["hosts"]) for e in events if e["event"] == "phase"] == [
        ("canary", ["web1"]),
        ("batch 1", ["web2", "web3"]),
    ]
    assert events[-1]["event"] == "result" and events[-1]["kind"] == "fleet-deploy"
    assert [(h["host"], h["status"]) for h in events[-1]["hosts"]] == [(n, "good") for n in hosts]

    failed = _run("deploy", str(bad), "--to", "web2", "--to", "web1", cwd=cwd)  # a fleet of two, web2 first
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("deploysafe: error: 2 targets: stopped after the canary: web2 failed: deploy blocked")
    assert "web1" in failed.stderr and "not-reached" in failed.stderr

    status = json.loads(_run("status", "--fleet", "web", "--format", "json", cwd=cwd).stdout)
    assert_valid(status, "status")
    assert [(h["host"], h["healthy"]) for h in status["hosts"]] == [(n, True) for n in hosts]
    listed = json.loads(_run("releases", "--fleet", "web", "--format", "json", cwd=cwd).stdout)
    assert_valid(listed, "releases")
    assert [[r["status"] for r in h["releases"]] for h in listed["hosts"]] == [["good"], ["failed", "good"], ["good"]]
    assert all(serving(port)["version"] == "1.0.0" for _, port in hosts.values())


def test_fleet_usage_mistakes_are_one_line_errors(tmp_path, make_artifact):
    cwd = _fleet_toml(tmp_path, {"web1": (tmp_path / "a", free_port())})
    artifact = str(make_artifact("1.0.0"))
    for args, message in [
        (("--to", "web1", "--canary", "1"), "--canary is for a fleet"),
        (("--fleet", "db"), "no fleet 'db'"),
        (("--fleet", "web", "--to", "web1"), "not both"),
        ((), "say where"),
    ]:
        done = _run("deploy", artifact, *args, cwd=cwd)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.strip().count("\n") == 0 and message in done.stderr, (args, done.stderr)
    done = _run("unlock", "--fleet", "web", cwd=cwd)
    assert done.returncode == 2 and "one target at a time" in done.stderr


def test_a_failure_report_quotes_only_the_log_lines_written_since_the_restart(
    tmp_path, make_artifact, host_root, live_port
):
    cwd = _toml(tmp_path, host_root, live_port)
    for version in ("1.0.0", "1.1.0"):
        assert _run("deploy", str(make_artifact(version)), "--to", "production", cwd=cwd).returncode == 0
    log = (host_root / "shared" / "app.log").read_text()
    assert "release-app 1.0.0 listening" in log  # written before the failing deploy's restart

    bad = make_artifact("2.0.0", faults={"unhealthy_on_port": live_port})
    done = _run("deploy", str(bad), "--to", "production", "--health-deadline", "2", cwd=cwd)

    assert done.returncode == 1
    report = done.stderr.split("log ", 1)[1]
    assert "release-app 2.0.0 listening" in report
    assert "release-app 1.0.0 listening" not in report
