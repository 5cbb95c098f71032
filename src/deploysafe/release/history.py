"""``.deploysafe/history.jsonl``: one JSON record per deploy, rollback or adopt, appended when it ends.

A record: ``kind`` (deploy / rollback / adopt), ``run``, ``release``, ``artifact_sha256``, ``who``,
``started``, ``finished``, ``previous``, ``steps`` (each step's outcome) and ``status``:
``good``, ``failed`` (stopped before the switch, or its rollback failed too), ``rolled-back``
(switched, failed a gate, the previous release is serving again) or ``interrupted`` (a signal or a
closed output stopped it, which it records itself, having put the previous release back if it had
switched; or its process died, recorded by the next run that recovers the lock). The circuit breaker
counts ``failed`` and ``rolled-back`` deploys, never ``interrupted`` ones.

A record is appended whole or not at all (a failed write on a full disk is cut back off). A line that is
still torn (a host crash mid-write, an older version) is set aside on read and never glued to the next
record: ``append`` starts a new line when the file does not end with one.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import socket
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from deploysafe.errors import DeploysafeError
from deploysafe.hosts.base import Host
from deploysafe.release.layout import Layout

GOOD = "good"
FAILED = "failed"
ROLLED_BACK = "rolled-back"
INTERRUPTED = "interrupted"
BREAKER_LIMIT = 3


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def who() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def read(target: Host, layout: Layout) -> list[dict[str, Any]]:
    """Every well-formed record, oldest first; torn or unreadable lines are set aside (see ``parse``)."""
    return parse(target.read_file(layout.history) or b"")[0]


def parse(data: bytes) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The well-formed records in history bytes, oldest first, and the lines set aside as unreadable."""
    records: list[dict[str, Any]] = []
    torn: list[bytes] = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            torn.append(line)
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            torn.append(line)
    return records, torn


def append(target: Host, layout: Layout, record: dict[str, Any]) -> None:
    """Append one record as one line, whole or not at all; a torn last line stays a line of its own."""
    line = json.dumps(record, separators=(",", ":"), sort_keys=False) + "\n"
    target.append_file(layout.history, line.encode(), own_line=True)  # reads the last byte, not the file


def mark_last_good(target: Host, layout: Layout, release: str) -> None:
    """Point ``.deploysafe/last-good`` at ``release`` (best effort: the history record is the account)."""
    with contextlib.suppress(DeploysafeError):
        target.replace_symlink(layout.last_good, layout.current_link_value(release))


def last_good(target: Host, layout: Layout) -> str | None:
    """The release ``.deploysafe/last-good`` names, or None."""
    return layout.release_of_link(target.readlink(layout.last_good))


def release_statuses(records: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The latest verdict on each release. A manual rollback away from a release does not condemn it."""
    statuses: dict[str, str] = {}
    for record in records:
        release = record.get("release")
        status = record.get("status")
        if not isinstance(release, str) or not isinstance(status, str):
            continue
        if record.get("kind") == "rollback" and status != GOOD:
            continue
        statuses[release] = status
    return statuses


def good_order(records: Iterable[dict[str, Any]]) -> list[str]:
    """Releases that were last judged good, most recently good first (``records`` is read once)."""
    records = list(records)
    statuses = release_statuses(records)
    order: list[str] = []
    for record in records:
        release = record.get("release")
        if record.get("status") == GOOD and isinstance(release, str):
            if release in order:
                order.remove(release)
            order.insert(0, release)
    return [r for r in order if statuses.get(r) == GOOD]


def consecutive_failures(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The failed deploys since the last good deploy, rollback or adopt (oldest first)."""
    failures: list[dict[str, Any]] = []
    for record in reversed(records):
        kind, status = record.get("kind"), record.get("status")
        if status == GOOD and kind in ("deploy", "rollback", "adopt"):
            break
        if kind == "deploy" and status in (FAILED, ROLLED_BACK):
            failures.append(record)
    return list(reversed(failures))
