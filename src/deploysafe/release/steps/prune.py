"""``prune``: releases beyond ``keep`` removed, failed ones first, never current, the previous one or the
fallback, nor the adopted original tree unless ``prune_adopted`` (the policy is
:mod:`deploysafe.release.prune`)."""

from __future__ import annotations

from deploysafe.release import history
from deploysafe.release import prune as policy
from deploysafe.release.context import Context
from deploysafe.release.layout import is_adopted
from deploysafe.release.state import existing_releases
from deploysafe.release.steps.base import Step


class Prune(Step):
    name = "prune"

    def _doomed(self, ctx: Context) -> list[str]:
        records = [*ctx.records, {"release": ctx.release, "status": history.GOOD}]
        present = existing_releases(ctx.target, ctx.layout) if ctx.state == "deploysafe" or not ctx.dry_run else []
        adopted = [] if ctx.spec.prune_adopted else [r for r in present if is_adopted(r)]
        return policy.plan(
            sorted({*present, ctx.release}),
            history.release_statuses(records),
            policy.chronology(records),
            keep=ctx.spec.keep + len(adopted),
            protect=(ctx.release, ctx.previous or "", ctx.fallback or "", *adopted),
        )

    def plan(self, ctx: Context) -> list[str]:
        doomed = self._doomed(ctx)
        return [f"remove {', '.join(doomed)}" if doomed else f"nothing (keep {ctx.spec.keep})"]

    def run(self, ctx: Context) -> str | None:
        doomed = self._doomed(ctx)
        for release in doomed:
            ctx.target.remove(ctx.layout.release(release))
        return f"removed {', '.join(doomed)}" if doomed else f"nothing to remove (keep {ctx.spec.keep})"
