"""A colour is drained until the kernel shows no connection to its port, not on a timer alone: real
sockets on loopback, the real /proc/net/tcp table read through the local host."""

from __future__ import annotations

import socket
import threading
import time

from deploysafe.hosts import LocalHost
from deploysafe.release.proxy import drain
from tests.support.sshd import free_port


def _listener(port: int) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    return server


def _connected(port: int) -> tuple[socket.socket, socket.socket, socket.socket]:
    """A listener on ``port`` with one established connection: (listener, client end, server end)."""
    server = _listener(port)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    return server, client, accepted


def test_open_connections_counts_only_established_ones_to_the_port(tmp_path):
    host = LocalHost(str(tmp_path))
    port = free_port()
    server = _listener(port)
    try:
        table = host.run(["cat", "/proc/net/tcp", "/proc/net/tcp6"]).stdout
        assert drain.open_connections(table, port) == 0  # listening is not a connection
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        table = host.run(["cat", "/proc/net/tcp", "/proc/net/tcp6"]).stdout
        assert drain.open_connections(table, port) == 1  # the client's end has an ephemeral local port
        client.close()
        accepted.close()
    finally:
        server.close()


def test_until_idle_waits_for_the_last_connection_then_returns(tmp_path):
    host = LocalHost(str(tmp_path))
    port = free_port()
    server, client, accepted = _connected(port)
    closed_at: list[float] = []

    def close_later() -> None:
        time.sleep(1.5)
        client.close()
        accepted.close()
        closed_at.append(time.monotonic())

    closer = threading.Thread(target=close_later)
    start = time.monotonic()
    closer.start()
    try:
        waited, left = drain.until_idle(host, port, 0.2, at_most=20)
    finally:
        closer.join()
        server.close()
    assert left == 0 and closed_at
    assert closed_at[0] - start >= 1.4 and waited >= closed_at[0] - start - 0.1  # not before the close
    assert waited < 10


def test_until_idle_gives_up_after_its_bound_and_says_what_is_still_open(tmp_path):
    host = LocalHost(str(tmp_path))
    port = free_port()
    server, client, accepted = _connected(port)
    try:
        waited, left = drain.until_idle(host, port, 0.1, at_most=1.0)
    finally:
        client.close()
        accepted.close()
        server.close()
    assert left == 1 and 1.0 <= waited < 5
