"""``preflight``: what the target is (missing, empty, a deploysafe layout; a plain tree is refused) and
what is about to land on it. Rollback also needs a layout with releases and a health probe. Under pm2 a
``health_deadline`` shorter than ``pm2_min_uptime`` could never pass, and a process file whose apps set
``PORT`` and none to the health probe's port, when that port is known to be the apps' own
(:mod:`deploysafe.release.portcheck`), would run the service where the probe never looks: both refused
before anything changes, as are app names another target's apps hold in the same pm2 daemon
(:mod:`deploysafe.release.pm2names`). Behind a proxy, the colours' ports."""

from __future__ import annotations

from deploysafe.errors import ConfigError, TargetError
from deploysafe.release import pm2names, portcheck
from deploysafe.release import proxy as proxies
from deploysafe.release.context import Context
from deploysafe.release.proxy import colours
from deploysafe.release.spec import TargetSpec
from deploysafe.release.state import check_layout
from deploysafe.release.steps.base import Step

# What the target is, in words (the states of deploysafe.release.state.check_layout).
STATES = {"missing": "does not exist yet", "empty": "is empty", "deploysafe": "holds earlier releases"}


class Preflight(Step):
    name = "preflight"

    def intro(self, ctx: Context) -> str:
        return f"{ctx.release} → {ctx.target.url}" if ctx.kind == "deploy" else ctx.target.url

    def plan(self, ctx: Context) -> list[str]:
        check(ctx)
        if ctx.kind == "deploy":
            return [f"target {ctx.target.url} {STATES.get(ctx.state, ctx.state)}; artifact {ctx.release}"]
        return [f"target {ctx.target.url} is a deploysafe layout"]

    def run(self, ctx: Context) -> str | None:
        check(ctx)
        if ctx.kind == "deploy":
            assert ctx.manifest is not None
            return f"target {STATES.get(ctx.state, ctx.state)}; artifact {ctx.manifest.id}, {len(ctx.manifest.files)} files"
        return None


def check(ctx: Context) -> None:
    """Read the layout's state into ``ctx``; refuse what the flow cannot start on (no probe, no releases)."""
    spec = ctx.spec
    if spec.pm2 and spec.probe() is not None and spec.health_deadline < spec.pm2_min_uptime:
        raise ConfigError(
            f"health_deadline ({spec.health_deadline:g}s) is shorter than pm2_min_uptime ({spec.pm2_min_uptime:g}s): "
            "no release could pass; raise health_deadline or lower pm2_min_uptime"
        )
    if spec.proxy:
        check_proxy(spec)
    if ctx.kind == "deploy" and ctx.artifact_path is not None:
        apps = portcheck.app_ports(ctx.artifact_path, spec)
        portcheck.check(apps, spec, ctx.target)
        if apps:
            snap = pm2names.snapshot(ctx.target, spec)  # read once: the restart and the proxy's start use it too
            ctx.pm2_seen = snap.processes if snap is not None else None
            ctx.pm2_apps = frozenset(name for name, _ in apps)
            ctx.host_node = snap.node if snap is not None else ""
            names = pm2names.names_for([name for name, _ in apps], spec)
            pm2names.refuse(ctx.pm2_seen or [], spec, names, ctx.target.url)
    ctx.state = check_layout(ctx.target, ctx.layout)
    if ctx.kind == "rollback":
        if ctx.state != "deploysafe":
            raise TargetError(f"{ctx.target.url} has no releases to roll back to")
        if ctx.spec.probe() is None:
            raise ConfigError("rollback needs a health probe: set health in the target or pass --health")


def check_proxy(spec: TargetSpec) -> None:
    """Blue/green needs its two ports, a probe it can aim at them, and no in-place restart command."""
    proxies.of(spec)
    colours.ports(spec)
    probe = spec.probe()
    if probe is not None and probe.kind not in ("http", "tcp"):
        raise ConfigError(
            f"proxy = {spec.proxy!r} aims the health probe at each colour's port: health must be http(s):// or tcp://"
        )
    if spec.restart:
        raise ConfigError(
            f"proxy = {spec.proxy!r} starts each release on its colour's port (pm2, or the start command): "
            "remove restart, which restarts in place"
        )
