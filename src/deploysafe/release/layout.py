"""The host layout, readable with ``ls``: releases/, shared/, current, .deploysafe/{lock,history.jsonl}."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

INCOMING_PREFIX = ".incoming-"
LAYOUT_NAMES = ("releases", "shared", "current", ".deploysafe")
_RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@-]*$")


@dataclass(frozen=True)
class Layout:
    root: str

    @property
    def releases(self) -> str:
        return posixpath.join(self.root, "releases")

    @property
    def shared(self) -> str:
        return posixpath.join(self.root, "shared")

    @property
    def current(self) -> str:
        return posixpath.join(self.root, "current")

    @property
    def meta(self) -> str:
        return posixpath.join(self.root, ".deploysafe")

    @property
    def lock(self) -> str:
        return posixpath.join(self.meta, "lock")

    @property
    def history(self) -> str:
        return posixpath.join(self.meta, "history.jsonl")

    @property
    def last_good(self) -> str:
        """A symlink naming the release last judged good (``releases/<id>``), set at each verdict. A
        symlink needs no data block, so it is written even on a full disk that refused the history
        record: the release to fall back to stays known when history lost its line."""
        return posixpath.join(self.meta, "last-good")

    @property
    def run_file(self) -> str:
        """The record of the deploy in progress, rewritten after every step (survives a kill -9)."""
        return posixpath.join(self.meta, "run.json")

    @property
    def boot_pid(self) -> str:
        return posixpath.join(self.meta, "boot.pid")

    @property
    def boot_log(self) -> str:
        return posixpath.join(self.meta, "boot.log")

    def release(self, release_id: str) -> str:
        return posixpath.join(self.releases, release_id)

    def incoming(self, release_id: str) -> str:
        return posixpath.join(self.releases, INCOMING_PREFIX + release_id)

    def current_link_value(self, release_id: str) -> str:
        """What ``current`` points at: relative, so the whole root can be moved."""
        return f"releases/{release_id}"

    def release_of_link(self, link: str | None) -> str | None:
        """The release id a ``current`` link value names, or None."""
        if not link:
            return None
        name = posixpath.basename(link.rstrip("/"))
        parent = posixpath.basename(posixpath.dirname(link.rstrip("/")))
        return name if parent == "releases" and is_release_id(name) else None


def is_release_id(name: str) -> bool:
    return bool(_RELEASE_ID.match(name)) and not name.startswith(INCOMING_PREFIX)


ADOPTED_SUFFIX = "-adopted"  # the release ``adopt`` made of a hand-managed tree


def is_adopted(release_id: str) -> bool:
    """Whether a release is the adopted original tree (kept by ``prune`` unless ``prune_adopted``)."""
    return release_id.endswith(ADOPTED_SUFFIX)
