"""How each kind of run ends: the record's status, the message and the one-screen report.

The engine calls these at the turning points of a flow: :meth:`Outcomes.stopped` (a step before the
switch failed: ``current`` was never touched), :meth:`Outcomes.broke` (anything else went wrong),
:meth:`Outcomes.recovered` / :meth:`Outcomes.recovery_failed` / :meth:`Outcomes.no_fallback` (a gate after
the switch failed and the recovery steps ran, failed, or had nowhere to go) and :meth:`Outcomes.succeeded`.
"""

from __future__ import annotations

import contextlib

from deploysafe.errors import DeployFailed, DeploysafeError
from deploysafe.release import history, service
from deploysafe.release.context import Context
from deploysafe.release.run import ReleaseFailed, Result, StepFailed
from deploysafe.report.failure import format_report


class Outcomes:
    """The defaults: record the failure (a verdict already reached stays), release the lock, re-raise."""

    def broke(self, ctx: Context, err: BaseException) -> None:
        run = ctx.active
        if run.record.get("status") != history.GOOD:
            interrupted = isinstance(err, KeyboardInterrupt)
            message = str(err) if isinstance(err, DeploysafeError) else type(err).__name__
            run.set_status(history.INTERRUPTED if interrupted else history.FAILED, message)
        run.finish()

    def stopped(self, ctx: Context, err: BaseException) -> BaseException:
        self.broke(ctx, err)
        return err

    def no_fallback(self, ctx: Context, failure: StepFailed) -> ReleaseFailed:
        raise NotImplementedError

    def recovered(self, ctx: Context, failure: StepFailed) -> ReleaseFailed:
        raise NotImplementedError

    def recovery_failed(self, ctx: Context, failure: StepFailed, err: DeploysafeError) -> ReleaseFailed:
        raise NotImplementedError

    def succeeded(self, ctx: Context) -> Result:
        raise NotImplementedError

    def _failed(self, ctx: Context, status: str, message: str, report: str, current: str | None) -> ReleaseFailed:
        run = ctx.active
        run.set_status(status, message)
        run.finish()
        return ReleaseFailed(message, run.result(status, message, report, ctx.previous, current=current))


