"""``restart``: the target's restart command (or pm2 reload of its ecosystem file) for the release now
current; ``rollback-restart`` restarts the fallback after a failed health gate, retiring the failed one.

A signal during the restart command lets it finish (within ``restart_timeout``) before the run ends:
killed between starting the service and recording its pid, a restart script leaves a service that
the next restart cannot stop. A second signal stops it at once.

pm2's list is read once per restart, or not at all: a deploy without hooks takes preflight's read (nothing
of deploysafe's touches pm2 in between, and the restart only acts on apps run from outside ``current``).
The apps of the release's process file go into the run's record (``pm2_apps``), so that leaving that
release later (a rollback) knows which apps to retire without evaluating its file again."""

from __future__ import annotations

from typing import Any

from deploysafe.release import pm2, service
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
        before = self._pm2_list(ctx, release)  # one read of pm2's list serves both
        if not self.back:
            ctx.log_marks = service.log_sizes(ctx.target, ctx.spec, before.processes if before else None)
            if before is not None and before.names is not None:
                ctx.active.record["pm2_apps"] = sorted(before.names)
        retire_apps = recorded_apps(ctx, retire) if retire else None
        with ctx.trap.finishing():  # cut in half, a restart can leave a service running that nothing stops
            done = service.restart(
                ctx.target, ctx.spec, release, ctx.warn, retire=retire, before=before, retire_apps=retire_apps
            )
        if done is None:
            return skipped("no restart command configured")
        if not done.ok:
            if self.back:
                raise StepFailed(f"restart of {release} failed (exit {done.returncode}): {done.tail(2)}")
            raise StepFailed(
                f"restart failed (exit {done.returncode})", format_report("restart", [("output", done.tail(15))])
            )
        return f"`{ctx.spec.restart_command()}`"

    def _pm2_list(self, ctx: Context, release: str) -> pm2.Snapshot | None:
        """pm2's list for this restart: preflight's read on a deploy without hooks, else read now."""
        spec = ctx.spec
        reuse = not self.back and ctx.kind == "deploy" and not spec.hooks and bool(spec.pm2)
        if reuse and ctx.pm2_seen is not None and ctx.pm2_apps is not None:
            return service.pm2_known(spec, ctx.pm2_seen, ctx.pm2_apps, ctx.host_node)
        before = service.pm2_before(ctx.target, spec, release)
        if before is not None and before.node:
            ctx.host_node = before.node
        return before


def recorded_apps(ctx: Context, release: str) -> frozenset[str] | None:
    """The apps of ``release``'s pm2 file as its last restart recorded them (this run's record first,
    then the history), or None when nothing recorded them."""
    records: list[dict[str, Any]] = list(ctx.records)
    if ctx.run is not None:
        records.append(ctx.run.record)
    for record in reversed(records):
        apps = record.get("pm2_apps")
        if record.get("release") == release and isinstance(apps, list):
            return frozenset(str(app) for app in apps)
    return None
