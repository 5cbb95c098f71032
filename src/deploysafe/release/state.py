"""The host's layout read back: what state the target directory is in, which release is current, which
releases are on disk, and which one a failure falls back to. Reads only; nothing here changes the host."""

from __future__ import annotations

import posixpath

from deploysafe import safejson
from deploysafe.errors import TargetError
from deploysafe.hosts import Host
from deploysafe.release import history
from deploysafe.release.layout import LAYOUT_NAMES, Layout, is_release_id

INSTALL_RECORD = ".deploysafe/install.json"


def check_layout(target: Host, layout: Layout) -> str:
    """'missing' | 'empty' | 'deploysafe'; refuses a plain non-empty directory (suggests adopt)."""
    kind = target.kind(layout.root)
    if kind is None:
        return "missing"
    if kind != "dir":
        raise TargetError(f"{target.url} is not a directory")
    names = target.listdir(layout.root)
    if not names:
        return "empty"
    if ".deploysafe" in names or ("releases" in names and "current" in names):
        if target.kind(posixpath.join(layout.meta, "adopt.json")) is not None:
            raise TargetError(
                f"an adopt of {target.url} was interrupted: run `deploysafe adopt --to {target.url}` again to finish it"
            )
        return "deploysafe"
    others = [n for n in names if n not in LAYOUT_NAMES]
    if not others:
        return "empty"  # e.g. only shared/.env, put there before the first deploy
    raise TargetError(
        f"{target.url} is a plain non-empty directory ({', '.join(others[:3])}"
        f"{', ...' if len(others) > 3 else ''}), not a deploysafe layout; "
        f"run `deploysafe adopt --to {target.url}` first to make it the first release"
    )


def current_release(target: Host, layout: Layout) -> str | None:
    return layout.release_of_link(target.readlink(layout.current))


def existing_releases(target: Host, layout: Layout) -> list[str]:
    found = target.entries(layout.releases)  # one round trip, not one per release
    return [name for name in sorted(found) if is_release_id(name) and found[name] == "dir"]


def previous_good(
    target: Host, layout: Layout, records: list[dict], exclude: str, live: str | None = None
) -> str | None:
    """The release to fall back to: current (``live``, read when not given) if it was judged good, else the
    latest good one on disk. When history has no verdict on the live release (its record was refused by a
    full disk, or torn), ``.deploysafe/last-good`` written at that verdict decides."""
    statuses = history.release_statuses(records)
    present = set(existing_releases(target, layout))
    live = live if live is not None else current_release(target, layout)
    if live and live != exclude and statuses.get(live) == history.GOOD and live in present:
        return live
    lost = live and live != exclude and live not in statuses and live in present
    if lost and history.last_good(target, layout) == live:
        return live
    for release in history.good_order(records):
        if release != exclude and release in present:
            return release
    marked = history.last_good(target, layout)
    if marked and marked != exclude and marked in present and statuses.get(marked, history.GOOD) == history.GOOD:
        return marked
    return None


def install_record(target: Host, layout: Layout, release: str) -> dict | None:
    """What ``install`` recorded in a release (lockfile sha256 and command), None when absent or unreadable."""
    data = target.read_file(posixpath.join(layout.release(release), INSTALL_RECORD))
    try:
        return safejson.loads(data) if data else None
    except ValueError:
        return None
