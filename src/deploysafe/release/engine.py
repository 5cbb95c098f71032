"""The one engine: runs a flow (:mod:`deploysafe.release.flows`) of steps on one target, or asks the same
steps for their plan (``--dry-run``).

Each step is safe to interrupt. Until ``switch``, ``current`` is untouched and a failure only leaves a
release directory marked failed (or an ``.incoming-`` directory the next run removes). ``switch`` is
one rename(2) of a new symlink over ``current``. After it, until the verdict, every way the run can end
- a failed gate (restart, health, a hook), a restart that outlives ``restart_timeout``, any other error,
SIGINT, SIGTERM, SIGHUP or its output closed (:mod:`deploysafe.release.interrupts`) - switches back to
the previous good release, restarts it and checks it - once; if that fails too, it stops and says so.
Signals that arrive meanwhile wait until it is done. Every step's outcome is reported as it happens and
saved to ``run.json``, so a run killed with SIGKILL at any step leaves an exact account that the next run
recovers.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from deploysafe import artifact
from deploysafe.errors import ConfigError, DeploysafeError
from deploysafe.release import ending, interrupts
from deploysafe.release.context import Context
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.flows import DEPLOY, Flow, deploy_flow
from deploysafe.release.interrupts import Trap
from deploysafe.release.run import ReleaseFailed, Result, Run
from deploysafe.release.spec import TargetSpec, open_target
from deploysafe.release.state import current_release
from deploysafe.release.steps.base import SKIPPED, Step

STEPS = DEPLOY.names()


def resolve_artifact(source: str | Path, spec: TargetSpec | None = None) -> Path:
    """The artifact to ship: a .tar.gz as given, or a project ROOT packed first (refused if check blocks),
    checked against the Node version ``spec``'s target recorded at its last good deploy, when it has one."""
    path = Path(source)
    if path.is_file():
        return path
    if path.is_dir():
        return _pack_root(path, spec)
    raise ConfigError(f"{source}: no such artifact or project directory")


def _pack_root(root: Path, spec: TargetSpec | None) -> Path:
    """`deploysafe deploy ROOT` packs first, and so refuses what `check` blocks."""
    from deploysafe.pack.api import pack
    from deploysafe.release.node_record import runtime_for

    runtime = None
    if spec is not None:
        with contextlib.suppress(DeploysafeError):  # an unreachable target fails the deploy later, as before
            runtime = runtime_for(spec)[0]
    return pack(root, node_version=runtime).path


def do(ctx: Context, step: Step) -> None:
    """Run one step as a named, reported, saved step of the run."""
    with ctx.active.step(step.name, step.intro(ctx)) as handle:
        detail = step.run(ctx)
        if detail and detail.startswith(SKIPPED):
            handle.skip(detail.removeprefix(SKIPPED))
        elif detail:
            handle.detail = detail


def run_flow(flow: Flow, ctx: Context, trap: Trap) -> Result:
    """Run ``flow`` on ``ctx``'s target; a run that failed raises (ReleaseFailed once it has a result).

    However the run ends - a failing gate, a timeout, an error, SIGINT/SIGTERM/SIGHUP, its output closed -
    once the lock is held it ends through the flow's outcomes: before the switch the incoming release and
    the lock go; after it, until the verdict, the recovery steps put the fallback back. ``trap`` holds
    further signals off while that happens.
    """
    steps = [s for s in flow.steps_for(ctx.spec.hooks) if s.applies(ctx)]
    _, switch, _ = flow.phases(steps)
    try:
        for step in steps[:switch]:
            do(ctx, step)
    except BaseException as err:
        with trap.deferred():
            if not ctx.active.lock.held:
                raise  # nothing is held (yet, or any more: the circuit breaker let go of it)
            raise flow.outcomes.stopped(ctx, err) from err
    index = switch
    try:
        for index in range(switch, len(steps)):
            do(ctx, steps[index])
    except BaseException as err:
        with trap.deferred():
            way = ending.after_switch(
                status=ctx.active.record.get("status"),
                can_recover=bool(flow.recover),
                in_switch=index == switch,
                switched=lambda: _switched(ctx),
                fallback=ctx.fallback,
            )
            if way == ending.BROKE:
                flow.outcomes.broke(ctx, err)  # a verdict stays; adopt resumes from its journal
                raise
            if way == ending.STOPPED:
                raise flow.outcomes.stopped(ctx, err) from err
            if way == ending.NO_FALLBACK:
                raise flow.outcomes.no_fallback(ctx, err) from err
            raise recover(flow, ctx, err) from err
    return flow.outcomes.succeeded(ctx)


