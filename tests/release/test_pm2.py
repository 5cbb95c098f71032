"""pm2 first class: a real pm2 from npm restarts the real app; deploys and rollbacks switch what it runs."""

from __future__ import annotations

import pytest

from deploysafe import release
from deploysafe.release import ReleaseFailed
from deploysafe.release.pm2 import parse_jlist

from .conftest import current_of, fast, serving

pytestmark = pytest.mark.slow


@pytest.fixture
def pm2_spec(pm2, sshd, host_root, live_port):
    spec = release.target(
        sshd.url(str(host_root)),
        config={},
        pm2="ecosystem.config.cjs",
        pm2_bin=str(pm2.binary),
        health=f"http://127.0.0.1:{live_port}/health",
        env={"PORT": str(live_port), **pm2.env},
        known_hosts=str(sshd.known_hosts),
        identity=str(sshd.key),
    )
    return fast(spec)


def test_pm2_reload_over_ssh_serves_each_new_release_and_rolls_back(pm2_spec, pm2, make_artifact, host_root, live_port):
    first = release.deploy(make_artifact("1.0.0"), pm2_spec)
    assert serving(live_port)["version"] == "1.0.0"
    release.deploy(make_artifact("1.1.0"), pm2_spec)
    assert serving(live_port)["version"] == "1.1.0"  # pm2 follows `current`, not the old release path

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("2.0.0", faults={"unhealthy_on_port": live_port}), pm2_spec)
    assert failure.value.result.status == "rolled-back"
    assert serving(live_port)["version"] == "1.1.0"
    assert "pm2-logs" in failure.value.result.report or "release-app" in failure.value.result.report
    assert current_of(host_root) != first.release

    processes = pm2.processes()
    assert [p["status"] for p in processes] == ["online"]
    status = release.status(pm2_spec)
    assert status.healthy and status.processes and "online" in status.processes[0]


def test_jlist_is_parsed_without_keeping_any_environment():
    text = (
        '[{"name":"api","pm_id":0,"pid":42,"pm2_env":{"status":"online","restart_time":3,'
        '"pm_exec_path":"/srv/api/current/src/index.js","pm_cwd":"/srv/api/current",'
        '"DATABASE_URL":"postgres://secret","env":{"API_KEY":"sk-live-123"}}}]'
    )
    [process] = parse_jlist("some pm2 banner\n" + text)
    assert process.name == "api" and process.status == "online" and process.restarts == 3
    assert "secret" not in repr(process) and "sk-live" not in repr(process)
    assert process.under("/srv/api")
