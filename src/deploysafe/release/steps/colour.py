"""The steps of blue/green behind a proxy (``proxy = "nginx"``, see :mod:`deploysafe.release.proxy`):

``start``    the release started on the idle colour's port, beside the live one (which keeps all traffic);
``health``   gated there, on its own port: a release that fails never received a request (failing fast
             after the boot test's yardstick, as in place);
``switch``   the proxy's include rewritten to that port and gracefully reloaded, then ``current`` switched;
``drain``    after the verdict, the old colour serves what it has for ``drain`` seconds, then stops (on
             a target moved from in place, the pm2 apps the in-place restart ran, likewise).

``rollback-switch`` / ``rollback-stop`` put the proxy and ``current`` back and stop the new colour when a
run ends between the switch and the verdict (an ``after_switch`` hook, an interrupt).
"""

from __future__ import annotations

from deploysafe.release import pm2names, service
from deploysafe.release import proxy as proxies
from deploysafe.release.context import Context
from deploysafe.release.proxy import bluegreen, colours, drain
from deploysafe.release.run import StepFailed
from deploysafe.release.steps.base import Step, skipped
from deploysafe.release.steps.health import report_probe
from deploysafe.report.failure import format_report


def _start_command(ctx: Context) -> str | None:
    return ctx.spec.start or (ctx.manifest.start if ctx.manifest else None)


class StartColour(Step):
    name = "start"

    def plan(self, ctx: Context) -> list[str]:
        slots = colours.read(ctx.target, ctx.spec) if ctx.state == "deploysafe" else colours.read_empty(ctx.spec)
        live = bluegreen.live_colour(ctx, slots) if ctx.state == "deploysafe" else None
        idle = slots[colours.other(live)]
        beside = f", beside {slots[live].describe()}" if live else ""
        return [f"{ctx.release} on {idle.colour} (port {idle.port}){beside}; no traffic until it passes"]

    def run(self, ctx: Context) -> str | None:
        target, spec = ctx.target, ctx.spec
        slots = colours.read(target, spec)
        fixed = bluegreen.reconcile(ctx, slots)
        if fixed:
            ctx.warn(fixed)
        ctx.routed_before = proxies.routed_port(target, spec)
        if spec.pm2:  # a target moved from in place: its apps, retired once this colour has the traffic
            running = ctx.pm2_seen if ctx.pm2_seen is not None else pm2names.processes(target, spec)
            ctx.in_place_apps = bluegreen.in_place_apps(ctx, slots, running or [])
        ctx.live_colour = live = bluegreen.live_colour(ctx, slots)
        if live and slots[live].release:
            ctx.fallback = slots[live].release  # what keeps serving; a failure goes back to it
        slot = slots[colours.other(live)]
        ctx.colour = slot.colour
        if slot.release == ctx.release and bluegreen.running(ctx, slot):
            return f"{ctx.release} already runs on {slot.colour} (port {slot.port})"
        ctx.log_marks = service.log_sizes_of(target, slot.logs)
        if slot.release:
            colours.stop(target, spec, slot, grace=2.0)
        how = colours.start(target, spec, slot, ctx.release, _start_command(ctx))
        return f"{ctx.release} on {slot.colour}: {how}"


class ColourHealth(Step):
    name = "health"

    def plan(self, ctx: Context) -> list[str]:
        spec = ctx.spec
        return [
            f"{spec.health} aimed at the new colour's port: {spec.health_passes} passes within "
            f"{spec.health_deadline:g}s; on failure stop it (the proxy never routes to it)"
        ]

    def run(self, ctx: Context) -> str | None:
        spec = ctx.spec
        assert ctx.colour is not None
        slots = colours.read(ctx.target, spec)
        slot = slots[ctx.colour]
        verdict = bluegreen.gate(ctx, slot, on_result=lambda r, streak: report_probe(ctx, r, streak))
        if verdict.logs and verdict.logs != slot.logs and slot.apps:
            slot.logs = verdict.logs
            colours.write(ctx.target, spec, {**slots, slot.colour: slot})
        if not verdict.ok:
            ctx.failed_logs = verdict.logs
            logs = service.log_tails_of(ctx.target, verdict.logs, since=ctx.log_marks)
            raise StepFailed(
                f"{ctx.release} failed health on {slot.colour} (port {slot.port}): {verdict.reason}",
                format_report(
                    f"health of {ctx.release} on port {slot.port}",
                    [("probe", "\n".join(r.detail for r in verdict.last()))]
                    + [(f"log {path}", text) for path, text in logs],
                ),
            )
        return f"{spec.health_passes} passes on port {slot.port} in {verdict.seconds:.1f}s"


class Route(Step):
    """``switch``: the proxy to the new colour (include rewritten, graceful reload), then ``current``."""

    def __init__(self, *, back: bool = False) -> None:
        self.back = back
        self.name = "rollback-switch" if back else "switch"

    def plan(self, ctx: Context) -> list[str]:
        return [
            f"{proxies.include_path(ctx.spec)} → the new colour's port; `{proxies.reload_command(ctx.spec)}`; "
            f"current → releases/{ctx.release}"
        ]

    def run(self, ctx: Context) -> str | None:
        target, spec = ctx.target, ctx.spec
        slots = colours.read(target, spec)
        colour = ctx.live_colour if self.back else ctx.colour
        release = ctx.fallback if self.back else ctx.release
        port = slots[colour].port if colour else ctx.routed_before if self.back else None
        if port is None or release is None:
            return skipped("no colour to route to")
        where = colour or "the in-place service"  # back to what served before the first switch
        proxies.route(target, spec, bluegreen.upstream_host(ctx), port, f"{release} on {where}")
        target.replace_symlink(ctx.layout.current, ctx.layout.current_link_value(release))
        was, ctx.live = ctx.live, release
        return f"{spec.proxy} → {where} (port {port}); current → releases/{release}" + (
            f" (was {was})" if was and was != release else ""
        )


class StopNew(Step):
    """``rollback-stop``: the colour this run started, drained and stopped once the proxy routes back."""

    name = "rollback-stop"

    def run(self, ctx: Context) -> str | None:
        return bluegreen.settle(ctx, routed_back=True) or skipped("nothing of this run is running")


class Drain(Step):
    name = "drain"

    def plan(self, ctx: Context) -> list[str]:
        return [
            f"the old colour serves its last requests for {ctx.spec.drain:g}s and until the proxy holds no"
            " connection to it, then stops"
        ]

    def run(self, ctx: Context) -> str | None:
        slots = colours.read(ctx.target, ctx.spec)
        done = [bluegreen.retire_in_place(ctx, slots) or ""]
        slot = slots[ctx.live_colour] if ctx.live_colour and ctx.live_colour != ctx.colour else None
        if slot is not None and slot.release is not None:
            old = slot.release
            waited, left = drain.until_idle(ctx.target, slot.port, ctx.spec.drain)
            colours.stop(ctx.target, ctx.spec, slot)
            busy = f" with {left} connection(s) still open" if left else ""
            done.append(f"{old} on {slot.colour} drained for {waited:.1f}s{busy}, then stopped")
        return "; ".join(d for d in done if d) or skipped("no old colour running")