def _switched(ctx: Context) -> bool:
    """Whether ``current`` points at the release: the switch step was cut short either side of its rename."""
    if not ctx.active.connection_lost:
        with contextlib.suppress(DeploysafeError):
            return current_release(ctx.target, ctx.layout) == ctx.release
    return ctx.live == ctx.release


def recover(flow: Flow, ctx: Context, failure: BaseException) -> ReleaseFailed:
    """After the switch a gate failed, a step broke or the run was interrupted: the flow's recovery steps,
    once, towards ``ctx.fallback`` (:func:`deploysafe.release.ending.after_switch` decided there is one)."""
    try:
        for step in flow.recover:
            if step.applies(ctx):
                do(ctx, step)
    except DeploysafeError as err:
        return flow.outcomes.recovery_failed(ctx, failure, err)
    return flow.outcomes.recovered(ctx, failure)


def plan_flow(flow: Flow, ctx: Context) -> list[tuple[str, str]]:
    """What ``flow`` would do, step by step, read from the host without changing anything."""
    plan: list[tuple[str, str]] = []
    for step in flow.steps_for(ctx.spec.hooks):
        if step.applies(ctx):
            plan += [(step.name, line) for line in step.plan(ctx)]
    return plan


def planned(ctx: Context, plan: list[tuple[str, str]]) -> Result:
    return Result(
        kind=ctx.kind,
        status="planned",
        release=ctx.release,
        target=ctx.target.url,
        previous=ctx.previous,
        message="dry run: nothing was changed",
        plan=plan,
        current=ctx.live,
    )


def execute(flow: Flow, ctx: Context, *, dry_run: bool, extra: dict[str, Any] | None = None) -> Result:
    """The plan of ``flow`` (``dry_run``), or the flow run as a new recorded run of the target."""
    if dry_run:
        return planned(ctx, plan_flow(flow, ctx))
    with interrupts.trapped() as trap:
        ctx.trap = trap
        ctx.reporter = interrupts.GuardedReporter(ctx.reporter, trap)
        ctx.run = Run(flow.kind, ctx.target, ctx.layout, ctx.release, ctx.reporter, extra=extra)
        try:
            return run_flow(flow, ctx, trap)
        finally:
            if trap.held:
                ctx.warn(trap.held_note())
            for target in ctx.reopened:
                target.close()


def deploy(
    source: str | Path,
    spec: TargetSpec,
    *,
    reporter: Reporter | None = None,
    dry_run: bool = False,
    lock_wait: float = 0.0,
    force: bool = False,
    once_hooks: bool = True,
) -> Result:
    """Ship an artifact (or a project root, packed first) to a target. Raises ReleaseFailed on failure."""
    reporter = reporter or NullReporter()
    artifact_path = resolve_artifact(source, spec)
    manifest = artifact.verify_archive(artifact_path)
    target = open_target(spec)
    try:
        ctx = Context(
            "deploy",
            spec,
            target,
            manifest.id,
            reporter,
            manifest=manifest,
            artifact_path=artifact_path,
            lock_wait=lock_wait,
            force=force,
            once_hooks=once_hooks,
        )
        if not dry_run and spec.probe() is None:
            raise ConfigError(
                f'target {spec.name or spec.url} has no health probe: set health = "http://127.0.0.1:PORT/path" '
                "(or tcp://host:port, or a command) in deploysafe.toml, or pass --health"
            )
        extra = None
        if not dry_run:
            extra = {
                "artifact_sha256": artifact.sha256_file(artifact_path),
                "content_sha256": manifest.content_sha256,
                "version": manifest.version,
            }
        started = time.monotonic()
        result = execute(deploy_flow(spec.proxy), ctx, dry_run=dry_run, extra=extra)
        if not dry_run:
            result.seconds = round(time.monotonic() - started, 3)
        return result
    finally:
        target.close()
