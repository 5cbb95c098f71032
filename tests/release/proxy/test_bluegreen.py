"""Blue/green behind a real nginx: each release on its own colour's port, gated there before the proxy is
reloaded to it, under steady load from a real HTTP client. Not one request fails, healthy or not."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploysafe import release
from deploysafe.config.targets import Hook
from deploysafe.errors import ConfigError
from deploysafe.release import ReleaseFailed
from tests.support.load import Load
from tests.support.nginx import Nginx, nginx_missing, start_nginx
from tests.support.sshd import free_port

from ..conftest import current_of, history_of
from ..test_safety_rails import _wait_for_step

pytestmark = pytest.mark.slow


@pytest.fixture
def nginx(tmp_path: Path, host_root: Path) -> Iterator[Nginx]:
    missing = nginx_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need real system tools; .ci/run installs them")
    server = start_nginx(tmp_path / "nginx", free_port(), host_root / ".deploysafe" / "upstream.conf")
    yield server
    server.stop()


def proxied(nginx: Nginx, where: str | None = None, **settings: object) -> release.TargetSpec:
    """A target behind ``nginx``: its include file's root, here or at ``where`` (an ssh:// URL of it)."""
    timings = {"health_interval": 0.2, "health_passes": 2, "health_deadline": 4.0, **settings}
    return release.target(
        where or str(nginx.include.parent.parent),
        config={},
        proxy="nginx",
        proxy_reload=nginx.reload,
        blue_port=free_port(),
        green_port=free_port(),
        drain=1.0,
        health=f"http://127.0.0.1:{nginx.port}/health",
        health_expect="healthy",
        **timings,
    )


def test_behind_nginx_no_request_fails_for_a_healthy_release_a_failing_one_or_a_rollback(
    nginx, make_artifact, host_root
):
    spec = proxied(nginx, start="node src/index.js")
    first = release.deploy(make_artifact("1.0.0"), spec)
    url = f"http://127.0.0.1:{nginx.port}/"

    with Load(url) as healthy:
        time.sleep(0.5)
        second = release.deploy(make_artifact("2.0.0"), spec)
        time.sleep(0.5)
    assert healthy.result.failed == 0, healthy.result.failures
    assert healthy.result.served("release-app 1.0.0") and healthy.result.served("release-app 2.0.0")
    assert current_of(host_root) == second.release
    steps = [s.step for s in second.steps]
    assert steps.index("health") < steps.index("switch") < steps.index("mark-good") < steps.index("drain")

    # Answers 500 on its colour's port: gated there, stopped, never routed to.
    bad = make_artifact("3.0.0", faults={"unhealthy_on_port": spec.blue_port})
    with Load(url) as failing, pytest.raises(ReleaseFailed) as failure:
        release.deploy(bad, spec)
    assert failing.result.failed == 0, failing.result.failures
    assert failing.result.served("release-app 3.0.0") == 0 and failing.result.served("release-app 2.0.0") > 0
    assert failure.value.result.status == "failed" and "switch" not in [s.step for s in failure.value.result.steps]
    assert "database pool exhausted" in failure.value.result.report
    assert current_of(host_root) == second.release

    # Fails after the switch (an after_switch hook): the proxy and current go back, the new colour stops.
    hooked = dataclasses.replace(spec, hooks=(Hook("after", "switch", "exit 3"),))
    with Load(url) as recovering, pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("3.1.0"), hooked)
    assert recovering.result.failed == 0, recovering.result.failures
    assert failure.value.result.status == "rolled-back"
    assert [s.step for s in failure.value.result.steps][-2:] == ["rollback-switch", "rollback-stop"]
    assert current_of(host_root) == second.release
    assert "nginx → green" in (release.status(spec).proxy or "")

    started = time.monotonic()
    with Load(url) as back:
        release.rollback(spec)
    rollback_seconds = time.monotonic() - started
    assert back.result.failed == 0, back.result.failures
    assert current_of(host_root) == first.release
    assert back.result.served("release-app 1.0.0") > 0
    assert [r["status"] for r in history_of(host_root)] == ["good", "good", "failed", "rolled-back", "good"]
    status = release.status(spec)
    assert status.healthy and status.current == first.release
    print(
        f"rollback {rollback_seconds:.2f}s; requests {healthy.result.requests + failing.result.requests + back.result.requests}"
    )


