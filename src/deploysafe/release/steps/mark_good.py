"""``mark-good``: the verdict — the release passed every gate; the run's record says ``good`` from here on
(a later failure, even a kill, no longer marks it bad). The Node version the target runs is recorded
beside it (.deploysafe/node.json) for checks and packs aimed at that target."""

from __future__ import annotations

from deploysafe.release import history, node_record
from deploysafe.release.context import Context
from deploysafe.release.steps.base import Step


class MarkGood(Step):
    name = "mark-good"

    def plan(self, ctx: Context) -> list[str]:
        return [
            f"record {ctx.release} as good in .deploysafe/history.jsonl",
            "record the target's node --version in .deploysafe/node.json",
        ]

    def run(self, ctx: Context) -> str | None:
        ctx.active.set_status(history.GOOD)
        history.mark_last_good(ctx.target, ctx.layout, ctx.release)
        node = node_record.record(ctx.target, ctx.layout, ctx.release, dict(ctx.spec.env), ctx.host_node)
        return f"{ctx.release} good" + (f" on node {node}" if node else "")
