"""Fleet deploys over real sshd hosts on 127.0.0.1: canary first, then batches in parallel, stop on failure."""

from __future__ import annotations

import pytest

from deploysafe import release
from deploysafe.errors import ConfigError
from deploysafe.release import FleetFailed

from .conftest import history_of

pytestmark = pytest.mark.slow


def test_good_fleet_deploy_moves_every_host_canary_first_then_a_batch_in_parallel(ssh_fleet, make_artifact):
    web, hosts = ssh_fleet(3, canary=1, batch=2)

    result = release.deploy_fleet(make_artifact("1.0.0"), web)

    assert result.status == "good"
    assert [(h.host, h.phase, h.status) for h in result.hosts] == [
        ("web1", "canary", "good"),
        ("web2", "batch 1", "good"),
        ("web3", "batch 1", "good"),
    ]
    assert [h.serving() for h in hosts] == ["1.0.0"] * 3
    assert all(history_of(h.root)[-1]["status"] == "good" for h in hosts)
    canary, *batch = result.hosts
    assert canary.finished <= min(h.started for h in batch)  # the batch waited for the canary's verdict
    # Measured: the two hosts of the batch were in flight together for most of the shorter one's deploy.
    together = min(h.finished for h in batch) - max(h.started for h in batch)
    assert together > 0.5 * min(h.seconds for h in batch), [(h.started, h.finished) for h in batch]


@pytest.mark.parametrize("fault", ["crash_at_boot", "unhealthy"])
def test_failing_canary_stops_the_fleet_and_no_other_host_is_touched(ssh_fleet, make_artifact, fault):
    web, hosts = ssh_fleet(3, canary=1, batch=2)
    release.deploy_fleet(make_artifact("1.0.0"), web)
    before = [h.snapshot() for h in hosts[1:]]
    faults = {"crash_at_boot": True} if fault == "crash_at_boot" else {"unhealthy_on_port": hosts[0].port}

    with pytest.raises(FleetFailed) as failure:
        release.deploy_fleet(make_artifact("2.0.0", faults=faults), web)

    result = failure.value.result
    expected = "failed" if fault == "crash_at_boot" else "rolled-back"  # blocked at boot test / own health gate
    assert [(h.host, h.status) for h in result.hosts] == [
        ("web1", expected),
        ("web2", "not-reached"),
        ("web3", "not-reached"),
    ]
    assert "stopped after the canary" in str(failure.value)
    assert [h.snapshot() for h in hosts[1:]] == before
    assert [h.serving() for h in hosts] == ["1.0.0"] * 3


def test_host_failing_in_batch_2_stops_the_rollout_with_a_per_host_report(ssh_fleet, make_artifact):
    web, hosts = ssh_fleet(6, canary=1, batch=2)
    first = release.deploy_fleet(make_artifact("1.0.0"), release.fleet(web, batch=5))
    untouched = hosts[5].snapshot()

    with pytest.raises(FleetFailed) as failure:
        release.deploy_fleet(make_artifact("2.0.0", faults={"unhealthy_on_port": hosts[3].port}), web)

    result = failure.value.result
    assert result.status == "stopped"
    assert [(h.host, h.phase, h.status) for h in result.hosts] == [
        ("web1", "canary", "good"),
        ("web2", "batch 1", "good"),
        ("web3", "batch 1", "good"),
        ("web4", "batch 2", "rolled-back"),
        ("web5", "batch 2", "good"),  # its batch mate finished its own deploy
        ("web6", "batch 3", "not-reached"),
    ]
    assert [h.serving() for h in hosts] == ["2.0.0", "2.0.0", "2.0.0", "1.0.0", "2.0.0", "1.0.0"]
    assert hosts[5].snapshot() == untouched
    old = first.release
    assert [h.running for h in result.hosts] == [result.release] * 3 + [old, result.release, old]
    assert not any(h.needs_human for h in result.hosts)
    report = result.report
    assert "STOPPED after batch 2" in report
    assert "web6  not-reached" in report and "database pool exhausted" in report
    assert f"deploysafe rollback --fleet web --release {old}" in report
    assert "\n" not in str(failure.value)


def test_on_failure_rollback_puts_back_every_host_the_run_upgraded(ssh_fleet, make_artifact):
    web, hosts = ssh_fleet(4, canary=1, batch=2, on_failure="rollback")
    first = release.deploy_fleet(make_artifact("1.0.0"), release.fleet(web, batch=3))

    with pytest.raises(FleetFailed) as failure:
        release.deploy_fleet(make_artifact("2.0.0", faults={"unhealthy_on_port": hosts[1].port}), web)

    result = failure.value.result
    assert [(h.host, h.status) for h in result.hosts] == [
        ("web1", "reverted"),
        ("web2", "rolled-back"),
        ("web3", "reverted"),
        ("web4", "not-reached"),
    ]
    assert [h.running for h in result.hosts] == [first.release] * 4
    assert [h.serving() for h in hosts] == ["1.0.0"] * 4
    assert history_of(hosts[0].root)[-1]["kind"] == "rollback"