def test_behind_nginx_under_pm2_each_release_runs_as_its_colours_apps_and_a_crash_loop_never_takes_a_request(
    nginx, pm2, make_artifact, host_root
):
    # each probe also reads pm2's process list (a node and a pm2 process): room for a loaded machine
    spec = proxied(
        nginx,
        pm2="ecosystem.config.cjs",
        pm2_bin=str(pm2.binary),
        pm2_min_uptime=1.0,
        env=pm2.env,
        health_deadline=15.0,
    )
    release.deploy(make_artifact("1.0.0"), spec)
    url = f"http://127.0.0.1:{nginx.port}/"

    with Load(url) as healthy:
        started = time.monotonic()
        second = release.deploy(make_artifact("2.0.0"), spec)
        seconds = time.monotonic() - started
    assert healthy.result.failed == 0, healthy.result.failures
    names = {p["name"]: p["status"] for p in pm2.processes()}
    assert names == {"release-app-green": "online"}  # blue drained and deleted
    assert healthy.result.served("release-app 2.0.0") > 0

    # Crashes on its colour's port only: the boot test (a spare port) passes, pm2 restarts it on blue.
    with Load(url) as failing, pytest.raises(ReleaseFailed, match=r"on blue.*crash-looping"):
        release.deploy(make_artifact("3.0.0", faults={"crash_on_port": spec.blue_port}), spec)
    assert failing.result.failed == 0, failing.result.failures
    assert failing.result.served("release-app 2.0.0") == failing.result.requests
    assert {p["name"] for p in pm2.processes()} == {"release-app-green"}
    assert current_of(host_root) == second.release

    # Listens one port up on its colour: pm2 reports it online, its port never opens. The boot test showed
    # it answers within a fraction of a second, so the gate gives up after a few, not the 30 s deadline.
    with Load(url) as never, pytest.raises(ReleaseFailed) as failure:
        release.deploy(
            make_artifact("3.1.0", faults={"misses_port": spec.blue_port}), spec.with_overrides(health_deadline=30.0)
        )
    gate = next(s for s in failure.value.result.steps if s.step == "health")
    assert gate.seconds < 12.0 and "no pass within" in failure.value.result.message, failure.value.result.message
    assert never.result.failed == 0, never.result.failures
    assert never.result.served("release-app 3.1.0") == 0 and never.result.served("release-app 2.0.0") > 0
    assert {p["name"] for p in pm2.processes()} == {"release-app-green"}
    assert current_of(host_root) == second.release
    print(
        f"healthy deploy under pm2 behind nginx: {seconds:.2f}s",
        [(s.step, s.seconds, s.detail[:60]) for s in second.steps],
    )


def _toml(where: Path, spec: release.TargetSpec, *extra: str) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "deploysafe.toml").write_text(
        "[targets.app]\n"
        f'path = "{spec.path}"\nproxy = "nginx"\nproxy_reload = {json.dumps(spec.proxy_reload)}\n'
        f"blue_port = {spec.blue_port}\ngreen_port = {spec.green_port}\ndrain = 1.0\n"
        f'start = "node src/index.js"\nhealth = "{spec.health}"\nhealth_expect = "healthy"\n'
        "health_interval = 0.2\nhealth_passes = 2\nhealth_deadline = 4.0\n" + "".join(f"{line}\n" for line in extra)
    )
    return where


