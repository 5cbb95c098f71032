"""``rollback``: put an earlier release back, as named steps:

    preflight → lock → choose → verify → switch → restart → health → mark-good → unlock

The chosen release is re-verified against its manifest, switched to, restarted and health-gated like a
deploy. If it fails its health window, the release that was current is put back and checked once.
"""

from __future__ import annotations

import posixpath

from deploysafe.artifact import MANIFEST_PATH, parse_manifest
from deploysafe.errors import DeploysafeError, TargetError
from deploysafe.hosts.base import Host
from deploysafe.release import health, history, hosttree, service
from deploysafe.release.engine import (
    check_layout,
    current_release,
    existing_releases,
    format_report,
    take_lock,
)
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.run import ReleaseFailed, Result, Run, StepFailed
from deploysafe.release.spec import TargetSpec, open_target

STEPS = ("preflight", "lock", "choose", "verify", "switch", "restart", "health", "mark-good", "unlock")


def choose(target: Host, spec: TargetSpec, records: list[dict], wanted: str | None) -> tuple[str, str | None]:
    """(release to put back, release current now)."""
    layout = spec.layout
    live = current_release(target, layout)
    present = existing_releases(target, layout)
    if wanted:
        if wanted not in present:
            raise TargetError(f"no release {wanted!r} on {target.url} (have: {', '.join(present) or 'none'})")
        if wanted == live:
            raise TargetError(f"{wanted} is already current on {target.url}")
        return wanted, live
    for release in history.good_order(records):
        if release != live and release in present:
            return release, live
    raise TargetError(f"no earlier good release to roll back to on {target.url}")


def rollback(
    spec: TargetSpec,
    *,
    release: str | None = None,
    reporter: Reporter | None = None,
    lock_wait: float = 0.0,
    dry_run: bool = False,
) -> Result:
    reporter = reporter or NullReporter()
    target = open_target(spec)
    try:
        return _rollback(target, spec, release, reporter, lock_wait, dry_run)
    finally:
        target.close()


def _rollback(
    target: Host, spec: TargetSpec, wanted: str | None, reporter: Reporter, lock_wait: float, dry_run: bool
) -> Result:
    layout = spec.layout
    if check_layout(target, layout) != "deploysafe":
        raise TargetError(f"{target.url} has no releases to roll back to")
    if spec.probe() is None:
        from deploysafe.errors import ConfigError

        raise ConfigError("rollback needs a health probe: set health in the target or pass --health")
    if dry_run:
        chosen, live = choose(target, spec, history.read(target, layout), wanted)
        plan = [
            ("choose", f"{chosen} (current is {live or 'none'})"),
            ("verify", f"re-check releases/{chosen} against its manifest"),
            ("switch", f"current → releases/{chosen}"),
            ("restart", f"`{spec.restart_command()}`" if spec.restart_command() else "no restart command"),
            ("health", f"{spec.probe().describe()}: {spec.health_passes} passes"),  # type: ignore[union-attr]
        ]
        return Result(
            "rollback",
            "planned",
            chosen,
            target.url,
            live,
            message="dry run: nothing was changed",
            plan=plan,
            current=live,
        )

    run = Run("rollback", target, layout, wanted or "?", reporter)
    with run.step("preflight", target.url):
        pass
    with run.step("lock"):
        take_lock(run, wait=lock_wait)
    try:
        with run.step("choose") as s:
            chosen, live = choose(target, spec, history.read(target, layout), wanted)
            run.record.update({"release": chosen, "previous": live})
            s.detail = f"{chosen} (current is {live or 'none'})"
        with run.step("verify") as s:
            data = target.read_file(posixpath.join(layout.release(chosen), MANIFEST_PATH))
            if data is None:
                s.skip("no manifest (an adopted release): not verified")
            else:
                import hashlib
                from dataclasses import replace

                manifest = replace(parse_manifest(data), manifest_sha256=hashlib.sha256(data).hexdigest())
                count = hosttree.verify(target, layout.release(chosen), manifest, strict=False)
                s.detail = f"{count} files match their sha256"
    except BaseException as err:
        run.set_status(history.FAILED, str(err))
        run.finish()
        raise
    try:
        with run.step("switch", f"current → releases/{chosen}"):
            target.replace_symlink(layout.current, layout.current_link_value(chosen))
        try:
            with run.step("restart") as s:
                done = service.restart(
                    target, spec, chosen, lambda text: run.reporter.message(text, "warning"), retire=live
                )
                if done is None:
                    s.skip("no restart command configured")
                elif not done.ok:
                    raise StepFailed(f"restart failed (exit {done.returncode})", done.tail(15))
            with run.step("health") as s:
                verdict = service.judge(
                    target,
                    spec,
                    chosen,
                    passes=spec.health_passes,
                    interval=spec.health_interval,
                    deadline=spec.health_deadline,
                    poll=min(spec.health_interval, 0.2),
                )
                if not verdict.ok:
                    raise StepFailed(f"{chosen} failed health: {verdict.reason}", _details(verdict))
                s.detail = f"{spec.health_passes} passes in {verdict.seconds:.1f}s"
        except StepFailed as failure:
            raise _put_back(run, target, spec, chosen, live, failure) from failure
        with run.step("mark-good"):
            run.set_status(history.GOOD)
        with run.step("unlock"):
            run.finish()
    except ReleaseFailed:
        raise
    except BaseException as err:
        run.set_status(history.FAILED, str(err))
        run.finish()
        raise
    return run.result(history.GOOD, f"rolled back to {chosen} on {target.url}", previous=live, current=chosen)


def _details(verdict: health.Verdict) -> str:
    return "\n".join(r.detail for r in verdict.last())


def _put_back(
    run: Run, target: Host, spec: TargetSpec, chosen: str, live: str | None, failure: StepFailed
) -> ReleaseFailed:
    layout = spec.layout
    title = f"rollback of {target.url} to {chosen} failed: {failure}"
    sections = [("details", failure.report)]
    now: str | None = chosen
    if live is None:
        message = f"{failure}; nothing to put back"
    else:
        try:
            with run.step("rollback-switch", f"current → releases/{live}"):
                target.replace_symlink(layout.current, layout.current_link_value(live))
                now = live
            with run.step("rollback-restart"):
                service.restart(target, spec, live, retire=chosen)
            with run.step("rollback-health"):
                verdict = service.judge_recovered(target, spec, live)
                if not verdict.ok:
                    raise StepFailed(f"{live} is unhealthy too: {verdict.reason}")
            message = f"{failure}; {live} is current and healthy again"
        except DeploysafeError as err:
            message = f"{failure}; PUTTING BACK {live} FAILED TOO: {err}. Stopped: the service needs a human"
    run.set_status(history.FAILED, message)
    run.finish()
    result = run.result(history.FAILED, message, format_report(title, sections), live, current=now)
    return ReleaseFailed(message, result)
