"""A step: a name, what it would do (its dry-run plan lines) and what it does.

``plan(ctx)`` reads the host and changes nothing; it returns the lines ``--dry-run`` prints under the
step's name (none: the step has nothing to say in a plan). ``run(ctx)`` does the step and returns the
detail shown when it ends; a detail starting ``skipped: `` marks the step skipped. A step that judges
the release bad raises :class:`~deploysafe.release.run.StepFailed`; the flow decides what follows.
"""

from __future__ import annotations

from collections.abc import Callable

from deploysafe.hosts import Completed, run_configured
from deploysafe.release import service
from deploysafe.release.context import Context
from deploysafe.release.run import StepFailed
from deploysafe.report.failure import format_report

SKIPPED = "skipped: "


class Step:
    name = ""

    def applies(self, ctx: Context) -> bool:
        """Whether this run has the step at all (adopt restarts only with --restart-service)."""
        return True

    def intro(self, ctx: Context) -> str:
        """The detail shown when the step starts (empty: none)."""
        return ""

    def plan(self, ctx: Context) -> list[str]:
        return []

    def run(self, ctx: Context) -> str | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<step {self.name}>"


def skipped(why: str) -> str:
    return SKIPPED + why


def run_in_release(ctx: Context, command: str, *, timeout: float, what: str) -> Completed:
    """A configured command (the user's shell text) in the release directory with the target's environment;
    :class:`StepFailed` with its last lines when it exits non-zero."""
    done = run_configured(
        ctx.target, command, cwd=ctx.release_path, env=service.command_env(ctx.spec, ctx.release), timeout=timeout
    )
    if not done.ok:
        raise StepFailed(
            f"{what} failed (exit {done.returncode})",
            format_report(f"{what} output", [("last lines", done.tail(15))]),
        )
    return done


class Only(Step):
    """``step``, in the runs where ``when(ctx)`` holds."""

    def __init__(self, step: Step, when: Callable[[Context], bool]) -> None:
        self.step = step
        self.name = step.name
        self.when = when

    def applies(self, ctx: Context) -> bool:
        return self.when(ctx) and self.step.applies(ctx)

    def intro(self, ctx: Context) -> str:
        return self.step.intro(ctx)

    def plan(self, ctx: Context) -> list[str]:
        return self.step.plan(ctx)

    def run(self, ctx: Context) -> str | None:
        return self.step.run(ctx)