class DeployOutcomes(Outcomes):
    def stopped(self, ctx: Context, err: BaseException) -> BaseException:
        """Record a deploy that stopped before the switch; current was never touched."""
        run, target, layout = ctx.active, ctx.target, ctx.layout
        if isinstance(err, DeployFailed) and not run.lock.held:
            return err  # the circuit breaker refused before any step
        if not run.connection_lost and run.lock.held:
            try:
                target.remove(layout.incoming(ctx.release))
                failed_step = run.steps[-1].step if run.steps else ""
                if failed_step == "verify" and not ctx.uploaded and ctx.release != ctx.previous:
                    target.remove(ctx.release_path)  # a damaged copy: the next deploy uploads afresh
            except DeploysafeError:
                pass
        interrupted = isinstance(err, KeyboardInterrupt)
        status = history.INTERRUPTED if interrupted else history.FAILED
        message = str(err) if isinstance(err, DeploysafeError) else type(err).__name__
        run.set_status(status, message)
        run.finish()
        if interrupted or not isinstance(err, DeploysafeError) or run.connection_lost:
            return err  # a lost connection is the target's fault, not the release's: say so as it is
        report = format_report(
            f"deploy of {ctx.release} to {target.url} stopped before the switch: {message}",
            [("details", getattr(err, "report", ""))],
        )
        report += f"\n  current is untouched: {ctx.previous or '(none yet)'}"
        result = run.result(history.FAILED, message, report, previous=ctx.previous, current=ctx.previous)
        return ReleaseFailed(f"deploy blocked before the switch: {message}", result)

    def _title(self, ctx: Context, failure: StepFailed) -> str:
        return f"deploy of {ctx.release} to {ctx.target.url} failed: {failure}"

    def _sections(self, ctx: Context, failure: StepFailed) -> list[tuple[str, str]]:
        """The failure and the failed release's logs (read after the switch back: the rollback must not wait)."""
        sections = [("probe" if "health" in str(failure) else "details", failure.report)]
        with contextlib.suppress(DeploysafeError):
            logs = service.log_tails(ctx.target, ctx.spec, extra=ctx.failed_logs)
            return sections + [(f"log {path}", text) for path, text in logs]
        return sections

    def no_fallback(self, ctx: Context, failure: StepFailed) -> ReleaseFailed:
        message = f"{failure}; NO PREVIOUS GOOD RELEASE to roll back to - current stays at {ctx.release}"
        report = (
            format_report(self._title(ctx, failure), self._sections(ctx, failure))
            + "\n  NOTHING TO ROLL BACK TO: the service needs a human."
        )
        return self._failed(ctx, history.FAILED, message, report, ctx.release)

    def recovered(self, ctx: Context, failure: StepFailed) -> ReleaseFailed:
        message = f"{failure}; rolled back to {ctx.fallback}, which is healthy"
        report = (
            format_report(self._title(ctx, failure), self._sections(ctx, failure))
            + f"\n  rolled back: current → {ctx.fallback} (healthy); {ctx.release} marked bad"
        )
        return self._failed(ctx, history.ROLLED_BACK, message, report, ctx.fallback)

    def recovery_failed(self, ctx: Context, failure: StepFailed, err: DeploysafeError) -> ReleaseFailed:
        message = (
            f"{failure}; ROLLBACK FAILED: {err}. Stopped without retrying: current → {ctx.fallback}, "
            "the service needs a human now"
        )
        report = (
            format_report(self._title(ctx, failure), self._sections(ctx, failure))
            + f"\n  ROLLBACK TO {ctx.fallback} FAILED: {err}"
        )
        return self._failed(ctx, history.FAILED, message, report, ctx.live)

    def succeeded(self, ctx: Context) -> Result:
        message = f"{ctx.release} is live on {ctx.target.url}"
        return ctx.active.result(history.GOOD, message, previous=ctx.previous, current=ctx.release)


class RollbackOutcomes(Outcomes):
    def _report(self, ctx: Context, failure: StepFailed) -> str:
        title = f"rollback of {ctx.target.url} to {ctx.release} failed: {failure}"
        return format_report(title, [("details", failure.report)])

    def no_fallback(self, ctx: Context, failure: StepFailed) -> ReleaseFailed:
        return self._failed(
            ctx, history.FAILED, f"{failure}; nothing to put back", self._report(ctx, failure), ctx.live
        )

    def recovered(self, ctx: Context, failure: StepFailed) -> ReleaseFailed:
        message = f"{failure}; {ctx.fallback} is current and healthy again"
        return self._failed(ctx, history.FAILED, message, self._report(ctx, failure), ctx.live)

    def recovery_failed(self, ctx: Context, failure: StepFailed, err: DeploysafeError) -> ReleaseFailed:
        message = f"{failure}; PUTTING BACK {ctx.fallback} FAILED TOO: {err}. Stopped: the service needs a human"
        return self._failed(ctx, history.FAILED, message, self._report(ctx, failure), ctx.live)

    def succeeded(self, ctx: Context) -> Result:
        message = f"rolled back to {ctx.release} on {ctx.target.url}"
        return ctx.active.result(history.GOOD, message, previous=ctx.previous, current=ctx.release)


class AdoptOutcomes(Outcomes):
    def succeeded(self, ctx: Context) -> Result:
        if not ctx.restart_service:
            ctx.reporter.message(
                f"processes started from the old paths still run the moved files; point your process manager at "
                f"{ctx.layout.current} and restart it (or adopt --restart-service)",
                "info",
            )
        return ctx.active.result(
            history.GOOD, f"adopted {ctx.target.url} as releases/{ctx.release}", current=ctx.release
        )
