"""`check --watch`: one check kept open and run again whenever the project's files change.

watchfiles (inotify on Linux, through the Rust notify crate) reports which paths changed. A batch that only
edits files the last graph holds is re-checked from memory (:class:`~deploysafe.check.pipeline.CheckSession`
reads just those files again); anything else — a file added, removed or renamed, a manifest edited, an
install finished — opens the project afresh. What changed in the verdict between two checks is
:func:`changes`.

What is watched (:func:`watched_folders`): each folder of the project, one inotify watch apiece (watchfiles'
filter only drops events; it does not spare watches), less version control, caches and the folders of
installed dependencies (node_modules: thousands of folders the check never reads as the project's own). Of
those, only the folder of each install marker the ecosystem names (npm's ``node_modules/.package-lock.json``,
...) is watched, and for the marker alone, so an install in progress is not checked halfway. A folder added
re-opens the watcher on the folders there are then, and the project is checked afresh once it is in place,
so nothing written meanwhile is missed.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from deploysafe.check.findings import Finding
from deploysafe.check.pipeline import CheckSession, Report

DEBOUNCE_MS = 50  # changes closer together than this are one batch (an editor's write, rename and chmod)
READY_MS = 200  # how long the watcher waits for a change before it says it is idle (and, first, ready)
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
    """The changes that can change the verdict: not version control, caches or editors' scratch files, and in
    the folders of installed dependencies only an install marker (or the marker's folder appearing)."""

    def __init__(self, root: str, installed_dirs: Iterable[str] = (), markers: Iterable[str] = ()) -> None:
        self.root = os.path.realpath(root)
        self.installed = frozenset(installed_dirs)
        self.markers = frozenset(markers)
        self.marker_dirs = frozenset(os.path.dirname(m) for m in self.markers)

    def __call__(self, change: object, path: str) -> bool:
        rel = os.path.relpath(os.path.realpath(path), self.root)
        parts = rel.split(os.sep)
        if parts[0] == os.pardir or path.endswith(IGNORED_SUFFIXES):
            return False
        if any(part in self.installed for part in parts):
            return "/".join(parts) in self.markers or "/".join(parts) in self.marker_dirs
        return not any(part in IGNORED_DIRS for part in parts)


def watched_folders(root: str, installed_dirs: Iterable[str], markers: Iterable[str]) -> list[str]:
    """The folders to watch under ``root``: every one but version control, caches and installed
    dependencies' (symlinks are not followed: what they reach outside the root is not the project's), and
    the folder of each install marker that exists."""
    skipped = IGNORED_DIRS | frozenset(installed_dirs)
    found = []
    for folder, subfolders, _ in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in skipped]
        found.append(folder)
    for marker in markers:
        folder = os.path.dirname(os.path.join(root, marker))
        if os.path.isdir(folder) and folder not in found:
            found.append(folder)
    return found


def watch(
    session: CheckSession,
    on_report: Callable[[Report | None, Report], None],
    stop: threading.Event | None = None,
) -> None:
    """Check as soon as the watcher is in place, then again after every batch of changes, until ``stop`` is
    set or Ctrl-C; each verdict goes to ``on_report(previous, current)`` (previous is None for the first)."""
    import watchfiles

    root = os.path.realpath(session.root)
    ecosystem = session.ecosystem
    installed, markers = ecosystem.installed_dirs, ecosystem.install_markers
    accept = ProjectFilter(root, installed, markers)
    report: Report | None = None
    while True:  # a watcher on the folders there are now; again when one is added
        folders = watched_folders(root, installed, markers) if os.path.isdir(root) else []
        if not folders:  # not a folder: the check says so, as a check without --watch does
            on_report(None, session.check())
            return
        batches = watchfiles.watch(
            *folders,
            watch_filter=accept,
            debounce=DEBOUNCE_MS,
            step=10,
            stop_event=stop,
            raise_interrupt=False,
            rust_timeout=READY_MS,
            yield_on_timeout=True,
            recursive=False,
        )
        fresh = True  # the first batch (empty, after READY_MS) says the watcher is in place
        try:
            for batch in batches:
                if fresh:  # check now: an edit made once "watching" is printed is never missed, and one
                    fresh = False  # made during a check waits in the queue for the next
                    current = session.check()
                elif not batch:
                    continue
                elif any(change is watchfiles.Change.added and os.path.isdir(path) for change, path in batch):
                    break  # a new folder: watch it too, then check afresh
                elif all(change is watchfiles.Change.modified for change, _ in batch):
                    current = session.check({os.path.realpath(path) for _, path in batch})
                else:
                    current = session.check()
                on_report(report, current)
                report = current
            else:
                return  # stopped, or Ctrl-C between checks
        except FileNotFoundError:  # a folder went away before its watch was in place: look again
            pass
        finally:
            batches.close()
