"""How each kind of run ends: the record's status, the message and the one-screen report.

The engine calls these at the turning points of a flow: :meth:`Outcomes.stopped` (a step before the
switch failed or was interrupted: ``current`` was never touched), :meth:`Outcomes.broke` (anything went
wrong once the verdict was reached, or in a flow with nothing to go back to), :meth:`Outcomes.recovered` /
:meth:`Outcomes.recovery_failed` / :meth:`Outcomes.no_fallback` (after the switch a gate failed, a step
broke or the run was interrupted, and the recovery steps ran, failed, or had nowhere to go) and
:meth:`Outcomes.succeeded`.

An interrupt (:class:`~deploysafe.release.interrupts.Interrupted`: a signal, or the output closed) is
recorded as ``interrupted``, which the circuit breaker does not count, and the run ends with the
signal's exit code; a failing verdict, a timeout or any other error is recorded as ``failed`` or
``rolled-back``.
"""

from __future__ import annotations

import contextlib

from deploysafe.errors import DeployFailed, DeploysafeError
from deploysafe.release import history, service
from deploysafe.release.context import Context
from deploysafe.release.interrupts import as_interrupt
from deploysafe.release.run import ReleaseFailed, Result, describe, is_connection_lost
from deploysafe.report.failure import format_report


def exit_code(err: BaseException) -> int | None:
    """The exit code a run ended by ``err`` has when it is not the default 1: an interrupt's."""
    interrupt = as_interrupt(err)
    return interrupt.exit_code if interrupt else None


class Outcomes:
    """The defaults: record the failure (a verdict already reached stays), release the lock, re-raise."""

    def broke(self, ctx: Context, err: BaseException) -> None:
        run = ctx.active
        if run.record.get("status") != history.GOOD:
            interrupted = as_interrupt(err) is not None
            run.set_status(history.INTERRUPTED if interrupted else history.FAILED, describe(err))
        run.finish()

    def stopped(self, ctx: Context, err: BaseException) -> BaseException:
        self.broke(ctx, err)
        return err

    def no_fallback(self, ctx: Context, failure: BaseException) -> ReleaseFailed:
        raise NotImplementedError

    def recovered(self, ctx: Context, failure: BaseException) -> ReleaseFailed:
        raise NotImplementedError

    def recovery_failed(self, ctx: Context, failure: BaseException, err: DeploysafeError) -> ReleaseFailed:
        raise NotImplementedError

    def succeeded(self, ctx: Context) -> Result:
        raise NotImplementedError

    def _failed(
        self, ctx: Context, status: str, message: str, report: str, current: str | None, cause: BaseException
    ) -> ReleaseFailed:
        run = ctx.active
        run.set_status(status, message)
        run.finish()
        result = run.result(status, message, report, ctx.previous, current=current)
        return ReleaseFailed(message, result, exit_code(cause))


