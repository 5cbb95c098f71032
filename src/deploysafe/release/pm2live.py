"""Between two reads of pm2's process list: whether the processes the last one saw still run, from /proc.

Reading pm2's list starts node and the pm2 CLI on the host (0.3 s on a quiet machine, over a second
under load), and a health window asks after every probe. :class:`Liveness` keeps the last
:class:`deploysafe.release.pm2.Snapshot` in which every app judged was up, and answers the next
question with one ``cat /proc/PID/stat ...``: a pid that still runs, not a zombie, with the start time
the snapshot read is the very process pm2 reported online, so it has not restarted and still runs from
the same release. It then hands back that snapshot aged by the time since it was read, for
:class:`deploysafe.release.pm2.Watch` to judge by its own rules (uptime included). Anything else (a pid
gone or reused, no /proc, ``cat`` failing) answers None: read pm2's list again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from deploysafe.hosts.base import Host
from deploysafe.release.pm2 import Pm2Process, Snapshot


def stat_command(pids: list[int]) -> list[str]:
    return ["cat", *(f"/proc/{pid}/stat" for pid in pids)]


def parse_stats(text: str) -> dict[int, tuple[str, str]]:
    """``pid -> (state, start time)`` from the lines of ``/proc/PID/stat`` files (garbage is skipped)."""
    found: dict[int, tuple[str, str]] = {}
    for line in text.splitlines():
        head, paren, rest = line.rpartition(")")  # the command name may hold spaces and parentheses
        pid = head.split(" ", 1)[0]
        fields = rest.split()
        if paren and pid.isdigit() and len(fields) > 19:
            found[int(pid)] = (fields[0], fields[19])
    return found


@dataclass
class _Seen:
    snap: Snapshot
    at: float  # time.monotonic() when the read returned (later than the host's clock in it: uptimes err low)
    processes: list[Pm2Process]  # the ones whose pids must still run


class Liveness:
    """Remembers a snapshot in which the apps judged were up, and tells whether they still are."""

    def __init__(self, target: Host) -> None:
        self.target = target
        self._seen: _Seen | None = None
        self.checks = 0  # questions answered from /proc (or tried): how often pm2 was not asked

    def remember(self, snap: Snapshot, names: frozenset[str], up: bool) -> None:
        """Keep ``snap`` when ``up`` (the watch found nothing pending in it) and every online app judged in
        it carries a pid and a start time; otherwise forget, so the next question reads pm2 again."""
        online = [p for p in snap.processes if p.name in names and p.status == "online"]
        if not up or not online or any(p.pid <= 0 or not p.start_ticks for p in online):
            self.forget()
            return
        self._seen = _Seen(snap, time.monotonic(), online)

    def forget(self) -> None:
        self._seen = None

    def still(self) -> Snapshot | None:
        """The remembered snapshot, its clock moved on, if every process in it still runs as it did; else None."""
        seen = self._seen
        if seen is None:
            return None
        self.checks += 1
        done = self.target.run(stat_command([p.pid for p in seen.processes]), timeout=30)
        stats = parse_stats(done.stdout) if done.ok else {}
        for process in seen.processes:
            state, start = stats.get(process.pid, ("", ""))
            if not state or state in ("Z", "X", "x") or start != process.start_ticks:
                self.forget()
                return None
        elapsed_ms = int((time.monotonic() - seen.at) * 1000)
        return replace(seen.snap, now_ms=seen.snap.now_ms + elapsed_ms) if seen.snap.now_ms else seen.snap
