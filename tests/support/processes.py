"""Find and stop processes a test started under a directory (services, boot tests, pm2 children)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return ""


def pids_under(directory: str | os.PathLike[str]) -> list[int]:
    """Live processes whose working directory is inside ``directory``."""
    root = os.path.realpath(directory) + "/"
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if (cwd + "/").startswith(root) and _state(int(entry)) not in ("", "Z"):
            found.append(int(entry))
    return found


def kill_under(directory: str | os.PathLike[str], grace: float = 2.0) -> list[int]:
    """TERM, then KILL, every live process working inside ``directory``; return their pids."""
    pids = pids_under(directory)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_state(p) not in ("", "Z") for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _state(pid) not in ("", "Z"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return pids


def alive(pid: int) -> bool:
    return _state(pid) not in ("", "Z")


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
