"""Read-only views of a target (``releases``, ``status``) and breaking a lock by hand (``unlock``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from deploysafe import safejson
from deploysafe.errors import LockError
from deploysafe.hosts.base import Host
from deploysafe.release import health, history, lock, service
from deploysafe.release import proxy as proxies
from deploysafe.release.layout import Layout, is_adopted
from deploysafe.release.pm2 import Pm2Process
from deploysafe.release.proxy import colours
from deploysafe.release.run import recover_interrupted
from deploysafe.release.spec import TargetSpec, open_target
from deploysafe.release.state import current_release, existing_releases


@dataclass(frozen=True)
class ReleaseInfo:
    id: str
    status: str  # good | failed | rolled-back | interrupted | unknown
    current: bool
    when: str
    version: str
    artifact_sha256: str
    adopted: bool = False  # the original hand-managed tree ``adopt`` made the first release

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def releases(spec: TargetSpec) -> list[ReleaseInfo]:
    """Every release directory on the target, newest first, with its verdict from history."""
    target = open_target(spec)
    try:
        layout = spec.layout
        records = history.read(target, layout)
        statuses = history.release_statuses(records)
        last: dict[str, dict] = {}
        for record in records:
            if isinstance(record.get("release"), str):
                last[record["release"]] = record
        live = current_release(target, layout)
        out = [
            ReleaseInfo(
                id=r,
                status=statuses.get(r, "unknown"),
                current=r == live,
                when=str(last.get(r, {}).get("finished", "")),
                version=str(last.get(r, {}).get("version", "")),
                artifact_sha256=str(last.get(r, {}).get("artifact_sha256", "")),
                adopted=is_adopted(r),
            )
            for r in existing_releases(target, layout)
        ]
        return sorted(out, key=lambda i: i.when, reverse=True)
    finally:
        target.close()


@dataclass
class StatusInfo:
    target: str
    current: str | None
    current_status: str
    lock: str | None
    lock_state: str | None
    last: dict[str, Any] | None
    failures: int
    breaker_open: bool
    releases: int
    health: str | None = None
    healthy: bool | None = None
    processes: list[ProcessInfo] = field(default_factory=list)
    proxy: str | None = None  # blue/green: where the proxy routes, and what runs on each colour

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ProcessInfo:
    """One process the service manager runs from the target (pm2 today)."""

    manager: str
    name: str
    id: int
    status: str
    pid: int
    restarts: int
    cwd: str

    @classmethod
    def of_pm2(cls, process: Pm2Process) -> ProcessInfo:
        cwd = process.real_cwd or process.cwd
        return cls("pm2", process.name, process.pm_id, process.status, process.pid, process.restarts, cwd)

    def describe(self) -> str:
        return f"{self.manager} {self.name}[{self.id}] {self.status}, pid {self.pid}, {self.restarts} restarts"


def status(spec: TargetSpec, *, probe: bool = True) -> StatusInfo:
    target = open_target(spec)
    try:
        layout = spec.layout
        records = history.read(target, layout)
        live = current_release(target, layout)
        holder = lock.read_holder(target, layout)
        state = lock.holder_state(holder) if holder else None
        failures = history.consecutive_failures(records)
        last = records[-1] if records else None
        if last:
            last = {k: last.get(k) for k in ("kind", "release", "status", "finished", "who", "message") if k in last}
        current_status = history.release_statuses(records).get(live or "", "unknown") if live else "none"
        pending = _pending_run(target, layout)
        if live and pending is not None and pending.get("release") == live:
            # The run that switched to the live release has not reached history: its own record speaks.
            verdict = pending.get("status")
            if verdict not in (history.GOOD, history.FAILED, history.ROLLED_BACK):
                verdict = "running" if state and state[0] == "alive" else history.INTERRUPTED
            current_status = str(verdict)
        info = StatusInfo(
            target=target.url,
            current=live,
            current_status=current_status,
            lock=holder.describe() if holder else None,
            lock_state=f"{state[0]}: {state[1]}" if state else None,
            last=last,
            failures=len(failures),
            breaker_open=len(failures) >= history.BREAKER_LIMIT,
            releases=len(existing_releases(target, layout)),
        )
        if spec.proxy:
            info.proxy = proxy_state(target, spec, live)
        if probe and spec.probe() is not None and live:
            judge = through_proxy if spec.proxy else service.judge
            verdict = judge(target, spec, live, passes=1, interval=0.2, deadline=0.1, pm2_min_uptime=0)
            result = verdict.results[-1]
            info.health, info.healthy = result.detail, result.ok
        info.processes = [ProcessInfo.of_pm2(p) for p in service.pm2_processes(target, spec)]
        return info
    finally:
        target.close()


def proxy_state(target: Host, spec: TargetSpec, live: str | None) -> str:
    """Where the proxy routes and what each colour runs; a proxy and ``current`` that disagree (a run
    killed inside its switch) are said, with what the next run does about it."""
    slots = colours.read(target, spec)
    routed = proxies.routed_port(target, spec)
    to = colours.colour_of(slots, routed)
    parts = [f"{spec.proxy} → {to or 'port ' + str(routed) if routed else 'nothing yet'}"]
    parts += [slot.describe() for slot in slots.values()]
    text = "; ".join(parts)
    if to and live and slots[to].release != live:
        text += f"; NOT current's release ({live}): the next deploy or rollback routes the proxy back to it"
    return text


def through_proxy(target: Host, spec: TargetSpec, live: str, **window: Any) -> health.Verdict:
    """The health probe as configured (through the proxy: what users get), once."""
    window.pop("pm2_min_uptime", None)
    probe = service.probe_for(target, spec, live)
    with health.session(target, probe, cwd=spec.layout.current, env=dict(spec.env)) as session:
        return health.window(session, **window)


def _pending_run(target: Host, layout: Layout) -> dict[str, Any] | None:
    """The record of a run still in progress or killed (run.json), if it is readable."""
    data = target.read_file(layout.run_file)
    try:
        record = safejson.loads(data) if data else None
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def unlock(spec: TargetSpec, *, force: bool = False) -> lock.LockInfo | None:
    """Break the target's lock by hand; return who held it. Records an interrupted run if one was left.

    A holder that is provably still running on this machine is only broken with ``force``.
    """
    target = open_target(spec)
    try:
        layout = spec.layout
        holder = lock.read_holder(target, layout)
        if target.kind(layout.lock) is None:
            return None
        if holder is not None and not force and lock.holder_state(holder)[0] == "alive":
            raise LockError(
                f"{target.url} is locked by {holder.describe()}, which is still running; "
                "pass --force to break the lock anyway"
            )
        target.remove(layout.lock)
        recover_interrupted(target, layout)
        return holder
    finally:
        target.close()
