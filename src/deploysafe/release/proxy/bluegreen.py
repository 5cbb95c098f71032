"""Blue/green on one host, as the steps of a run see it: which colour takes traffic, making the proxy agree
with ``current`` after a run cut short, gating a colour on its own port, and putting things back.

A target moved from in place to a proxy still runs its service as deploysafe ran it in place: pm2 apps
started through ``current``, on the port the proxy routed to before the first switch. Once a colour has
passed and taken the traffic, :func:`retire_in_place` drains and deletes those apps; a service that
deploysafe did not start under pm2 is named, not stopped.

``current`` is the truth: it is switched last, after the proxy was reloaded. A run killed between the
two leaves the proxy routed to the new colour while ``current`` names the old one; the next run routes
the proxy back to ``current``'s colour (still running: the old colour stops only after the verdict).
"""

from __future__ import annotations

import contextlib
import posixpath
import time
from collections.abc import Callable

from deploysafe.errors import DeploysafeError
from deploysafe.release import health, pm2, service
from deploysafe.release import proxy as proxies
from deploysafe.release.context import Context
from deploysafe.release.pm2live import Liveness
from deploysafe.release.proxy import colours, drain
from deploysafe.release.proxy.colours import Slot


def upstream_host(ctx: Context) -> str:
    probe = ctx.spec.probe()
    return probe.host if probe is not None and probe.host else "127.0.0.1"


def live_colour(ctx: Context, slots: dict[str, Slot]) -> str | None:
    """The colour running the release ``current`` names, else the one the proxy routes to."""
    for colour, slot in slots.items():
        if ctx.live and slot.release == ctx.live:
            return colour
    return colours.colour_of(slots, proxies.routed_port(ctx.target, ctx.spec))


def reconcile(ctx: Context, slots: dict[str, Slot]) -> str | None:
    """Route the proxy to ``current``'s colour when a run cut short left it elsewhere; what was done."""
    live = live_colour(ctx, slots)
    routed = proxies.routed_port(ctx.target, ctx.spec)
    if live is None or slots[live].port == routed:
        return None
    slot = slots[live]
    proxies.route(ctx.target, ctx.spec, upstream_host(ctx), slot.port, f"{slot.release} on {live}")
    return f"the proxy routed to port {routed} while current is {ctx.live} on {live}: routed back to port {slot.port}"


def running(ctx: Context, slot: Slot) -> bool:
    """Whether ``slot``'s release still runs: its pid alive, or its pm2 apps online."""
    if slot.apps:
        online = {p.name for p in service.pm2_processes(ctx.target, ctx.spec) if p.status == "online"}
        return set(slot.apps) <= online
    return colours.alive(ctx.target, slot)


# Seconds a colour's gate waits at least before its fail-fast verdict. Behind the proxy waiting costs no
# request, only time, and the boot test (a bare start command) answers sooner than the same release
# started by pm2 on a loaded host: a healthy release must never be mistaken for a failing one.
PATIENCE_FLOOR = 5.0


class SeenSession(health.ProbeSession):
    """A gate's probe session that keeps its latest result, for the colour's watch."""

    last: health.ProbeResult | None = None

    def check(self) -> health.ProbeResult:
        self.last = super().check()
        return self.last


class ColourWatch:
    """A window's watch over pm2 apps started for a colour (see :class:`pm2.Watch`): pm2's list is read
    again only when /proc no longer shows the processes it last reported up (:class:`Liveness`).

    Apps not yet up ``pm2_min_uptime`` in one piece while the probe fails are not "up" for the window's
    patience (their wait is reported as pending): a crash loop keeps restarting them, and is judged by its
    restarts, not by a probe that never passed."""

    def __init__(self, ctx: Context, slot: Slot, session: SeenSession) -> None:
        release = ctx.layout.release(slot.release or ctx.release)
        self.ctx = ctx
        self.release = release
        self.session = session
        self.watch = pm2.Watch(frozenset(slot.apps), release, release, f"pm2-{slot.colour}", ctx.spec.pm2_min_uptime)
        self.live = Liveness(ctx.target)  # between reads of pm2's list, /proc says the apps still run

    def __call__(self) -> health.Vetting:
        snap = self.live.still()
        if snap is None:
            argv = pm2.snapshot_command(self.ctx.spec.pm2_bin, self.release, "")
            done = self.ctx.target.run(argv, cwd=self.release, env=dict(self.ctx.spec.env), timeout=60)
            snap = pm2.parse_snapshot(done.stdout) if done.ok else None
            if snap is None:
                return health.Vetting(pending=f"cannot read pm2's process list ({done.tail(1) or done.returncode})")
        vetting = self.watch.judge(snap)
        self.live.remember(snap, self.watch.names, up=not (vetting.fatal or vetting.pending))
        answered = self.session.last is not None and self.session.last.ok
        if vetting.waiting and not vetting.pending and not vetting.fatal and not answered:
            return health.Vetting(pending=vetting.waiting)
        return vetting


