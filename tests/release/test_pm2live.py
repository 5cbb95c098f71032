"""Between two reads of pm2's list: real processes, read through /proc by a real host."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from deploysafe.hosts import LocalHost
from deploysafe.release.pm2 import Pm2Process, Snapshot
from deploysafe.release.pm2live import Liveness

API = frozenset({"api"})


def _start_ticks(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()[19]


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()[0]


def _online(pid: int) -> Pm2Process:
    return Pm2Process(
        name="api",
        pm_id=0,
        status="online",
        pid=pid,
        restarts=0,
        exec_path="/srv/api/current/index.js",
        cwd="/srv/api/current",
        out_log="",
        err_log="",
        started_ms=1_000,
        start_ticks=_start_ticks(pid),
    )


def test_a_process_pm2_reported_is_known_alive_from_proc_until_it_is_gone_or_another_has_its_pid(tmp_path):
    odd = tmp_path / "api (v2) x"  # /proc/PID/stat shows the name in parentheses, spaces and all
    shutil.copy(shutil.which("sleep") or "/bin/sleep", odd)
    process = subprocess.Popen([str(odd), "30"])
    try:
        app = _online(process.pid)
        live = Liveness(LocalHost(tmp_path))

        live.remember(Snapshot([app], now_ms=2_000), API, up=False)  # something was pending: ask pm2 again
        assert live.still() is None and live.checks == 0

        live.remember(Snapshot([app], now_ms=2_000), API, up=True)
        time.sleep(0.3)
        aged = live.still()
        assert aged is not None and aged.processes == [app]
        assert 2_300 <= aged.now_ms < 2_000 + 3_000  # the uptime moves on with the clock

        live.remember(Snapshot([replace(app, start_ticks="1")], now_ms=2_000), API, up=True)
        assert live.still() is None  # the pid names another process now: pm2 restarted it

        live.remember(Snapshot([app], now_ms=2_000), API, up=True)
        process.kill()
        deadline = time.monotonic() + 5
        while _state(process.pid) != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert live.still() is None  # exited, not yet reaped: gone
        process.wait()
        live.remember(Snapshot([app], now_ms=2_000), API, up=True)
        assert live.still() is None
    finally:
        process.kill()
        process.wait()


def test_a_snapshot_without_start_times_is_never_trusted_between_reads(tmp_path):
    live = Liveness(LocalHost(tmp_path))
    live.remember(Snapshot([replace(_online(1), start_ticks="")], now_ms=2_000), API, up=True)  # no /proc there
    assert live.still() is None and live.checks == 0
