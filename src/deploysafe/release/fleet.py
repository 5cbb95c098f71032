"""Fleet deploys: one artifact to several targets, canary first, then batches in parallel.

    survey → canary → batch 1 → batch 2 → ... → [revert]

- survey: every host is read in parallel before any is touched (reachable, a deploysafe layout, not
  locked, circuit breaker closed, a health probe). One refusal refuses the whole fleet: nothing changes.
- canary, then each batch: the single-host deploy (:mod:`engine` running the DEPLOY flow, or PROXY_DEPLOY behind a proxy) runs on every host of the group at
  once, each with its own connection, lock, history, boot test, health gate and automatic rollback.
  A host that already runs the release as a good one is skipped, so running a stopped deploy again
  resumes it.
- When any host of a group fails (blocked before its switch, rolled back by its health gate, or it
  could not run), the other hosts of that group finish their own deploy, and no later group starts.
  Every host is then on the new release (passed its health gate) or on the release it had (untouched,
  or put back by its own rollback); a host that could not get back is flagged as needing a human.
- ``on_failure = "rollback"`` then also puts back, batch by batch, every host this run upgraded, so the
  fleet ends as it started. The default, ``stop``, leaves them on the new release, which passed their
  own health gates: the failure is often the host's (a missing shared file, a full disk, a network cut),
  and restarting healthy hosts again costs capacity. The report says what each host runs.

A fleet rollback puts back every host (``batch`` at a time, never stopping early: each host's own
rollback restores the release it had if the one chosen is unhealthy).

SIGINT, SIGTERM or SIGHUP during a fleet run (:mod:`deploysafe.release.interrupts`) reaches every host
at work: each ends as a lone run would (before its switch untouched, after it put back on the release it
had and health-gated). No later group starts; with ``on_failure = "rollback"`` the hosts upgraded by
earlier groups are put back too (further signals are only noted meanwhile). The report says what each
host runs, and the fleet exits with the signal's code (130, 143, 129).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from deploysafe import artifact
from deploysafe.artifact import Manifest
from deploysafe.errors import DeploysafeError
from deploysafe.release import engine, history, interrupts, lock
from deploysafe.release import rollback as single
from deploysafe.release.context import Context
from deploysafe.release.events import Reporter
from deploysafe.release.fleetresult import (
    ALREADY_LIVE,
    ERROR,
    FINE,
    GOOD,
    INTERRUPTED,
    NOT_REACHED,
    REFUSED,
    REVERT_FAILED,
    REVERTED,
    FleetFailed,
    FleetReporter,
    FleetResult,
    HostOutcome,
    NullFleetReporter,
    render,
    tally,
)
from deploysafe.release.fleetspec import FleetSpec, label
from deploysafe.release.flows import deploy_flow
from deploysafe.release.run import ReleaseFailed, Result
from deploysafe.release.spec import TargetSpec, open_target
from deploysafe.release.state import check_layout, current_release

T = TypeVar("T")
SURVEY_PARALLEL = 16
DEPLOY_FAILED = (history.FAILED, history.ROLLED_BACK, ERROR)


@dataclass
class HostState:
    """A host as the survey found it."""

    spec: TargetSpec
    current: str | None = None
    current_status: str = "none"
    problem: str | None = None
    plan: list[tuple[str, str]] = field(default_factory=list)


def in_parallel(calls: Sequence[Callable[[], T]], limit: int | None = None) -> list[T]:
    """Run ``calls`` on threads (at most ``limit`` at once); results in order. One call runs in this thread."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(len(calls), limit or len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


class _Tracker:
    """Passes a host's events on, and remembers whether its ``switch`` happened."""

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner
        self.switched = False

    def step_started(self, step: str, detail: str = "") -> None:
        self.inner.step_started(step, detail)

    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None:
        if step == "switch" and status == "ok":
            self.switched = True
        self.inner.step_finished(step, status, seconds, detail)

    def progress(self, step: str, done: int, total: int | None) -> None:
        self.inner.progress(step, done, total)

    def message(self, text: str, level: str = "info") -> None:
        self.inner.message(text, level)

    def probe(self, step: str, ok: bool, detail: str, streak: int, needed: int) -> None:
        self.inner.probe(step, ok, detail, streak, needed)


