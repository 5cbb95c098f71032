"""Draining a colour the proxy no longer routes to: wait ``drain`` seconds, then until no connection to
its port is open, bounded, before it is stopped.

After a graceful reload the proxy's old workers still finish what they have: requests in flight and, with
upstream keep-alive, connections they hold to the old colour. Stopping it on a timer alone turns what they
still send into 502s. The connections themselves say when the proxy is done with it: the kernel's table of
established TCP connections (``/proc/net/tcp``, ``/proc/net/tcp6``) whose local port is the colour's.
"""

from __future__ import annotations

import time

from deploysafe.hosts.base import Host

ESTABLISHED = "01"  # the st column of /proc/net/tcp
LISTEN = "0A"
QUIET_CHECKS = 2  # consecutive reads with no connection before the colour counts as idle
POLL = 0.2  # seconds between reads
AT_MOST = 30.0  # seconds past ``drain`` after which the colour is stopped whatever it still serves


def open_connections(table: str, port: int, state: str = ESTABLISHED) -> int:
    """Connections in ``state`` (established) whose local end is ``port``, counted in /proc/net/tcp{,6} text."""
    count = 0
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 4 or ":" not in fields[1]:
            continue
        try:
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
        except ValueError:
            continue
        if local_port == port and fields[3] == state:
            count += 1
    return count


def _table(target: Host) -> str:
    return target.run(["cat", "/proc/net/tcp", "/proc/net/tcp6"], timeout=10).stdout


def listening(target: Host, port: int) -> bool | None:
    """Whether something on the host listens on ``port`` (None: the table cannot be read)."""
    table = _table(target)
    return open_connections(table, port, LISTEN) > 0 if table else None


def until_idle(target: Host, port: int, drain: float, *, at_most: float = AT_MOST) -> tuple[float, int]:
    """Wait ``drain`` seconds, then until ``port`` has had no established connection for
    :data:`QUIET_CHECKS` reads in a row, at most ``at_most`` seconds more. Returns the seconds waited and
    the connections still open when it gave up (0 when it went idle, or when the table cannot be read:
    a host without /proc is drained on the timer alone)."""
    start = time.monotonic()
    time.sleep(drain)
    quiet = 0
    left = 0
    while time.monotonic() - start < drain + at_most:
        table = _table(target)
        if not table:
            return time.monotonic() - start, 0
        left = open_connections(table, port)
        quiet = quiet + 1 if left == 0 else 0
        if quiet >= QUIET_CHECKS:
            return time.monotonic() - start, 0
        time.sleep(POLL)
    return time.monotonic() - start, left
