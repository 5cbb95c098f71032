"""``switch``: ``current`` points at the release — one rename(2) of a new symlink over it, so a reader sees
the old target or the new one, never neither. ``rollback-switch`` points it back at the fallback."""

from __future__ import annotations

from deploysafe.release.context import Context
from deploysafe.release.steps.base import Step


class Switch(Step):
    name = "switch"

    def __init__(self, *, back: bool = False) -> None:
        self.back = back
        self.name = "rollback-switch" if back else "switch"

    def _to(self, ctx: Context) -> str:
        to = ctx.fallback if self.back else ctx.release
        assert to is not None
        return to

    def intro(self, ctx: Context) -> str:
        return f"current → releases/{self._to(ctx)}"

    def plan(self, ctx: Context) -> list[str]:
        return [f"current: {ctx.live or '(none)'} → releases/{self._to(ctx)}"]

    def run(self, ctx: Context) -> str | None:
        to = self._to(ctx)
        ctx.target.replace_symlink(ctx.layout.current, ctx.layout.current_link_value(to))
        was, ctx.live = ctx.live, to
        return f"current → releases/{to}" + (f" (was {was})" if was and was != to else "")