class _Clock:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.start, 3)


# -- survey -----------------------------------------------------------------------------------------


def survey_host(
    spec: TargetSpec,
    *,
    force: bool,
    lock_wait: float,
    plan_for: tuple[Path, Manifest] | None = None,
    kind: str = "deploy",
    once_hooks: bool = True,
) -> HostState:
    """Read one host without changing it: what it runs, and why a deploy there would refuse."""
    state = HostState(spec)
    if spec.probe() is None:
        state.problem = "no health probe: set health in its [targets] table or pass --health"
        return state
    try:
        target = open_target(spec)
    except DeploysafeError as err:
        state.problem = str(err)
        return state
    try:
        layout = spec.layout
        if check_layout(target, layout) == "deploysafe":
            records = history.read(target, layout)
            state.current = current_release(target, layout)
            if state.current:
                state.current_status = history.release_statuses(records).get(state.current, "unknown")
            holder = lock.read_holder(target, layout)
            if holder is not None and lock_wait <= 0 and lock.holder_state(holder)[0] != "dead":
                state.problem = f"locked by {holder.describe()} ({lock.holder_state(holder)[1]})"
            failures = history.consecutive_failures(records)
            if kind == "deploy" and len(failures) >= history.BREAKER_LIMIT and not force:
                state.problem = (
                    f"circuit breaker open after {len(failures)} failed deploys: deploy there alone with "
                    "--force, or roll it back, first"
                )
        elif kind == "rollback":
            state.problem = "no releases to roll back to"
        if plan_for is not None:
            path, manifest = plan_for
            ctx = Context(
                "deploy",
                spec,
                target,
                manifest.id,
                manifest=manifest,
                artifact_path=path,
                force=force,
                once_hooks=once_hooks,
            )
            state.plan = engine.plan_flow(deploy_flow(spec.proxy), ctx)
    except DeploysafeError as err:
        state.problem = str(err)
    finally:
        target.close()
    return state


def survey(
    fleet: FleetSpec,
    *,
    force: bool,
    lock_wait: float,
    plan_for: tuple[Path, Manifest] | None = None,
    kind: str = "deploy",
) -> list[HostState]:
    """Every host read in parallel; a plan (``plan_for``) runs once-per-fleet hooks on the first host only."""

    def one(spec: TargetSpec) -> HostState:
        once = spec is fleet.hosts[0]
        return survey_host(spec, force=force, lock_wait=lock_wait, plan_for=plan_for, kind=kind, once_hooks=once)

    return in_parallel([partial(one, spec) for spec in fleet.hosts], SURVEY_PARALLEL)


def _refused(kind: str, release: str, fleet: FleetSpec, states: list[HostState], clock: _Clock) -> FleetFailed:
    outcomes = [
        HostOutcome(
            host=label(s.spec),
            target=s.spec.url,
            phase="survey",
            status=REFUSED if s.problem else "ok",
            previous=s.current,
            running=s.current,
            message=s.problem or "",
        )
        for s in states
    ]
    bad = [o for o in outcomes if o.status == REFUSED]
    message = f"{fleet.title}: refused before touching any host: " + "; ".join(f"{o.host}: {o.message}" for o in bad)
    title = f"fleet {kind} of {release} to {fleet.title}: REFUSED, no host was touched"
    result = FleetResult(kind, REFUSED, release, fleet.title, outcomes, clock(), message)
    result.report = render(title, outcomes, ["fix the hosts marked refused, then run the same command again"])
    return FleetFailed(message, result)


# -- one host ---------------------------------------------------------------------------------------