def _verdict(failure: BaseException, otherwise: str) -> str:
    """``interrupted`` for an interrupt or a lost connection (not the release's fault), else ``otherwise``."""
    return history.INTERRUPTED if as_interrupt(failure) or is_connection_lost(failure) else otherwise


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
        interrupt = as_interrupt(err)
        status = history.INTERRUPTED if interrupt else history.FAILED
        message = describe(err)
        run.set_status(status, message)
        run.finish()
        if interrupt is None and (not isinstance(err, DeploysafeError) or run.connection_lost):
            return err  # a lost connection is the target's fault, not the release's: say so as it is
        what = f"{message} before the switch" if interrupt else f"stopped before the switch: {message}"
        report = format_report(
            f"deploy of {ctx.release} to {target.url} {what}", [("details", getattr(err, "report", ""))]
        )
        report += f"\n  current is untouched: {ctx.previous or '(none yet)'}"
        result = run.result(status, message, report, previous=ctx.previous, current=ctx.previous)
        if interrupt:
            return ReleaseFailed(
                f"deploy {message} before the switch; current is untouched", result, interrupt.exit_code
            )
        return ReleaseFailed(f"deploy blocked before the switch: {message}", result)

    def _title(self, ctx: Context, failure: BaseException) -> str:
        return f"deploy of {ctx.release} to {ctx.target.url} failed: {describe(failure)}"

    def _sections(self, ctx: Context, failure: BaseException) -> list[tuple[str, str]]:
        """The failure and the failed release's logs (read after the switch back: the rollback must not wait)."""
        sections = [("probe" if "health" in str(failure) else "details", getattr(failure, "report", ""))]
        if as_interrupt(failure):
            return sections
        with contextlib.suppress(DeploysafeError):
            logs = service.log_tails(ctx.target, ctx.spec, extra=ctx.failed_logs, since=ctx.log_marks)
            return sections + [(f"log {path}", text) for path, text in logs]
        return sections

    def no_fallback(self, ctx: Context, failure: BaseException) -> ReleaseFailed:
        message = f"{describe(failure)}; NO PREVIOUS GOOD RELEASE to roll back to - current stays at {ctx.release}"
        report = (
            format_report(self._title(ctx, failure), self._sections(ctx, failure))
            + "\n  NOTHING TO ROLL BACK TO: the service needs a human."
        )
        return self._failed(ctx, _verdict(failure, history.FAILED), message, report, ctx.release, failure)

    def recovered(self, ctx: Context, failure: BaseException) -> ReleaseFailed:
        message = f"{describe(failure)}; rolled back to {ctx.fallback}, which is healthy"
        judged = "not judged (interrupted)" if as_interrupt(failure) else "marked bad"
        report = (
            format_report(self._title(ctx, failure), self._sections(ctx, failure))
            + f"\n  rolled back: current → {ctx.fallback} (healthy); {ctx.release} {judged}"
        )
        return self._failed(ctx, _verdict(failure, history.ROLLED_BACK), message, report, ctx.fallback, failure)

    def recovery_failed(self, ctx: Context, failure: BaseException, err: DeploysafeError) -> ReleaseFailed:
        message = (
            f"{describe(failure)}; ROLLBACK FAILED: {err}. Stopped without retrying: current → {ctx.live}, "
            "the service needs a human now"
        )
        report = (
            format_report(self._title(ctx, failure), self._sections(ctx, failure))
            + f"\n  ROLLBACK TO {ctx.fallback} FAILED: {err}"
        )
        return self._failed(ctx, history.FAILED, message, report, ctx.live, failure)

    def succeeded(self, ctx: Context) -> Result:
        message = f"{ctx.release} is live on {ctx.target.url}"
        return ctx.active.result(history.GOOD, message, previous=ctx.previous, current=ctx.release)


class RollbackOutcomes(Outcomes):
    def _report(self, ctx: Context, failure: BaseException) -> str:
        title = f"rollback of {ctx.target.url} to {ctx.release} failed: {describe(failure)}"
        return format_report(title, [("details", getattr(failure, "report", ""))])

    def no_fallback(self, ctx: Context, failure: BaseException) -> ReleaseFailed:
        message = f"{describe(failure)}; nothing to put back"
        status = _verdict(failure, history.FAILED)
        return self._failed(ctx, status, message, self._report(ctx, failure), ctx.live, failure)

    def recovered(self, ctx: Context, failure: BaseException) -> ReleaseFailed:
        message = f"{describe(failure)}; {ctx.fallback} is current and healthy again"
        status = _verdict(failure, history.FAILED)
        return self._failed(ctx, status, message, self._report(ctx, failure), ctx.live, failure)

    def recovery_failed(self, ctx: Context, failure: BaseException, err: DeploysafeError) -> ReleaseFailed:
        message = (
            f"{describe(failure)}; PUTTING BACK {ctx.fallback} FAILED TOO: {err}. Stopped: the service needs a human"
        )
        return self._failed(ctx, history.FAILED, message, self._report(ctx, failure), ctx.live, failure)

    def succeeded(self, ctx: Context) -> Result:
        message = f"rolled back to {ctx.release} on {ctx.target.url}"
        return ctx.active.result(history.GOOD, message, previous=ctx.previous, current=ctx.release)


class AdoptOutcomes(Outcomes):
    def broke(self, ctx: Context, err: BaseException) -> None:
        """Before its verdict an adopt has nothing to go back to: the journal stays, so running it again
        restarts and judges the adopted release."""
        super().broke(ctx, err)
        if ctx.active.record.get("status") != history.GOOD and ctx.live == ctx.release:
            ctx.warn(
                f"releases/{ctx.release} is current but not judged good: run `deploysafe adopt --restart-service` "
                "again to restart and check it"
            )

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


class _Settles:
    """Blue/green (:mod:`deploysafe.release.proxy`): a run that stops before its switch also stops the colour
    it started, which never took traffic; ``current`` and the proxy stay on the live colour."""

    def stopped(self, ctx: Context, err: BaseException) -> BaseException:
        from deploysafe.release.proxy.bluegreen import settle

        if ctx.active.lock.held and not ctx.active.connection_lost:
            done = settle(ctx)
            if done:
                ctx.reporter.message(done, "info")
        return super().stopped(ctx, err)  # type: ignore[misc]


class ProxyDeployOutcomes(_Settles, DeployOutcomes):
    pass


class ProxyRollbackOutcomes(_Settles, RollbackOutcomes):
    pass
