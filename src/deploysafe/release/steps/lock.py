"""``lock``: create the layout, take the lock (taking over a dead holder), recover what a killed run left,
read the history; a deploy then consults the circuit breaker."""

from __future__ import annotations

import posixpath

from deploysafe.errors import DeployFailed
from deploysafe.release import boot, history, lock
from deploysafe.release.context import Context
from deploysafe.release.layout import INCOMING_PREFIX
from deploysafe.release.run import Run, recover_interrupted
from deploysafe.release.state import current_release, previous_good
from deploysafe.release.steps.base import Step


class Lock(Step):
    name = "lock"

    def plan(self, ctx: Context) -> list[str]:
        read_state(ctx)
        layout = ctx.layout
        holder = lock.read_holder(ctx.target, layout) if ctx.state == "deploysafe" else None
        if holder is None:
            lines = [f"take {layout.lock}"]
        else:
            verdict, reason = lock.holder_state(holder)
            action = "take it over" if verdict == "dead" else "REFUSE (or wait with --lock-wait)"
            lines = [f"locked by {holder.describe()} ({reason}): would {action}"]
        failures = history.consecutive_failures(ctx.records)
        if ctx.kind == "deploy" and len(failures) >= history.BREAKER_LIMIT:
            word = "ignored (--force)" if ctx.force else "OPEN: the deploy would be REFUSED"
            lines.append(f"circuit breaker {word} after {len(failures)} failed deploys")
        return lines

    def run(self, ctx: Context) -> str | None:
        take_lock(ctx.active, wait=ctx.lock_wait)
        read_state(ctx)
        ctx.active.record["previous"] = ctx.previous
        if ctx.kind == "deploy":
            guard_breaker(ctx)
            warn_if_failed_before(ctx)
        return f"held by run {ctx.active.info.run}"


def read_state(ctx: Context) -> None:
    """History, current release and the fallback, into ``ctx`` (nothing to read on a fresh target)."""
    if ctx.state != "deploysafe" and ctx.dry_run:
        return
    ctx.records = history.read(ctx.target, ctx.layout)
    ctx.previous = ctx.live = current_release(ctx.target, ctx.layout)
    if ctx.kind == "deploy":
        ctx.fallback = previous_good(ctx.target, ctx.layout, ctx.records, ctx.release, live=ctx.previous)


def take_lock(run: Run, *, wait: float) -> None:
    """Create the layout, take the lock (taking over a dead holder), recover what a killed run left."""
    target, layout = run.target, run.layout
    for path in (layout.meta, layout.releases, layout.shared):
        target.mkdir(path)
    run.lock.acquire(wait=wait, on_message=lambda text: run.reporter.message(text, "warning"))
    recovered = recover_interrupted(target, layout)
    run.save()
    if recovered:
        run.reporter.message(
            f"recovered the record of interrupted {recovered.get('kind', 'run')} {recovered.get('run')} "
            f"(release {recovered.get('release')}, status {recovered.get('status')})",
            "warning",
        )
    leftover = boot.stop_leftover(target, layout.boot_pid)
    if leftover:
        run.reporter.message(f"stopped boot-test process {leftover} left by an interrupted run", "warning")
    for name in target.listdir(layout.releases):
        if name.startswith(INCOMING_PREFIX):
            target.remove(posixpath.join(layout.releases, name))
            run.reporter.message(f"removed leftover releases/{name}", "warning")
    for directory in (layout.root, layout.meta):
        for name in target.listdir(directory):
            if ".tmp-" in name and name.split(".tmp-")[0] in ("current", "lock", "run.json", "last-good"):
                target.remove(posixpath.join(directory, name))


def guard_breaker(ctx: Context) -> None:
    """Refuse a deploy after BREAKER_LIMIT failed ones in a row (unless --force), releasing the lock."""
    failures = history.consecutive_failures(ctx.records)
    if len(failures) < history.BREAKER_LIMIT:
        return
    latest = failures[-history.BREAKER_LIMIT :]
    ids = ", ".join(str(r.get("release")) for r in latest)
    if len(latest) < len(failures):
        ids = f"the latest {len(latest)}: {ids}"
    if ctx.force:
        ctx.warn(f"--force: ignoring the circuit breaker ({len(failures)} failed deploys)")
        return
    ctx.target.remove(ctx.layout.run_file)
    ctx.active.lock.release()
    raise DeployFailed(
        f"circuit breaker open: the last {len(failures)} deploys to {ctx.target.url} failed ({ids}); "
        "fix the cause, then deploy with --force, or roll back with `deploysafe rollback`"
    )


def warn_if_failed_before(ctx: Context) -> None:
    """Deploying again a release this target already rolled back is allowed, but said."""
    status = history.release_statuses(ctx.records).get(ctx.release)
    if status in ("rolled-back", "failed"):
        ctx.warn(f"{ctx.release} was {status} on {ctx.target.url} before; deploying it again")