def _outcome_of(
    run: Callable[[Reporter], Result], state: HostState, phase: str, reporter: FleetReporter, clock: _Clock
) -> HostOutcome:
    """Run one host's deploy or rollback and say how it ended; never raises for a DeploysafeError."""
    name = label(state.spec)
    tracker = _Tracker(reporter.host(name))
    outcome = HostOutcome(name, state.spec.url, phase, ERROR, previous=state.current, started=clock())
    try:
        result = run(tracker)
        outcome.status, outcome.release, outcome.running = GOOD, result.release, result.current
        outcome.message, outcome.steps = result.message, result.steps
    except ReleaseFailed as failure:
        result = failure.result
        outcome.status, outcome.release, outcome.running = result.status, result.release, result.current
        outcome.message, outcome.report, outcome.steps = str(failure), result.report, result.steps
        outcome.needs_human = tracker.switched and result.status == history.FAILED
    except KeyboardInterrupt as err:  # a signal before the run held the host's lock: nothing changed there
        outcome.status, outcome.running = INTERRUPTED, state.current
        outcome.message = f"{interrupts.as_interrupt(err)} before it started"
    except Exception as err:  # a host that cannot run must not hide the other hosts' outcome
        text = str(err) if isinstance(err, DeploysafeError) else f"unexpected {type(err).__name__}: {err}"
        outcome.message = text
        outcome.running = state.current
        outcome.known, outcome.needs_human = not tracker.switched, tracker.switched
    outcome.finished = clock()
    reporter.host_finished(outcome)
    return outcome


# -- deploy -----------------------------------------------------------------------------------------


def deploy_fleet(
    source: str | Path,
    fleet: FleetSpec,
    *,
    reporter: FleetReporter | None = None,
    dry_run: bool = False,
    lock_wait: float = 0.0,
    force: bool = False,
) -> FleetResult:
    """Ship one artifact to every host of ``fleet``; raises FleetFailed unless every host ends good."""
    reporter = reporter or NullFleetReporter()
    clock = _Clock()
    artifact_path = engine.resolve_artifact(source)
    manifest = artifact.verify_archive(artifact_path)
    plan_for = (artifact_path, manifest) if dry_run else None
    states = survey(fleet, force=force, lock_wait=lock_wait, plan_for=plan_for)
    if any(s.problem for s in states):
        raise _refused("deploy", manifest.id, fleet, states, clock)
    if dry_run:
        return _planned(manifest.id, fleet, states, clock)

    with interrupts.relayed() as relay:
        return _deploy_groups(artifact_path, manifest.id, fleet, states, relay, reporter, lock_wait, force, clock)


def _deploy_groups(
    artifact_path: Path,
    release: str,
    fleet: FleetSpec,
    states: list[HostState],
    relay: interrupts.Relay,
    reporter: FleetReporter,
    lock_wait: float,
    force: bool,
    clock: _Clock,
) -> FleetResult:
    """The canary, then each batch; a failed host or a signal stops it there (see the module's doc)."""
    by_url = {s.spec.url: s for s in states}
    first = fleet.hosts[0].url  # hooks marked once_per_fleet run there (the canary) only
    outcomes: list[HostOutcome] = []
    stopped: str | None = None
    for phase, hosts in fleet.phases():
        group = [by_url[h.url] for h in hosts]
        if stopped or relay.interrupt:
            outcomes += [_untouched(s, phase, NOT_REACHED) for s in group]
            continue
        reporter.phase(phase, [label(h) for h in hosts])
        live = [s for s in group if s.current == release and s.current_status == history.GOOD]
        for state in live:
            outcome = _untouched(state, phase, ALREADY_LIVE, release=release)
            reporter.host_finished(outcome)
            outcomes.append(outcome)

        def deploy_one(state: HostState, phase: str = phase) -> HostOutcome:
            def run(tracker: Reporter) -> Result:
                return engine.deploy(
                    artifact_path,
                    state.spec,
                    reporter=tracker,
                    lock_wait=lock_wait,
                    force=force,
                    once_hooks=state.spec.url == first,
                )

            return _outcome_of(run, state, phase, reporter, clock)

        done = in_parallel([partial(deploy_one, s) for s in group if s not in live])
        outcomes += done
        if any(o.status not in FINE for o in done) or relay.interrupt:
            stopped = phase
    order = {label(h): i for i, h in enumerate(fleet.hosts)}
    outcomes.sort(key=lambda o: order[o.host])
    with relay.calmed():
        if stopped and fleet.on_failure == "rollback":
            _revert(fleet, outcomes, reporter, lock_wait, clock)
        if relay.interrupt:
            raise _interrupted("deploy", release, fleet, outcomes, relay, clock)
    return _finish_deploy(release, fleet, outcomes, stopped, clock)


