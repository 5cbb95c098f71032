"""The steps only ``adopt`` has: a hand-managed tree becomes the first release, in place.

``preflight`` reads (or plans) the adopt journal, ``lock`` writes it, ``move`` renames every top-level
entry into ``releases/.adopting-<id>``, ``rename`` makes that ``releases/<id>``, ``link-shared`` moves the
shared entries to ``shared/`` and links them back, ``record`` (after the restart and health gate of
``--restart-service``) marks the release good and removes the journal. Each step is safe to run again: a killed adopt resumes from the journal.
"""

from __future__ import annotations

import json
import posixpath
import re

from deploysafe import safejson
from deploysafe.errors import TargetError
from deploysafe.hosts import Host
from deploysafe.release import history
from deploysafe.release.context import Context
from deploysafe.release.layout import ADOPTED_SUFFIX, LAYOUT_NAMES, Layout
from deploysafe.release.steps.base import Step

ADOPTING_PREFIX = ".adopting-"


def journal_path(layout: Layout) -> str:
    return posixpath.join(layout.meta, "adopt.json")


def adopted_id(target: Host, layout: Layout) -> str:
    """``<name>-<version>-adopted`` from the tree's package.json, else ``<directory name>-adopted``."""
    name, version = posixpath.basename(layout.root), ""
    data = target.read_file(posixpath.join(layout.root, "package.json"))
    if data:
        try:
            pkg = safejson.loads(data)
            name = str(pkg.get("name") or name)
            version = str(pkg.get("version") or "")
        except (ValueError, AttributeError):
            pass
    base = re.sub(r"[^A-Za-z0-9._+-]+", "-", f"{name}-{version}" if version else name).strip("-.") or "app"
    return base + ADOPTED_SUFFIX


def journal(target: Host, layout: Layout) -> dict:
    """The adopt journal's content: read back when a killed adopt left it, else planned (not written)."""
    if target.kind(layout.root) != "dir":
        raise TargetError(f"{target.url} is not a directory: nothing to adopt")
    data = target.read_file(journal_path(layout))
    if data:
        return safejson.loads(data)
    names = target.listdir(layout.root)
    if _cut_short_before_journal(target, layout, names):
        names = [n for n in names if n not in LAYOUT_NAMES]
    if not names:
        raise TargetError(f"{target.url} is empty or missing: nothing to adopt (deploy to it directly)")
    taken = [n for n in names if n in LAYOUT_NAMES]
    if ".deploysafe" in taken or ("current" in taken and "releases" in taken):
        raise TargetError(f"{target.url} is already a deploysafe layout: nothing to adopt")
    if taken:
        raise TargetError(
            f"{target.url} has its own {', '.join(taken)}, which deploysafe's layout needs: rename "
            "them first, then adopt"
        )
    return {"release": adopted_id(target, layout), "entries": names}


def _cut_short_before_journal(target: Host, layout: Layout, names: list[str]) -> bool:
    """An adopt stopped inside its ``lock`` step left ``.deploysafe/`` (and empty ``releases/``, ``shared/``)
    but no journal and nothing moved: the tree is still the hand-managed one, to adopt as it is."""
    if ".deploysafe" not in names or "current" in names:
        return False
    return all(not target.listdir(posixpath.join(layout.root, n)) for n in ("releases", "shared") if n in names)


def _entries(ctx: Context) -> list[str]:
    return list(ctx.journal["entries"])


class AdoptPreflight(Step):
    name = "preflight"

    def intro(self, ctx: Context) -> str:
        return f"{len(_entries(ctx))} entries become releases/{ctx.release}"

    def run(self, ctx: Context) -> str | None:
        return None


class AdoptLock(Step):
    name = "lock"

    def run(self, ctx: Context) -> str | None:
        target, layout, run = ctx.target, ctx.layout, ctx.active
        target.mkdir(layout.meta)
        run.lock.acquire(wait=ctx.lock_wait, on_message=ctx.warn)
        if target.read_file(journal_path(layout)) is None:
            target.write_file(journal_path(layout), json.dumps(ctx.journal).encode())
        target.mkdir(layout.releases)
        target.mkdir(layout.shared)
        return None


def _staging(ctx: Context) -> str:
    return posixpath.join(ctx.layout.releases, ADOPTING_PREFIX + ctx.release)


class Move(Step):
    name = "move"

    def plan(self, ctx: Context) -> list[str]:
        entries = _entries(ctx)
        more = ", ..." if len(entries) > 6 else ""
        return [f"{len(entries)} entries ({', '.join(entries[:6])}{more}) into releases/{ctx.release}"]

    def run(self, ctx: Context) -> str | None:
        target, root = ctx.target, ctx.layout.root
        moved = 0
        if target.kind(ctx.release_path) != "dir":
            target.mkdir(_staging(ctx))
            for name in _entries(ctx):
                if target.kind(posixpath.join(root, name)) is not None:
                    target.rename(posixpath.join(root, name), posixpath.join(_staging(ctx), name))
                    moved += 1
        return f"moved {moved} entries"


class AdoptRename(Step):
    name = "rename"

    def run(self, ctx: Context) -> str | None:
        if ctx.target.kind(ctx.release_path) != "dir":
            ctx.target.rename(_staging(ctx), ctx.release_path)
        return f"releases/{ctx.release}"


class Share(Step):
    """Entries the target shares (``.env``, ``uploads/``...) move to ``shared/`` and are linked back."""

    name = "link-shared"

    def plan(self, ctx: Context) -> list[str]:
        return [", ".join(f"{e} → shared/{e.rstrip('/')}" for e in ctx.spec.shared) or "nothing shared"]

    def run(self, ctx: Context) -> str | None:
        target, layout = ctx.target, ctx.layout
        done = []
        for entry in ctx.spec.shared:
            rel = entry.rstrip("/")
            inside = posixpath.join(ctx.release_path, rel)
            outside = posixpath.join(layout.shared, rel)
            kind_in, kind_out = target.kind(inside), target.kind(outside)
            if kind_in in ("file", "dir") and kind_out is None:
                target.mkdir(posixpath.dirname(outside))
                target.rename(inside, outside)
            elif kind_in is None and kind_out is None:
                if entry.endswith("/"):
                    target.mkdir(outside)
                else:
                    ctx.warn(f"shared file {rel} exists nowhere yet: create shared/{rel} before deploying")
                    continue
            elif kind_in in ("file", "dir"):
                ctx.warn(f"{rel} exists both in the tree and in shared/: kept the tree's copy")
                continue
            target.mkdir(posixpath.dirname(inside))
            target.replace_symlink(inside, posixpath.relpath(outside, posixpath.dirname(inside)))
            done.append(entry)
        return f"shared {', '.join(done)}" if done else "nothing shared"


class Record(Step):
    name = "record"

    def intro(self, ctx: Context) -> str:
        return f"{ctx.release} good in .deploysafe/history.jsonl"

    def run(self, ctx: Context) -> str | None:
        ctx.active.set_status(history.GOOD)
        history.mark_last_good(ctx.target, ctx.layout, ctx.release)
        ctx.target.remove(journal_path(ctx.layout))
        return None