def gate(
    ctx: Context, slot: Slot, on_result: Callable[[health.ProbeResult, int], None] | None = None
) -> health.Verdict:
    """The health window of ``slot``'s release on its own port: no traffic reaches it yet.

    A deploy whose boot test showed how soon the release answers fails fast, as in place
    (:class:`deploysafe.release.health.Patience`, at least :data:`PATIENCE_FLOOR`): no pass within a
    small multiple of that while the
    colour's pm2 apps are online from the release and up ``pm2_min_uptime`` unrestarted (or its started
    process is alive) is a failure."""
    spec = ctx.spec
    assert slot.release is not None
    version = ctx.manifest.version if ctx.manifest and ctx.kind == "deploy" else None
    try:
        probe = service.probe_for(ctx.target, spec, slot.release, version).with_port(slot.port)
    except health.MissingVersion as err:
        return health.Verdict(False, [health.ProbeResult(False, str(err))], 0.0, str(err))

    def gone() -> str | None:
        if slot.apps or colours.alive(ctx.target, slot):
            return None
        return f"{slot.release} exited on {slot.colour} (port {slot.port}) during its health window"

    env = colours.env_for(spec, slot, slot.release)
    up = f"pm2 reports {', '.join(slot.apps)} online" if slot.apps else f"its process (pid {slot.pid}) is alive"
    patience = None
    if ctx.boot_seconds is not None:
        patience = health.Patience.after_boot(ctx.boot_seconds, up)
        patience = health.Patience(max(PATIENCE_FLOOR, patience.seconds), patience.why)
    session = SeenSession(ctx.target, probe, cwd=ctx.layout.release(slot.release), env=env)
    with session:
        watch = ColourWatch(ctx, slot, session) if slot.apps else None
        verdict = health.window(
            session,
            passes=spec.health_passes,
            interval=spec.health_interval,
            poll=min(spec.health_interval, 0.2),
            deadline=spec.health_deadline,
            alive=gone,
            patience=patience if patience is not None and patience.seconds < spec.health_deadline else None,
            watch=watch,
            on_result=on_result,
        )
    verdict.logs = watch.watch.logs if watch else [colours.log_path(ctx.layout, slot.colour)]
    return verdict


def settle(ctx: Context, *, routed_back: bool = False) -> str | None:
    """A run that ends before its verdict: the proxy routed to ``current``'s colour, the colour this run
    started stopped. If the proxy had been routed to it (``routed_back``, or routed back here), it first
    drains for ``drain`` seconds: the proxy's old workers finish the requests they sent it. Best effort;
    what was stopped."""
    if ctx.colour is None:
        return None
    with contextlib.suppress(DeploysafeError):
        slots = colours.read(ctx.target, ctx.spec)
        routed_back = bool(reconcile(ctx, slots)) or routed_back
        slot = slots[ctx.colour]
        routed = proxies.routed_port(ctx.target, ctx.spec)
        if slot.release == ctx.release and slot.port != routed:
            waited = drain.until_idle(ctx.target, slot.port, ctx.spec.drain)[0] if routed_back else 0.0
            colours.stop(ctx.target, ctx.spec, slot, grace=2.0)
            took = f"drained for {waited:.1f}s and stopped" if routed_back else "stopped: it never took traffic"
            return f"{ctx.release} on {ctx.colour} {took}"
    return None


def in_place_apps(ctx: Context, slots: dict[str, Slot], running: list[pm2.Pm2Process]) -> list[str]:
    """This target's pm2 apps, among ``running``, that run through ``current`` and belong to no colour:
    the service as the in-place restart (``pm2 startOrReload ... --cwd <root>/current``) left it. Colours
    run from ``releases/<id>`` under their own names."""
    coloured = {name for slot in slots.values() for name in slot.apps}
    current = ctx.layout.current.rstrip("/") + "/"
    return sorted(
        {
            p.name
            for p in running
            if p.name not in coloured and any(path.startswith(current) for path in (p.exec_path, p.cwd + "/"))
        }
    )


def retire_in_place(ctx: Context, slots: dict[str, Slot]) -> str | None:
    """After a colour took the traffic: the in-place service of a target moved to the proxy (the pm2 apps
    the colour's start found, ``ctx.in_place_apps``), drained on
    the port the proxy routed to before (``ctx.routed_before``) and deleted from pm2; without pm2, a
    warning naming the port when something still listens there. What was done or found."""
    spec = ctx.spec
    before = ctx.routed_before
    old_port = before if before is not None and colours.colour_of(slots, before) is None else None
    names = ctx.in_place_apps
    if names:
        if old_port is not None:
            waited = drain.until_idle(ctx.target, old_port, spec.drain)[0]
        else:
            time.sleep(spec.drain)
            waited = spec.drain
        ctx.target.run(pm2.delete_command(spec.pm2_bin, names), env=dict(spec.env), timeout=60)
        where = f" (port {old_port})" if old_port is not None else ""
        apps_named = f"app{'s' if len(names) > 1 else ''} {', '.join(names)}"
        return f"the in-place pm2 {apps_named}{where} drained for {waited:.1f}s and deleted"
    if old_port is not None and drain.listening(ctx.target, old_port):
        note = (
            f"port {old_port}, where {spec.proxy} routed before this deploy, still has a listener that blue/green "
            f"did not start (the in-place service of {posixpath.basename(spec.layout.root)}?): it takes no traffic "
            "now; stop it"
        )
        ctx.warn(note)
        return note
    return None
