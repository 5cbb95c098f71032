"""``health``: the release now current must pass the probe ``health_passes`` times in a row within the
deadline (and, under pm2, stay up unrestarted), failing early when the boot test showed it answers far
sooner than it does now (see :class:`deploysafe.release.health.Patience`). A manual rollback's release passed
its gate before: it gets the short window (two passes 0.2 s apart; under pm2 a second up unrestarted,
pm2's own min_uptime, instead of ``pm2_min_uptime``). ``rollback-health`` judges the fallback
once restored, with the same short window."""

from __future__ import annotations

from deploysafe.release import service
from deploysafe.release.context import Context
from deploysafe.release.health import ProbeResult
from deploysafe.release.run import StepFailed
from deploysafe.release.steps.base import Step, skipped

_FAILED = {
    "deploy": "health failed after restart: {reason}",
    "rollback": "{release} failed health: {reason}",
    "adopt": "the adopted release is unhealthy after restart: {reason}",
}


class Health(Step):
    name = "health"

    def __init__(self, *, back: bool = False) -> None:
        self.back = back
        self.name = "rollback-health" if back else "health"

    def plan(self, ctx: Context) -> list[str]:
        spec, probe = ctx.spec, ctx.probe()
        if probe is None:
            return [f"NO HEALTH PROBE CONFIGURED: the {ctx.kind} would refuse"]
        after = {"deploy": f"roll back to {ctx.fallback or '(nothing!)'}", "rollback": f"put back {ctx.live}"}
        passes, interval = _window(ctx)
        return [
            f"{probe.describe()}: {passes} passes, {interval:g}s apart, "
            f"within {spec.health_deadline:g}s" + (f"; on failure {after[ctx.kind]}" if ctx.kind in after else "")
        ]

    def run(self, ctx: Context) -> str | None:
        if self.back:
            return _recovered(ctx)
        spec, probe = ctx.spec, ctx.probe()
        if probe is None:
            return skipped("no health probe")
        passes, interval = _window(ctx)
        verdict = service.judge(
            ctx.target,
            spec,
            ctx.release,
            passes=passes,
            interval=interval,
            deadline=spec.health_deadline,
            poll=min(interval, service.POLL),
            on_result=lambda r, streak: report_probe(ctx, r, streak, passes),
            version=ctx.manifest.version if ctx.manifest else None,
            boot_seconds=ctx.boot_seconds if ctx.kind == "deploy" else None,
            pm2_min_uptime=service.short_min_uptime(spec) if ctx.kind == "rollback" else None,
        )
        if not verdict.ok:
            ctx.failed_logs = verdict.logs
            raise StepFailed(
                _FAILED[ctx.kind].format(reason=verdict.reason, release=ctx.release),
                "\n".join(r.detail for r in verdict.last()),
            )
        return f"{passes} passes of {probe.describe()} in {verdict.seconds:.1f}s"


def _window(ctx: Context) -> tuple[int, float]:
    """Passes and their spacing: the target's, but a manual rollback's release passed its gate before and
    gets the short window of a release put back (:data:`service.SHORT_PASSES`)."""
    spec = ctx.spec
    if ctx.kind == "rollback":
        return min(service.SHORT_PASSES, spec.health_passes), min(service.SHORT_INTERVAL, spec.health_interval)
    return spec.health_passes, spec.health_interval


def report_probe(ctx: Context, result: ProbeResult, streak: int, passes: int | None = None) -> None:
    """A probe of the window, live: its result, and the passes so far (of ``passes``: the target's)."""
    passes = ctx.spec.health_passes if passes is None else passes
    ctx.reporter.probe("health", result.ok, result.detail, streak, passes)
    ctx.reporter.progress("health", streak, passes)


def _recovered(ctx: Context) -> str:
    assert ctx.fallback is not None
    verdict = service.judge_recovered(ctx.target, ctx.spec, ctx.fallback)
    if not verdict.ok:
        raise StepFailed(f"{ctx.fallback} is unhealthy too: {verdict.reason}")
    return f"{ctx.fallback} healthy again ({verdict.results[-1].detail})"
