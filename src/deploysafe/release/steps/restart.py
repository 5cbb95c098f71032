"""``restart``: the target's restart command (or pm2 reload of its ecosystem file) for the release now
current; ``rollback-restart`` restarts the fallback after a failed health gate, retiring the failed one.

A signal during the restart command lets it finish (within ``restart_timeout``) before the run ends:
killed between starting the service and recording its pid, a restart script leaves a service that
the next restart cannot stop. A second signal stops it at once."""

from __future__ import annotations

from deploysafe.release import service
from deploysafe.release.context import Context
from deploysafe.release.run import StepFailed
from deploysafe.release.steps.base import Step, skipped
from deploysafe.report.failure import format_report


class Restart(Step):
    name = "restart"

    def __init__(self, *, back: bool = False) -> None:
        self.back = back
        self.name = "rollback-restart" if back else "restart"

    def plan(self, ctx: Context) -> list[str]:
        command = ctx.spec.restart_command()
        return [f"`{command}`" if command else "no restart command"]

    def run(self, ctx: Context) -> str | None:
        release: str = ctx.release
        retire: str | None = ctx.previous if ctx.kind == "rollback" else None
        if self.back:
            assert ctx.fallback is not None
            release, retire = ctx.fallback, ctx.release
        before = service.pm2_before(ctx.target, ctx.spec, release)  # one read of pm2's list serves both
        if not self.back:
            ctx.log_marks = service.log_sizes(ctx.target, ctx.spec, before.processes if before else None)
        with ctx.trap.finishing():  # cut in half, a restart can leave a service running that nothing stops
            done = service.restart(ctx.target, ctx.spec, release, ctx.warn, retire=retire, before=before)
        if done is None:
            return skipped("no restart command configured")
        if not done.ok:
            if self.back:
                raise StepFailed(f"restart of {release} failed (exit {done.returncode}): {done.tail(2)}")
            raise StepFailed(
                f"restart failed (exit {done.returncode})", format_report("restart", [("output", done.tail(15))])
            )
        return f"`{ctx.spec.restart_command()}`"