def test_running_a_stopped_fleet_deploy_again_resumes_it(ssh_fleet, make_artifact):
    web, hosts = ssh_fleet(3, canary=1, batch=1)
    web = release.fleet(web, shared=[".env"])
    for host in hosts:
        (host.root / "shared").mkdir(parents=True)
        (host.root / "shared" / ".env").write_text("SECRET=1\n")
    (hosts[1].root / "shared" / ".env").unlink()  # a host-specific fault: one host lacks its .env
    artifact = make_artifact("1.0.0")

    with pytest.raises(FleetFailed, match=r"web2 failed: .*shared/\.env is missing"):
        release.deploy_fleet(artifact, web)
    (hosts[1].root / "shared" / ".env").write_text("SECRET=1\n")
    result = release.deploy_fleet(artifact, web)

    assert [(h.host, h.status) for h in result.hosts] == [
        ("web1", "already-live"),
        ("web2", "good"),
        ("web3", "good"),
    ]
    assert [h.serving() for h in hosts] == ["1.0.0"] * 3
    assert len(history_of(hosts[0].root)) == 1  # web1 was not deployed (or restarted) again


def test_fleet_refuses_before_touching_any_host_when_one_cannot_be_deployed_to(ssh_fleet, make_artifact, tmp_path):
    web, hosts = ssh_fleet(2)
    hosts[1].server.stop()  # web2 is down
    plain = tmp_path / "hand-made"  # and a third host still runs a hand-made tree
    plain.mkdir()
    (plain / "index.js").write_text("// deployed by hand\n")
    by_hand = release.target(str(plain), config={}, health="http://127.0.0.1:9/health")
    fleet = release.FleetSpec(hosts=(*web.hosts, by_hand))

    with pytest.raises(FleetFailed) as failure:
        release.deploy_fleet(make_artifact("1.0.0"), fleet)

    message = str(failure.value)
    assert message.startswith("3 targets: refused before touching any host: web2: ")
    assert "deploysafe adopt" in message and "\n" not in message
    assert [h.status for h in failure.value.result.hosts] == ["ok", "refused", "refused"]
    assert not hosts[0].root.exists()
    assert sorted(p.name for p in plain.iterdir()) == ["index.js"]


def test_fleet_rollback_puts_every_host_back_and_status_reads_every_host(ssh_fleet, make_artifact):
    web, hosts = ssh_fleet(3, canary=1, batch=2)
    first = release.deploy_fleet(make_artifact("1.0.0"), web)
    release.deploy_fleet(make_artifact("1.1.0"), web)

    plan = release.rollback_fleet(web, dry_run=True)
    assert plan.status == "planned" and all(
        dict(steps)["choose"].startswith(first.release) for steps in plan.plans.values()
    )
    back = release.rollback_fleet(web)

    assert back.status == "good"
    assert [h.running for h in back.hosts] == [first.release] * 3
    assert [h.serving() for h in hosts] == ["1.0.0"] * 3
    statuses = release.fleet_status(web)
    assert [(name, info.current, info.healthy) for name, info in statuses] == [
        (f"web{n}", first.release, True) for n in (1, 2, 3)
    ]
    listed = release.fleet_releases(web)
    assert [len(items) for _, items in listed] == [2, 2, 2]


def test_fleet_configuration_mistakes_are_one_line_errors():
    targets = {"web1": {"path": "/srv/a"}, "web2": {"path": "/srv/b"}}
    with pytest.raises(ConfigError, match="no target 'wbe2' in \\[targets\\]"):
        release.fleet("web", config={"targets": targets, "fleets": {"web": {"targets": ["web1", "wbe2"]}}})
    with pytest.raises(ConfigError, match="batch must be a whole number of hosts, at least 1"):
        release.fleet("web", config={"targets": targets, "fleets": {"web": {"targets": ["web1"], "batch": 0}}})
    with pytest.raises(ConfigError, match="unknown key 'canaries'"):
        release.fleet("web", config={"targets": targets, "fleets": {"web": {"targets": ["web1"], "canaries": 1}}})
    with pytest.raises(ConfigError, match="no fleet 'db'"):
        release.fleet("db", config={"targets": targets, "fleets": {}})
    with pytest.raises(ConfigError, match="are the same target"):
        release.fleet(["/srv/a", "/srv/a/"], config={})
    web = release.fleet("web", config={"targets": targets, "fleets": {"web": {"targets": ["web1", "web2"]}}})
    assert [(phase, [h.name for h in group]) for phase, group in web.phases()] == [
        ("canary", ["web1"]),
        ("batch 1", ["web2"]),
    ]
