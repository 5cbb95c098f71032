"""A command over SSH cut short - by its timeout or an interrupt - is killed on the host with what it
started, and the next command on the connection runs only once it is gone."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from deploysafe.errors import TargetError
from deploysafe.hosts.base import run_configured
from deploysafe.hosts.ssh import SshHost, parse_ssh_url
from deploysafe.release import interrupts
from tests.support.processes import alive

# a command that keeps a helper running beside it (as a restart script's `node ... &` would), then hangs
HANGS = 'sleep 60 & echo $! > helper.pid; echo "$$" > command.pid; sleep 60'


def _pids(where: Path) -> list[int]:
    deadline = time.monotonic() + 10
    while not (where / "helper.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return [int((where / name).read_text()) for name in ("helper.pid", "command.pid")]


def test_a_remote_command_cut_short_is_killed_on_the_host_before_the_next_one_runs(sshd, tmp_path):
    host = SshHost(parse_ssh_url(sshd.url(str(tmp_path))), known_hosts=str(sshd.known_hosts), identity=str(sshd.key))
    try:
        with pytest.raises(TargetError, match="timed out after 1s"):
            run_configured(host, HANGS, cwd=str(tmp_path), timeout=1)
        pids = _pids(tmp_path)
        assert host.run(["true"]).ok  # waits for the kill
        assert not any(alive(pid) for pid in pids), "the timed-out command runs on on the host"

        for name in ("helper.pid", "command.pid"):
            (tmp_path / name).unlink()
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        with interrupts.trapped(), pytest.raises(interrupts.Interrupted):
            run_configured(host, HANGS, cwd=str(tmp_path))
        pids = _pids(tmp_path)
        assert host.run(["true"]).ok
        assert not any(alive(pid) for pid in pids), "the interrupted command runs on on the host"
    finally:
        host.close()
