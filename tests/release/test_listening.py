"""release/listening.py: the ports a started process tree listens on, read from /proc, against real node:
a child the started shell forks holds the tree's port; a socket this test holds is the host's, not the tree's."""

from __future__ import annotations

import os
import socket
import time

from deploysafe.hosts.local import LocalHost
from deploysafe.release import boot, listening
from tests.support.ports import reserve_port


def test_the_tree_s_listening_port_is_found_in_a_child_and_a_foreign_one_is_not(tmp_path):
    host = LocalHost(str(tmp_path))
    mine, foreign = reserve_port(), reserve_port()
    server = f"require('node:http').createServer().listen({mine}, '127.0.0.1')"
    command = f'node -e "{server}" & wait'  # the listener is a child of the started shell
    log, pidfile = str(tmp_path / "boot.log"), str(tmp_path / "boot.pid")
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", foreign))
        held.listen()
        pid = boot.launch(host, command, cwd=str(tmp_path), env=dict(os.environ), log=log, pidfile=pidfile)
        try:
            seen = listening.Listening()
            end = time.monotonic() + 20
            while mine not in seen.tree and time.monotonic() < end:
                time.sleep(0.2)
                seen = listening.ports(host, pid)
        finally:
            boot.stop(host, pid, pidfile=pidfile)
    assert seen.tree == {mine}, (seen, (tmp_path / "boot.log").read_text())
    assert {mine, foreign} <= seen.host
    assert listening.ports(host, pid).tree == set()  # stopped: nothing of the tree is left
