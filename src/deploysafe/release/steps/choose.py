"""``choose`` (rollback): the release to put back — the one asked for, or the latest good one before
current that is still on the host."""

from __future__ import annotations

from deploysafe.errors import TargetError
from deploysafe.release import history
from deploysafe.release.context import Context
from deploysafe.release.state import current_release, existing_releases
from deploysafe.release.steps.base import Step


class Choose(Step):
    name = "choose"

    def plan(self, ctx: Context) -> list[str]:
        choose(ctx)
        return [f"{ctx.release} (current is {ctx.previous or 'none'})"]

    def run(self, ctx: Context) -> str | None:
        choose(ctx)
        ctx.active.record.update({"release": ctx.release, "previous": ctx.previous})
        return f"{ctx.release} (current is {ctx.previous or 'none'})"


def choose(ctx: Context) -> None:
    """Set ``ctx.release`` to the release to put back and ``ctx.previous`` to the one current now."""
    target, layout, wanted = ctx.target, ctx.layout, ctx.wanted
    records = history.read(target, layout)
    live = current_release(target, layout)
    present = existing_releases(target, layout)
    ctx.previous = ctx.live = live
    if wanted:
        if wanted not in present:
            raise TargetError(f"no release {wanted!r} on {target.url} (have: {', '.join(present) or 'none'})")
        if wanted == live:
            raise TargetError(f"{wanted} is already current on {target.url}")
        ctx.release = wanted
    else:
        for release in history.good_order(records):
            if release != live and release in present:
                ctx.release = release
                break
        else:
            raise TargetError(f"no earlier good release to roll back to on {target.url}")
    ctx.fallback = live  # a chosen release that fails its health window: the one current now goes back
