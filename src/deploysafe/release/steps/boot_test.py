"""``boot-test``: the release's start command run from its own directory on a spare port, and the health
probe aimed at that port must pass once before anything is switched. The process is always stopped.
How long it took from the launch to the passing answer is kept for the health window's patience."""

from __future__ import annotations

import time

from deploysafe.release import boot, health, service
from deploysafe.release.context import Context
from deploysafe.release.run import StepFailed
from deploysafe.release.steps.base import Step, skipped
from deploysafe.report.failure import format_report


class BootTest(Step):
    name = "boot-test"

    def plan(self, ctx: Context) -> list[str]:
        start = _command(ctx)
        if not start:
            return ["skipped: no start command"]
        port = ctx.spec.boot_port or "a free port"
        return [f"`{start}` with PORT={port}; the health probe aimed at that port must pass"]

    def run(self, ctx: Context) -> str | None:
        target, spec, layout = ctx.target, ctx.spec, ctx.layout
        command = _command(ctx)
        if not command:
            ctx.reporter.message("no start command (set start in the target or pack one): boot test skipped", "warning")
            return skipped("no start command")
        env = service.command_env(spec, ctx.release)
        where = {"cwd": ctx.release_path, "log": layout.boot_log, "pidfile": layout.boot_pid}
        started = time.monotonic()  # the time to answer counts the start, as it will after the restart
        if spec.boot_port:
            port = spec.boot_port
            env["PORT"] = str(port)
            pid = boot.launch(target, command, env=env, **where)
        else:
            pid, port = boot.launch_on_a_free_port(target, command, env=env, **where)
            env["PORT"] = str(port)
        probe = ctx.probe()
        assert probe is not None
        probe = probe.with_port(port)
        try:

            def gone() -> str | None:
                return None if boot.alive(target, pid) else f"`{command}` exited during the boot test"

            with health.session(target, probe, cwd=ctx.release_path, env=env) as session:
                verdict = health.window(
                    session, passes=1, interval=0.1, poll=0.15, deadline=spec.boot_deadline, alive=gone
                )
        finally:
            boot.stop(target, pid, pidfile=layout.boot_pid)
        if not verdict.ok:
            log = target.read_file(layout.boot_log) or b""
            raise StepFailed(
                f"boot test failed: {verdict.reason}",
                format_report(
                    f"boot test of {ctx.release}: `{command}` with PORT={port}, probe {probe.describe()}",
                    [
                        ("probe", "\n".join(r.detail for r in verdict.last())),
                        ("output", "\n".join(log.decode("utf-8", "replace").splitlines()[-15:])),
                    ],
                ),
            )
        ctx.boot_seconds = verdict.results[-1].at - started
        return f"`{command}` on port {port} passed {probe.describe()} {ctx.boot_seconds:.1f}s after its start"


def _command(ctx: Context) -> str | None:
    return ctx.spec.start or (ctx.manifest.start if ctx.manifest else None)
