"""Which releases to delete: keep ``keep`` releases, failed ones go first, then the oldest good ones.

Never the current release, never the previous good one (the rollback target), never one being deployed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from deploysafe.release.history import GOOD


def plan(
    releases: Iterable[str],
    statuses: Mapping[str, str],
    chronology: list[str],
    *,
    keep: int,
    protect: Iterable[str],
) -> list[str]:
    """The release ids to delete, in deletion order.

    ``chronology`` lists releases by their latest history record, oldest first; a release the history
    does not know counts as older than all of them.
    """
    present = list(releases)
    keep_always = {r for r in protect if r}
    rank = {r: i for i, r in enumerate(chronology)}
    candidates = sorted((r for r in present if r not in keep_always), key=lambda r: (rank.get(r, -1), r))
    not_good = [r for r in candidates if statuses.get(r) != GOOD]
    good = [r for r in candidates if statuses.get(r) == GOOD]
    doomed: list[str] = []
    count = len(present)
    for release in not_good + good:
        if count <= keep:
            break
        doomed.append(release)
        count -= 1
    return doomed


def chronology(records: Iterable[Mapping[str, object]]) -> list[str]:
    """Release ids ordered by their latest history record, oldest first."""
    order: list[str] = []
    for record in records:
        release = record.get("release")
        if isinstance(release, str):
            if release in order:
                order.remove(release)
            order.append(release)
    return order
