"""Ports for servers the tests start (apps, fleets, sshd), reserved so two tests never get the same one.

``socket.bind(0)`` and closing again hands out an ephemeral port: nothing holds it between the check and the
server's own bind, and the kernel gives the same range to every outgoing connection, so another test (or
another test run on the machine) may take it. Here a port comes from 20000-32767, below Linux's
ephemeral range (32768-60999), and is leased to this process by a file created with O_EXCL in
``$TMPDIR/deploysafe-test-ports``: concurrent test processes skip each other's ports, a lease whose process
is gone is taken over, and a port something else holds (it does not bind) is skipped. Leases are
dropped when the process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import random
import socket
import tempfile
from pathlib import Path

LOW, HIGH = 20000, 32767
LEASES = Path(tempfile.gettempdir()) / "deploysafe-test-ports"
ATTEMPTS = 500
_held: set[int] = set()


def reserve_port() -> int:
    """A port on 127.0.0.1 that binds now and that no other test process will be given."""
    LEASES.mkdir(parents=True, exist_ok=True)
    for _ in range(ATTEMPTS):
        port = random.randint(LOW, HIGH)
        if port in _held or not _lease(port):
            continue
        if _binds(port):
            _held.add(port)
            return port
        _drop(port)
    raise RuntimeError(f"no free port in {LOW}-{HIGH} after {ATTEMPTS} tries (leases in {LEASES})")


def _lease(port: int) -> bool:
    path = LEASES / str(port)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _holder_alive(path):
                return False
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # its process is gone: take the lease over
            continue
        with os.fdopen(fd, "w") as out:
            out.write(str(os.getpid()))
        return True
    return False


def _holder_alive(path: Path) -> bool:
    try:
        pid = int(path.read_text() or "0")
    except (OSError, ValueError):
        return True  # being written right now
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except OSError as err:
        return err.errno == errno.EPERM
    return True


def _binds(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as node and sshd bind theirs
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _drop(port: int) -> None:
    with contextlib.suppress(OSError):
        if (LEASES / str(port)).read_text() == str(os.getpid()):
            (LEASES / str(port)).unlink()


@atexit.register
def _release_all() -> None:
    for port in list(_held):
        _drop(port)
    _held.clear()
