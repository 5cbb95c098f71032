"""A target's own command before or after a named step (``[targets.NAME] before_switch = ["npm run migrate"]``).

It runs as the user wrote it (``sh -c``) in the release's directory on the host, with the target's
``env`` plus ``DEPLOYSAFE_RELEASE``, and its output is captured for the report. A non-zero exit is a
:class:`StepFailed`: before the switch the run stops with ``current`` untouched; after the switch it
triggers the normal rollback. A hook marked ``once_per_fleet`` runs on a fleet's canary only.
"""

from __future__ import annotations

from deploysafe.config.targets import Hook
from deploysafe.release.context import Context
from deploysafe.release.steps.base import Step, run_in_release


class HookStep(Step):
    def __init__(self, hook: Hook, name: str) -> None:
        self.hook = hook
        self.name = name

    def applies(self, ctx: Context) -> bool:
        return ctx.once_hooks or not self.hook.once_per_fleet

    def intro(self, ctx: Context) -> str:
        return f"`{self.hook.command}`"

    def plan(self, ctx: Context) -> list[str]:
        once = " (once per fleet: on its first host)" if self.hook.once_per_fleet else ""
        return [f"run `{self.hook.command}` in releases/{ctx.release}{once}"]

    def run(self, ctx: Context) -> str | None:
        what = f"{self.name} `{self.hook.command}`"
        done = run_in_release(ctx, self.hook.command, timeout=ctx.spec.hook_timeout, what=what)
        last = done.tail(1)
        return f"`{self.hook.command}`" + (f": {last}" if last else "")
