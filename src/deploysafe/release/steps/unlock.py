"""``unlock``: the run's record appended to the history, run.json removed, the lock released."""

from __future__ import annotations

from deploysafe.release.context import Context
from deploysafe.release.steps.base import Step


class Unlock(Step):
    name = "unlock"

    def plan(self, ctx: Context) -> list[str]:
        return [f"remove {ctx.layout.lock}"]

    def run(self, ctx: Context) -> str | None:
        ctx.active.finish()
        return None