def _killed_at(cwd: Path, artifact: Path, step: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploysafe", "deploy", str(artifact), "--to", "app", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    assert _wait_for_step(proc, step), proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)


def test_behind_nginx_a_deploy_killed_before_or_after_its_switch_leaves_one_healthy_upstream_and_a_true_status(
    nginx, make_artifact, host_root, tmp_path
):
    spec = proxied(nginx, start="node src/index.js")
    # mark-good takes milliseconds: a kill aimed at it can land after it. A hook before it that waits for a
    # file holds the run there, after the switch and before the verdict, until the kill has landed.
    go = tmp_path / "go"
    cwd = _toml(
        tmp_path / "project", spec, f"before_mark_good = [{json.dumps(f'until [ -e {go} ]; do sleep 0.05; done')}]"
    )
    first = release.deploy(make_artifact("1.0.0"), spec)
    url = f"http://127.0.0.1:{nginx.port}/"

    with Load(url) as load:
        _killed_at(cwd, make_artifact("2.0.0"), "health")  # started on green, never routed to
        before = release.status(spec)
        _killed_at(cwd, make_artifact("3.0.0"), "before-mark-good")  # routed to green, current switched, no verdict
        go.touch()  # the killed run's hook, left behind, ends
        after = release.status(spec)
        third = release.deploy(make_artifact("4.0.0"), spec)
    assert load.result.failed == 0, load.result.failures

    assert before.current == first.release and before.healthy
    assert "nginx → blue" in (before.proxy or "")
    assert after.current != first.release and after.current_status == "interrupted" and after.healthy
    assert "nginx → green" in (after.proxy or "") and first.release in (after.proxy or "")  # blue still runs
    assert load.result.served("release-app 3.0.0") > 0
    assert current_of(host_root) == third.release
    final = release.status(spec)
    assert final.healthy and "nginx → blue" in (final.proxy or "") and "green" in (final.proxy or "")
    assert [r["status"] for r in history_of(host_root)] == ["good", "interrupted", "interrupted", "good"]


def test_behind_nginx_over_ssh_a_target_moved_from_in_place_a_failing_release_and_a_rollback_fail_no_request(
    nginx, sshd, ssh_spec, make_artifact, host_root, live_port
):
    # nginx runs on the "remote" side (this machine): its reload, the ps listing that says when the reload
    # reached its workers, drain's /proc/net/tcp and the gate's port forward all go through the real sshd.
    ssh = {"known_hosts": str(sshd.known_hosts), "identity": str(sshd.key)}
    first = release.deploy(make_artifact("1.0.0"), ssh_spec)  # in place, without pm2; nginx routes to it
    nginx.route_by_hand(live_port)
    spec = proxied(nginx, sshd.url(str(host_root)), start="node src/index.js", health_deadline=15.0, **ssh)
    url = f"http://127.0.0.1:{nginx.port}/"

    with Load(url) as moving:
        second = release.deploy(make_artifact("2.0.0"), spec)
    assert moving.result.failed == 0, moving.result.failures
    assert moving.result.served("release-app 1.0.0") > 0 and moving.result.served("release-app 2.0.0") > 0
    assert history_of(host_root)[-1]["target"].startswith("ssh://")
    drained = next(s for s in second.steps if s.step == "drain")  # deploysafe did not start it: named, not stopped
    assert f"port {live_port}, where nginx routed before this deploy, still has a listener" in drained.detail

    with Load(url) as failing, pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("3.0.0", faults={"misses_port": spec.green_port}), spec)
    assert failing.result.failed == 0, failing.result.failures
    assert failing.result.served("release-app 3.0.0") == 0
    assert failure.value.result.status == "failed" and current_of(host_root) == second.release
    assert next(s for s in failure.value.result.steps if s.step == "health").seconds < spec.health_deadline

    with Load(url) as back:  # the release deployed in place, started on a colour this time
        release.rollback(spec)
    assert back.result.failed == 0, back.result.failures
    assert back.result.served("release-app 1.0.0") > 0
    assert current_of(host_root) == first.release
    status = release.status(spec)
    assert status.healthy and "nginx → green" in (status.proxy or "")


