"""``.deploysafe/lock``: one deploy at a time per target.

The lock file is written complete under a temporary name and hard-linked into place, so it appears
atomically and is never half-written. It records who holds it: run id, user, this machine's host name
and boot id, pid and the pid's start time. A holder is *provably dead* only when it ran on this very
machine and boot and its process is gone (or the pid now belongs to a newer process); then the lock
is taken over with a message. A holder on another machine is never presumed dead: ``unlock`` breaks it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from deploysafe import safejson
from deploysafe.errors import LockError
from deploysafe.hosts.base import Host
from deploysafe.release.history import now, who
from deploysafe.release.layout import Layout

# Runs of this process that currently hold a lock: a lock naming our own pid but another run is stale.
_ACTIVE_RUNS: set[str] = set()


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state first), or [] if there is no such pid."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()
    except OSError:
        return []


def _pid_start(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot (field 22 of /proc/PID/stat), or ""."""
    fields = _proc_stat(pid)
    return fields[19] if len(fields) > 19 else ""


@dataclass(frozen=True)
class LockInfo:
    run: str
    who: str
    host: str
    boot_id: str
    pid: int
    pid_start: str
    since: str
    command: str

    @classmethod
    def for_this_process(cls, command: str, run: str | None = None) -> LockInfo:
        pid = os.getpid()
        return cls(
            run=run or uuid.uuid4().hex[:12],
            who=who(),
            host=socket.gethostname(),
            boot_id=_boot_id(),
            pid=pid,
            pid_start=_pid_start(pid),
            since=now(),
            command=command,
        )

    @classmethod
    def parse(cls, data: bytes) -> LockInfo | None:
        try:
            raw: dict[str, Any] = safejson.loads(data.decode("utf-8"))
            return cls(
                run=str(raw["run"]),
                who=str(raw.get("who", "?")),
                host=str(raw.get("host", "")),
                boot_id=str(raw.get("boot_id", "")),
                pid=int(raw.get("pid", 0)),
                pid_start=str(raw.get("pid_start", "")),
                since=str(raw.get("since", "")),
                command=str(raw.get("command", "")),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None

    def to_bytes(self) -> bytes:
        return (json.dumps(asdict(self), indent=2) + "\n").encode()

    def describe(self) -> str:
        return f"{self.command} run {self.run} by {self.who} (pid {self.pid}, since {self.since})"


def holder_state(info: LockInfo) -> tuple[str, str]:
    """("alive" | "dead" | "unknown", reason)."""
    if info.host != socket.gethostname():
        return "unknown", f"held from another machine ({info.host})"
    if info.boot_id and _boot_id() and info.boot_id != _boot_id():
        return "dead", f"{info.host} has rebooted since the lock was taken"
    if info.pid == os.getpid():
        if info.run in _ACTIVE_RUNS:
            return "alive", "held by this process"
        return "dead", f"run {info.run} of this process has ended"
    fields = _proc_stat(info.pid)
    if not fields or fields[0] in ("Z", "X"):
        return "dead", f"its process {info.pid} on this host is gone"
    if info.pid_start and _pid_start(info.pid) != info.pid_start:
        return "dead", f"pid {info.pid} now belongs to another process"
    return "alive", f"process {info.pid} is running"


class Lock:
    """Holds the target's lock for one run."""

    def __init__(self, target: Host, layout: Layout, info: LockInfo) -> None:
        self.target = target
        self.layout = layout
        self.info = info
        self.held = False

    def acquire(
        self, wait: float = 0.0, on_message: Callable[[str], None] | None = None, poll: float = 0.25
    ) -> LockInfo | None:
        """Take the lock; return the dead holder's info when it was taken over, else None."""
        deadline = time.monotonic() + max(wait, 0.0)
        taken_over: LockInfo | None = None
        while True:
            if self.target.create_file(self.layout.lock, self.info.to_bytes()):
                self.held = True
                _ACTIVE_RUNS.add(self.info.run)
                return taken_over
            data = self.target.read_file(self.layout.lock)
            if data is None:
                continue  # released between our attempt and the read: try again at once
            holder = LockInfo.parse(data)
            if holder is None:
                raise LockError(
                    f"{self.target.url} has an unreadable lock {self.layout.lock}; "
                    f"if no deploy is running, break it with `deploysafe unlock --to {self.target.url}`"
                )
            state, reason = holder_state(holder)
            if state == "dead":
                if self._take_over(holder):
                    if on_message:
                        on_message(f"taking over the lock of {holder.describe()}: {reason}")
                    taken_over = holder
                continue
            if time.monotonic() >= deadline:
                hint = "wait for it with --lock-wait SECONDS" if state == "alive" else ""
                raise LockError(
                    f"{self.target.url} is locked by {holder.describe()} ({reason}); "
                    + (hint + "; " if hint else "")
                    + f"if that deploy is gone, break the lock with `deploysafe unlock --to {self.target.url}`"
                )
            time.sleep(poll)

    def _take_over(self, holder: LockInfo) -> bool:
        """Move the dead holder's lock aside; put it back if a live one slipped in meanwhile."""
        aside = f"{self.layout.lock}.dead-{holder.run}"
        try:
            self.target.rename(self.layout.lock, aside)
        except Exception:
            return False
        moved = LockInfo.parse(self.target.read_file(aside) or b"")
        if moved is not None and moved.run != holder.run:
            self.target.create_file(self.layout.lock, self.target.read_file(aside) or b"")
            self.target.remove(aside)
            return False
        self.target.remove(aside)
        return True

    def release(self) -> None:
        if not self.held:
            return
        data = self.target.read_file(self.layout.lock)
        holder = LockInfo.parse(data) if data else None
        if holder is not None and holder.run == self.info.run:
            self.target.remove(self.layout.lock)
        self.held = False
        _ACTIVE_RUNS.discard(self.info.run)

    def forget(self) -> None:
        """The connection is gone: we cannot remove the lock; mark the run ended so it counts as dead."""
        self.held = False
        _ACTIVE_RUNS.discard(self.info.run)


def read_holder(target: Host, layout: Layout) -> LockInfo | None:
    data = target.read_file(layout.lock)
    return LockInfo.parse(data) if data else None
