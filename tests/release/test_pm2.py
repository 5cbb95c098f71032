"""pm2 first class, over SSH: a real pm2 from npm runs the bundled example, packed by deploysafe.pack."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable

import pytest

from deploysafe import release
from deploysafe.errors import ConfigError
from deploysafe.hosts import LocalHost
from deploysafe.release import ReleaseFailed
from deploysafe.release.health import Vetting
from deploysafe.release.pm2 import Pm2Process, Snapshot, Watch, parse_jlist, parse_snapshot, snapshot_command
from tests.support.sshd import free_port

from .conftest import current_of, doomed, fast, history_of, serving

pytestmark = pytest.mark.slow

# Longer than the ~2 s between pm2's restarts of an app that exits at once; shorter than the 5 s default.
PM2_MIN_UPTIME = 3.0


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def pm2_spec(pm2, sshd, host_root, live_port):
    spec = release.target(
        sshd.url(str(host_root)),
        config={},
        pm2="ecosystem.config.cjs",
        pm2_bin=str(pm2.binary),
        pm2_min_uptime=PM2_MIN_UPTIME,
        health=f"http://127.0.0.1:{live_port}/health",
        health_expect="healthy",
        env={"PORT": str(live_port), **pm2.env, "API_KEY": "sk-live-123"},  # a secret pm2 keeps in each app's env
        known_hosts=str(sshd.known_hosts),
        identity=str(sshd.key),
    )
    return fast(spec)


def test_packed_example_under_pm2_over_ssh_serves_each_new_version(pm2_spec, pm2, example, host_root, live_port):
    first = release.deploy(example.build("1.4.0", port=live_port), pm2_spec)
    assert serving(live_port) == {"status": "healthy", "version": "1.4.0"}

    second = release.deploy(example.build("1.5.0", port=live_port), pm2_spec)

    assert serving(live_port)["version"] == "1.5.0"  # pm2 follows `current`, not the old release's path
    assert current_of(host_root) == second.release != first.release
    assert history_of(host_root)[-1]["target"].startswith("ssh://")
    assert {p["name"]: p["status"] for p in pm2.processes()}["seed-api"] == "online"
    status = release.status(pm2_spec)
    assert status.healthy and status.current == second.release
    assert any((p.manager, p.name, p.status) == ("pm2", "seed-api", "online") for p in status.processes)

    # pm2's list, as deploysafe reads it: from the daemon's socket (no pm2 CLI), the same as `pm2 jlist`
    done = LocalHost(host_root).run(snapshot_command(str(pm2.binary)), env=pm2.env, timeout=60)
    snap = parse_snapshot(done.stdout)
    assert snap is not None and snap.via == "rpc"
    assert "sk-live" not in done.stdout  # the apps' environments stay on the host
    jlist = pm2.run("jlist").stdout
    assert "sk-live" in jlist  # pm2 itself prints them
    seen = [(p.name, p.pm_id, p.pid, p.status, p.restarts, p.exec_path, p.out_log) for p in snap.processes]
    listed = [(p.name, p.pm_id, p.pid, p.status, p.restarts, p.exec_path, p.out_log) for p in parse_jlist(jlist)]
    assert seen == listed and len(seen) == 2
    assert all(p.start_ticks and p.real_cwd.endswith(second.release) for p in snap.processes)  # for the /proc watch


def test_packed_example_whose_health_fails_under_pm2_is_rolled_back_over_ssh(
    pm2_spec, pm2, example, host_root, live_port
):
    good = release.deploy(example.build("1.4.0", port=live_port), pm2_spec)
    # A typo in the release's pm2 process file (PORT): refused before anything changes, both ports named.
    typo = example.build("1.5.0", port=live_port, pm2_port=free_port())
    with pytest.raises(
        ConfigError, match=rf"sets env PORT for its apps \(seed-api PORT=\d+\) but health probes port {live_port}"
    ):
        release.deploy(typo, doomed(pm2_spec))
    assert history_of(host_root)[-1]["release"] == good.release
    # The code listens elsewhere only under pm2: the boot test (`node src/index.js` on a spare port) passes,
    # preflight cannot know, and the live health window fails.
    elsewhere = example.build(
        "1.5.0",
        port=live_port,
        edits={"src/index.js": ("?? 3000)", "?? 3000) + (process.env.pm_id === undefined ? 0 : 1)")},
    )

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(elsewhere, doomed(pm2_spec))

    result = failure.value.result
    assert result.status == "rolled-back"
    assert next(s for s in result.steps if s.step == "boot-test").status == "ok"
    assert [s.step for s in result.steps][-3:] == ["rollback-switch", "rollback-restart", "rollback-health"]
    assert "connection refused" in result.report
    assert f"seed-api 1.5.0 listening on {live_port + 1}" in result.report  # pm2's own log of the release, tailed
    assert current_of(host_root) == good.release
    assert serving(live_port)["version"] == "1.4.0"
    assert history_of(host_root)[-1]["status"] == "rolled-back"


def test_adopting_a_tree_pm2_runs_in_place_moves_pm2_to_current_and_the_next_deploy_reloads_it(
    pm2, example, host_root, live_port
):
    # The seeds' host: the example copied by hand into place and started with `pm2 start` from there.
    shutil.copytree(example.root, host_root)
    ecosystem = host_root / "ecosystem.config.cjs"
    ecosystem.write_text(ecosystem.read_text().replace("PORT: 3000", f"PORT: {live_port}"))
    pm2.run("start", "ecosystem.config.cjs", cwd=host_root)
    wait_until(lambda: serving(live_port) is not None)
    spec = release.target(
        str(host_root),
        config={},
        shared=[".env"],
        pm2="ecosystem.config.cjs",
        pm2_bin=str(pm2.binary),
        pm2_min_uptime=PM2_MIN_UPTIME,
        health=f"http://127.0.0.1:{live_port}/health",
        health_expect="healthy",
        env={"PORT": str(live_port), **pm2.env},
    )
    messages: list[str] = []

    class Collect(release.NullReporter):
        def message(self, text: str, level: str = "info") -> None:
            messages.append(text)

    adopted = release.adopt(fast(spec), restart=True, reporter=Collect())

    assert serving(live_port)["version"] == "1.4.0"
    assert any("pm2 ran seed-api, seed-email-worker from outside" in m for m in messages)
    [api] = [p for p in parse_jlist(pm2.run("jlist").stdout) if p.name == "seed-api"]
    assert api.status == "online" and api.exec_path == f"{host_root}/current/src/index.js"

    result = release.deploy(example.build("1.5.0", port=live_port), fast(spec))
    assert serving(live_port)["version"] == "1.5.0"
    assert result.previous == adopted.release


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


def test_release_whose_renamed_pm2_app_crash_loops_while_the_old_process_keeps_the_port_is_rolled_back(
    pm2_spec, pm2, example, host_root, live_port
):
    good = release.deploy(example.build("1.4.0", port=live_port), pm2_spec)
    # The typo'd release renames its app: startOrReload starts `seed-apl` beside the old `seed-api`, which
    # keeps the port and answers healthy; the new process dies on EADDRINUSE and pm2 restarts it, again.
    renamed = example.build("1.5.0", port=live_port, edits={"ecosystem.config.cjs": ("'seed-api'", "'seed-apl'")})

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(renamed, doomed(pm2_spec))

    result = failure.value.result
    assert result.status == "rolled-back"
    health_step = next(s for s in result.steps if s.step == "health")
    assert health_step.status == "failed"
    assert "pm2 seed-apl[" in health_step.detail
    assert "restarted" in health_step.detail or "errored" in health_step.detail
    assert "pm2 also runs seed-api from" in result.report  # who answered the probe instead
    assert "EADDRINUSE" in result.report  # the new app's own log, tailed
    assert current_of(host_root) == good.release
    assert serving(live_port)["version"] == "1.4.0"
    running = {p["name"]: p["status"] for p in pm2.processes()}
    assert running == {"seed-api": "online", "seed-email-worker": "online"}  # the bad release's app is gone


def test_release_whose_worker_exits_at_once_under_pm2_is_rolled_back_though_the_api_answers(
    pm2_spec, pm2, example, host_root, live_port
):
    good = release.deploy(example.build("1.4.0", port=live_port), pm2_spec)
    # The bug the example once had: an unref'd timer lets the worker exit at once, and pm2 restarts it forever.
    # Under pm2 the open IPC channel can keep such a process alive for seconds, so the exit is made explicit:
    # the test is about a worker that exits at once, not about when Node notices an empty event loop.
    exits_at_once = "interval).unref();\nprocess.exit(0);"
    looping = example.build(
        "1.5.0", port=live_port, edits={"src/workers/email-worker.js": ("interval);", exits_at_once)}
    )

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(looping, doomed(pm2_spec))

    result = failure.value.result
    assert result.status == "rolled-back"
    assert "pm2 seed-email-worker[" in result.message
    assert current_of(host_root) == good.release
    assert serving(live_port)["version"] == "1.4.0"
    assert {p["name"]: p["status"] for p in pm2.processes()}["seed-email-worker"] == "online"


def _process(name: str, **fields) -> Pm2Process:
    base = dict(name=name, pm_id=0, status="online", pid=10, restarts=0, exec_path="", cwd="", out_log="", err_log="")
    return Pm2Process(**{**base, **fields})


def test_pm2_watch_judges_by_paths_without_proc_and_lets_a_finished_one_shot_app_be():
    watch = Watch(frozenset({"api", "migrate"}), "/srv/api/releases/r2", "/srv/api/current", "eco.cjs")
    migrate = _process("migrate", pm_id=1, status="stopped", autorestart=False)
    through_current = _process("api", exec_path="/srv/api/current/src/index.js", cwd="/srv/api/current")
    assert watch.judge(Snapshot([through_current, migrate])) == Vetting()

    elsewhere = _process("api", exec_path="/srv/api/releases/r1/src/index.js", cwd="/srv/api/releases/r1")
    vetting = watch.judge(Snapshot([elsewhere, migrate]))
    assert (
        vetting.fatal is None and "runs /srv/api/releases/r1/src/index.js, outside /srv/api/current" in vetting.pending
    )

    vetting = watch.judge(Snapshot([_process("api", restarts=1, exec_path=through_current.exec_path), migrate]))
    assert "pm2 api[0] restarted 1 time during the health window" in vetting.fatal