def test_a_fleet_behind_two_nginx_goes_canary_then_batch_and_a_release_crashing_on_the_canary_is_never_routed_to(
    sshd, make_artifact, tmp_path
):
    servers, hosts = [], []
    try:
        for n in (1, 2):
            root = tmp_path / f"web{n}" / "srv" / "app"
            server = start_nginx(tmp_path / f"nginx{n}", free_port(), root / ".deploysafe" / "upstream.conf")
            servers.append(server)
            spec = proxied(
                server,
                sshd.url(str(root)),
                start="node src/index.js",
                known_hosts=str(sshd.known_hosts),
                identity=str(sshd.key),
                boot_port=free_port(),  # hosts share this machine: no two boot tests on one port
            )
            hosts.append(dataclasses.replace(spec, name=f"web{n}"))
        web = release.fleet(release.FleetSpec(hosts=tuple(hosts), canary=1, batch=1))

        good = release.deploy_fleet(make_artifact("1.0.0"), web)
        assert [(h.host, h.phase, h.status) for h in good.hosts] == [
            ("web1", "canary", "good"),
            ("web2", "batch 1", "good"),
        ]
        assert good.hosts[0].finished <= good.hosts[1].started

        # Crashes on the canary's next colour only (green): its boot test passes, its gate sees it exit.
        urls = [f"http://127.0.0.1:{s.port}/" for s in servers]
        before = (tmp_path / "web2" / "srv" / "app" / ".deploysafe" / "history.jsonl").read_bytes()
        with Load(urls[0]) as canary, pytest.raises(release.FleetFailed) as failure:
            release.deploy_fleet(make_artifact("2.0.0", faults={"crash_on_port": hosts[0].green_port}), web)
        assert [(h.host, h.status) for h in failure.value.result.hosts] == [("web1", "failed"), ("web2", "not-reached")]
        assert canary.result.failed == 0, canary.result.failures
        assert canary.result.served("release-app 2.0.0") == 0 and canary.result.served("release-app 1.0.0") > 0
        assert (tmp_path / "web2" / "srv" / "app" / ".deploysafe" / "history.jsonl").read_bytes() == before
        assert [httpx.get(u, timeout=5).text.strip() for u in urls] == ["release-app 1.0.0"] * 2
    finally:
        for server in servers:
            server.stop()


def test_a_target_moved_from_in_place_under_pm2_to_nginx_hands_over_to_a_colour_and_retires_its_in_place_app_and_a_second_target_with_its_app_names_is_refused(
    nginx, pm2, make_artifact, host_root, live_port, tmp_path
):
    # In place: pm2 runs release-app through current on live_port; nginx already routes there.
    nginx.route_by_hand(live_port)
    pm2_keys = {"pm2": "ecosystem.config.cjs", "pm2_bin": str(pm2.binary), "pm2_min_uptime": 1.0}
    in_place = release.target(
        str(host_root),
        config={},
        health=f"http://127.0.0.1:{live_port}/health",
        health_expect="healthy",
        env={"PORT": str(live_port), **pm2.env},
        health_interval=0.2,
        health_passes=2,
        health_deadline=15.0,
        **pm2_keys,
    )
    release.deploy(make_artifact("1.0.0"), in_place)
    assert {p["name"] for p in pm2.processes()} == {"release-app"}

    # The same target, now proxy = "nginx": the first deploy starts a colour beside the in-place app, gates
    # it, switches nginx, then drains the in-place app on its port and deletes it from pm2.
    spec = proxied(nginx, env=pm2.env, health_deadline=15.0, **pm2_keys)
    url = f"http://127.0.0.1:{nginx.port}/"
    artifact = make_artifact("2.0.0")
    with Load(url) as moving:
        second = release.deploy(artifact, spec)
    assert moving.result.failed == 0, moving.result.failures
    assert moving.result.served("release-app 1.0.0") > 0 and moving.result.served("release-app 2.0.0") > 0
    assert {p["name"]: p["status"] for p in pm2.processes()} == {"release-app-blue": "online"}
    drained = next(s for s in second.steps if s.step == "drain")
    assert f"in-place pm2 app release-app (port {live_port}) drained" in drained.detail, drained.detail
    assert current_of(host_root) == second.release

    # Another target on the same pm2 daemon whose apps have the same names: refused before anything changes.
    other = dataclasses.replace(proxied(nginx, str(tmp_path / "other"), env=pm2.env, **pm2_keys), name="other")
    with pytest.raises(ConfigError, match=rf"already runs release-app-blue for {host_root}: target other names"):
        release.deploy(artifact, other)
    assert not (tmp_path / "other").exists()
