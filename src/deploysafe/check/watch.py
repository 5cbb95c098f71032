"""`check --watch`: one check kept open and run again whenever the project's files change.

watchfiles (inotify on Linux, through the Rust notify crate) reports which paths changed. A batch that only
edits files the last graph holds is re-checked from memory (:class:`~deploysafe.check.pipeline.CheckSession`
reads just those files again); anything else — a file added, removed or renamed, a manifest edited, an
install finished — opens the project afresh. Inside node_modules only the marker a package manager writes
when an install ends (npm's ``node_modules/.package-lock.json``, pnpm's ``.modules.yaml``, Yarn's
``.yarn-state.yml`` and ``.yarn-integrity``) starts a re-check, so an install in progress is not checked
halfway. What changed in the verdict between two checks is :func:`changes`.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from deploysafe.check.findings import Finding
from deploysafe.check.pipeline import CheckSession, Report

DEBOUNCE_MS = 50  # changes closer together than this are one batch (an editor's write, rename and chmod)
READY_MS = 200  # how long the watcher waits for a change before it says it is idle (and, first, ready)
INSTALL_MARKERS = frozenset((".package-lock.json", ".modules.yaml", ".yarn-state.yml", ".yarn-integrity"))
IGNORED_DIRS = frozenset((".git", ".hg", ".svn", ".deploysafe", "__pycache__", ".cache", ".idea", ".vscode"))
IGNORED_SUFFIXES = (".swp", ".swo", ".swx", "~", ".tmp")  # editors' scratch files


@dataclass(frozen=True)
class Changes:
    """What a re-check changed in the verdict: findings that appeared and ones that are gone."""

    new: list[Finding]
    fixed: list[Finding]


def changes(before: Report, after: Report) -> Changes:
    """Findings in ``after`` and not ``before``, and the reverse. A finding is the same one when its rule,
    severity, file and message are: moving it to another line by editing above it is not a change."""

    def key(finding: Finding) -> tuple[str, str, str, str]:
        return (finding.rule, str(finding.severity), finding.file, finding.message)

    old, now = Counter(map(key, before.findings)), Counter(map(key, after.findings))
    new, fixed = now - old, old - now
    return Changes(_take(after.findings, new, key), _take(before.findings, fixed, key))


def _take(findings: list[Finding], wanted: Counter, key: Callable[[Finding], tuple[str, ...]]) -> list[Finding]:
    taken = []
    for finding in findings:
        if wanted[key(finding)] > 0:
            wanted[key(finding)] -= 1
            taken.append(finding)
    return taken


class ProjectFilter:
    """The changes that can change the verdict: not version control, caches or editors' scratch files, and
    in node_modules only an install's end."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def __call__(self, change: object, path: str) -> bool:
        rel = os.path.relpath(os.path.realpath(path), self.root)
        parts = rel.split(os.sep)
        if parts[0] == os.pardir or path.endswith(IGNORED_SUFFIXES):
            return False
        if "node_modules" in parts:
            return parts[0] == "node_modules" and len(parts) == 2 and parts[1] in INSTALL_MARKERS
        return not any(part in IGNORED_DIRS for part in parts)


def watch(
    session: CheckSession,
    on_report: Callable[[Report | None, Report], None],
    stop: threading.Event | None = None,
) -> None:
    """Check as soon as the watcher is in place, then again after every batch of changes, until ``stop`` is
    set or Ctrl-C; each verdict goes to ``on_report(previous, current)`` (previous is None for the first)."""
    import watchfiles

    root = os.path.realpath(session.root)
    batches = watchfiles.watch(
        root,
        watch_filter=ProjectFilter(root),
        debounce=DEBOUNCE_MS,
        step=10,
        stop_event=stop,
        raise_interrupt=False,
        rust_timeout=READY_MS,
        yield_on_timeout=True,
    )
    report: Report | None = None
    for batch in batches:
        # The first batch (empty, after READY_MS) says the watcher is in place: the first check comes
        # then, so an edit made once "watching" is printed is never missed, and one made during a check
        # waits in the queue for the next.
        if report is not None and not batch:
            continue
        modified = report is not None and all(change is watchfiles.Change.modified for change, _ in batch)
        changed = {os.path.realpath(path) for _, path in batch} if modified else None
        current = session.check(changed)
        on_report(report, current)
        report = current