def _interrupted(
    kind: str, release: str, fleet: FleetSpec, outcomes: list[HostOutcome], relay: interrupts.Relay, clock: _Clock
) -> FleetFailed:
    """A fleet run a signal ended: what each host runs now, exit with the signal's code."""
    assert relay.interrupt is not None
    cause = relay.interrupt.cause
    message = f"{fleet.title}: {kind} interrupted by {cause}: {tally(outcomes)}"
    footer = [f"now: {tally(outcomes)}"]
    if relay.held:
        footer.append(f"{', '.join(dict.fromkeys(i.cause for i in relay.held))} arrived meanwhile: held until done")
    humans = [o.host for o in outcomes if o.needs_human or not o.known]
    if humans:
        footer.append(f"CHECK BY HAND: {', '.join(humans)} may not be serving a healthy release")
    footer.append("run the same command again to finish: hosts already on the release are skipped")
    result = FleetResult(kind, INTERRUPTED, release, fleet.title, outcomes, clock(), message)
    result.report = render(f"fleet {kind} of {release} to {fleet.title}: INTERRUPTED by {cause}", outcomes, footer)
    return FleetFailed(message, result, relay.interrupt.exit_code)


def _untouched(state: HostState, phase: str, status: str, release: str | None = None) -> HostOutcome:
    return HostOutcome(
        label(state.spec),
        state.spec.url,
        phase,
        status,
        release=release,
        previous=state.current,
        running=state.current,
    )


def _planned(release: str, fleet: FleetSpec, states: list[HostState], clock: _Clock) -> FleetResult:
    by_url = {s.spec.url: s for s in states}
    outcomes = []
    for phase, hosts in fleet.phases():
        for spec in hosts:
            state = by_url[spec.url]
            live = state.current == release and state.current_status == history.GOOD
            outcomes.append(_untouched(state, phase, ALREADY_LIVE if live else "planned", release))
    plans = {label(s.spec): s.plan for s in states}
    message = f"dry run: nothing was changed ({len(fleet.phases())} groups: " + ", ".join(
        f"{phase} {'+'.join(label(h) for h in hosts)}" for phase, hosts in fleet.phases()
    )
    message += f"; on failure: {fleet.on_failure})"
    return FleetResult("deploy", "planned", release, fleet.title, outcomes, clock(), message, plans=plans)


def _revert(
    fleet: FleetSpec, outcomes: list[HostOutcome], reporter: FleetReporter, lock_wait: float, clock: _Clock
) -> None:
    """--on-failure rollback: put back, batch by batch, each host this run moved to the new release."""
    specs = {h.url: h for h in fleet.hosts}
    upgraded = [o for o in outcomes if o.status == GOOD and o.previous and o.previous != o.release]
    for o in outcomes:
        if o.status == GOOD and not o.previous:
            o.message = "its first release: nothing earlier to put back"
    if not upgraded:
        return
    reporter.phase("revert", [o.host for o in upgraded])
    for start in range(0, len(upgraded), fleet.batch):
        group = upgraded[start : start + fleet.batch]

        def revert_one(o: HostOutcome) -> None:
            state = HostState(specs[o.target], current=o.release)

            def run(tracker: Reporter) -> Result:
                spec = specs[o.target]
                once = o is upgraded[0]
                return single.rollback(spec, release=o.previous, reporter=tracker, lock_wait=lock_wait, once_hooks=once)

            back = _outcome_of(run, state, o.phase, NullFleetReporter(), clock)
            o.status = REVERTED if back.status == GOOD else REVERT_FAILED
            o.running, o.needs_human = back.running, back.needs_human
            o.message = f"put back {o.previous}" if back.status == GOOD else f"putting back failed: {back.message}"
            o.report = back.report
            o.finished = back.finished
            o.steps += back.steps
            reporter.host_finished(o)

        in_parallel([partial(revert_one, o) for o in group])


