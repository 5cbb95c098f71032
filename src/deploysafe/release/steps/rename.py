"""``rename``: ``releases/.incoming-<id>`` becomes ``releases/<id>`` in one rename(2), once verified."""

from __future__ import annotations

from deploysafe.release.context import Context
from deploysafe.release.layout import INCOMING_PREFIX
from deploysafe.release.steps.base import Step, skipped
from deploysafe.release.steps.upload import already_there


class Rename(Step):
    name = "rename"

    def plan(self, ctx: Context) -> list[str]:
        if already_there(ctx):
            return []
        return [f"releases/{INCOMING_PREFIX}{ctx.release} → releases/{ctx.release}"]

    def run(self, ctx: Context) -> str | None:
        if not ctx.uploaded:
            return skipped("release already in place")
        ctx.target.rename(ctx.layout.incoming(ctx.release), ctx.release_path)
        return f"releases/{ctx.release}"