def _finish_deploy(
    release: str, fleet: FleetSpec, outcomes: list[HostOutcome], stopped: str | None, clock: _Clock
) -> FleetResult:
    failed = [o for o in outcomes if o.status in DEPLOY_FAILED]
    if not stopped:
        message = f"{release} is live on every host of {fleet.title} ({len(outcomes)})"
        result = FleetResult("deploy", GOOD, release, fleet.title, outcomes, clock(), message)
        result.report = render(f"fleet deploy of {release} to {fleet.title}: good", outcomes, [])
        return result
    first = next(o for o in outcomes if o.phase == stopped and o.status in DEPLOY_FAILED)
    after = "the canary" if stopped == "canary" else stopped
    message = f"{fleet.title}: stopped after {after}: {first.host} {first.status}: {first.message}"
    footer = [f"now: {tally(outcomes)}"]
    humans = [o.host for o in outcomes if o.needs_human or not o.known]
    if humans:
        footer.append(f"CHECK BY HAND: {', '.join(humans)} may not be serving a healthy release")
    upgraded = [o.host for o in outcomes if o.status == GOOD]
    before = sorted({o.previous for o in outcomes if o.status == GOOD and o.previous})
    if upgraded and fleet.on_failure == "stop" and before:
        where = f"--fleet {fleet.name}" if fleet.name else " ".join(f"--to {h}" for h in upgraded)
        footer.append(
            f"{', '.join(upgraded)} kept {release} (each passed its own health gate); to put them back: "
            f"deploysafe rollback {where} --release {before[0] if len(before) == 1 else 'ID'}"
        )
    elif upgraded:
        footer.append(f"{', '.join(upgraded)} kept {release} (each passed its own health gate)")
    footer.append(
        f"after fixing {', '.join(o.host for o in failed)}, run the same deploy again: hosts already on "
        "this release are skipped"
    )
    title = f"fleet deploy of {release} to {fleet.title}: STOPPED after {after}"
    result = FleetResult("deploy", "stopped", release, fleet.title, outcomes, clock(), message)
    result.report = render(title, outcomes, footer)
    raise FleetFailed(message, result)


# -- rollback ---------------------------------------------------------------------------------------


def rollback_fleet(
    fleet: FleetSpec,
    *,
    release: str | None = None,
    reporter: FleetReporter | None = None,
    lock_wait: float = 0.0,
    dry_run: bool = False,
) -> FleetResult:
    """Put back ``release`` (default: each host's previous good one) on every host, ``batch`` at a time.

    Without ``release`` the hosts must all run the same release: after a stopped deploy, "the previous
    release" of a host that was never upgraded would be an older one still, so say which to put back.
    """
    reporter = reporter or NullFleetReporter()
    clock = _Clock()
    states = survey(fleet, force=True, lock_wait=lock_wait, kind="rollback")
    running = {s.current for s in states if not s.problem}
    if release is None and len(running) > 1:
        kinds = ", ".join(sorted(str(r) for r in running))
        raise _mixed(fleet, states, kinds, clock)
    name = release or "the previous good release"
    if dry_run:
        return _planned_rollback(fleet, states, release, name, clock)
    with interrupts.relayed() as relay:
        return _roll_back_batches(fleet, states, release, name, relay, reporter, lock_wait, clock)


def _roll_back_batches(
    fleet: FleetSpec,
    states: list[HostState],
    release: str | None,
    name: str,
    relay: interrupts.Relay,
    reporter: FleetReporter,
    lock_wait: float,
    clock: _Clock,
) -> FleetResult:
    outcomes: list[HostOutcome] = []
    todo: list[HostState] = []
    for state in states:
        if state.problem:
            outcome = _untouched(state, "survey", ERROR)
            outcome.message = state.problem
            reporter.host_finished(outcome)
            outcomes.append(outcome)
        elif release is not None and state.current == release:
            outcome = _untouched(state, "-", ALREADY_LIVE, release)
            reporter.host_finished(outcome)
            outcomes.append(outcome)
        else:
            todo.append(state)
    for start in range(0, len(todo), fleet.batch):
        group = todo[start : start + fleet.batch]
        phase = f"batch {start // fleet.batch + 1}"
        if relay.interrupt:
            outcomes += [_untouched(s, phase, NOT_REACHED) for s in group]
            continue
        reporter.phase(phase, [label(s.spec) for s in group])

        def back_one(state: HostState, phase: str = phase) -> HostOutcome:
            def run(tracker: Reporter) -> Result:
                once = state is todo[0]
                return single.rollback(
                    state.spec, release=release, reporter=tracker, lock_wait=lock_wait, once_hooks=once
                )

            return _outcome_of(run, state, phase, reporter, clock)

        outcomes += in_parallel([partial(back_one, s) for s in group])
    order = {label(h): i for i, h in enumerate(fleet.hosts)}
    outcomes.sort(key=lambda o: order[o.host])
    if relay.interrupt:
        raise _interrupted("rollback", name, fleet, outcomes, relay, clock)
    failed = [o for o in outcomes if o.status not in FINE]
    verdict = f"FAILED on {len(failed)} host(s)" if failed else "good"
    report = render(f"fleet rollback of {fleet.title} to {name}: {verdict}", outcomes, [f"now: {tally(outcomes)}"])
    if failed:
        message = f"{fleet.title}: rollback failed on " + "; ".join(f"{o.host}: {o.message}" for o in failed)
        result = FleetResult("rollback", "failed", name, fleet.title, outcomes, clock(), message, report)
        raise FleetFailed(message, result)
    message = f"{fleet.title} rolled back: {tally(outcomes)}"
    return FleetResult("rollback", GOOD, name, fleet.title, outcomes, clock(), message, report)


def _mixed(fleet: FleetSpec, states: list[HostState], kinds: str, clock: _Clock) -> FleetFailed:
    outcomes = [_untouched(s, "survey", "ok") for s in states]
    message = (
        f"{fleet.title}: the hosts run different releases ({kinds}): say which to put back with --release ID "
        "(a host's own previous release may be older than the others')"
    )
    result = FleetResult("rollback", REFUSED, "?", fleet.title, outcomes, clock(), message)
    result.report = render(f"fleet rollback of {fleet.title}: REFUSED", outcomes, [f"now: {tally(outcomes)}"])
    return FleetFailed(message, result)


def _planned_rollback(
    fleet: FleetSpec, states: list[HostState], release: str | None, name: str, clock: _Clock
) -> FleetResult:
    def plan_one(state: HostState) -> tuple[str, list[tuple[str, str]]]:
        if state.problem:
            return label(state.spec), [("survey", f"SKIPPED: {state.problem}")]
        try:
            return label(state.spec), single.rollback(state.spec, release=release, dry_run=True).plan
        except DeploysafeError as err:
            return label(state.spec), [("choose", f"WOULD FAIL: {err}")]

    plans = dict(in_parallel([partial(plan_one, s) for s in states], SURVEY_PARALLEL))
    outcomes = [_untouched(s, "rollback", "planned", release) for s in states]
    message = f"dry run: nothing was changed ({fleet.batch} host(s) at a time)"
    return FleetResult("rollback", "planned", name, fleet.title, outcomes, clock(), message, plans=plans)


# -- read-only views ---------------------------------------------------------------------------------


def each_host(fleet: FleetSpec, view: Callable[[TargetSpec], T]) -> list[tuple[str, T | DeploysafeError]]:
    """``view`` of every host, read in parallel; a host that cannot be read gives its error instead."""

    def one(spec: TargetSpec) -> tuple[str, T | DeploysafeError]:
        try:
            return label(spec), view(spec)
        except DeploysafeError as err:
            return label(spec), err

    return in_parallel([partial(one, s) for s in fleet.hosts], SURVEY_PARALLEL)
