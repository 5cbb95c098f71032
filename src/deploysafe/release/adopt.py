"""``adopt``: turn a hand-managed tree (the seeds' ``/home/ubuntu/app``) into the first release, in place.

    preflight → lock → move → rename → link-shared → switch → record → [restart → health] → unlock

Every top-level entry moves into ``releases/.adopting-<id>`` (a rename each: nothing is copied or lost),
which is then renamed to ``releases/<id>-adopted``; ``current`` points at it. Entries the target shares
(``.env``, ``uploads/``...) move to ``shared/`` and are linked back, so every file stays reachable at its
old path under ``current``. ``.deploysafe/adopt.json`` records the plan: a killed adopt resumes when
run again, and ``deploy`` refuses to start while it is there.
"""

from __future__ import annotations

import json
import posixpath
import re

from deploysafe.errors import TargetError
from deploysafe.hosts.base import Host
from deploysafe.release import history, service
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.layout import LAYOUT_NAMES, Layout
from deploysafe.release.run import Result, Run, StepFailed
from deploysafe.release.spec import TargetSpec, open_target

ADOPTING_PREFIX = ".adopting-"
STEPS = ("preflight", "lock", "move", "rename", "link-shared", "switch", "record", "unlock")


def journal_path(layout: Layout) -> str:
    return posixpath.join(layout.meta, "adopt.json")


def adopted_id(target: Host, layout: Layout) -> str:
    """``<name>-<version>-adopted`` from the tree's package.json, else ``<directory name>-adopted``."""
    name, version = posixpath.basename(layout.root), ""
    data = target.read_file(posixpath.join(layout.root, "package.json"))
    if data:
        try:
            pkg = json.loads(data)
            name = str(pkg.get("name") or name)
            version = str(pkg.get("version") or "")
        except (ValueError, AttributeError):
            pass
    base = re.sub(r"[^A-Za-z0-9._+-]+", "-", f"{name}-{version}" if version else name).strip("-.") or "app"
    return f"{base}-adopted"


def _plan(target: Host, layout: Layout) -> dict:
    """Read or create the adopt journal's content (without writing it)."""
    data = target.read_file(journal_path(layout))
    if data:
        return json.loads(data)
    names = target.listdir(layout.root)
    if not names:
        raise TargetError(f"{target.url} is empty or missing: nothing to adopt (deploy to it directly)")
    taken = [n for n in names if n in LAYOUT_NAMES]
    if ".deploysafe" in taken or ("current" in taken and "releases" in taken):
        raise TargetError(f"{target.url} is already a deploysafe layout: nothing to adopt")
    if taken:
        raise TargetError(
            f"{target.url} has its own {', '.join(taken)}, which deploysafe's layout needs: rename "
            "them first, then adopt"
        )
    return {"release": adopted_id(target, layout), "entries": names}


def adopt(
    spec: TargetSpec,
    *,
    reporter: Reporter | None = None,
    dry_run: bool = False,
    restart: bool = False,
    lock_wait: float = 0.0,
) -> Result:
    reporter = reporter or NullReporter()
    target = open_target(spec)
    try:
        return _adopt(target, spec, reporter, dry_run, restart, lock_wait)
    finally:
        target.close()


def _adopt(
    target: Host, spec: TargetSpec, reporter: Reporter, dry_run: bool, restart: bool, lock_wait: float
) -> Result:
    layout = spec.layout
    if target.kind(layout.root) != "dir":
        raise TargetError(f"{target.url} is not a directory: nothing to adopt")
    plan = _plan(target, layout)
    release = plan["release"]
    if dry_run:
        steps = [
            (
                "move",
                f"{len(plan['entries'])} entries ({', '.join(plan['entries'][:6])}"
                f"{', ...' if len(plan['entries']) > 6 else ''}) into releases/{release}",
            ),
            ("link-shared", ", ".join(f"{e} → shared/{e.rstrip('/')}" for e in spec.shared) or "nothing shared"),
            ("switch", f"current → releases/{release}"),
        ]
        if restart:
            steps.append(("restart", f"`{spec.restart_command()}` then the health window"))
        return Result("adopt", "planned", release, target.url, message="dry run: nothing was changed", plan=steps)

    run = Run("adopt", target, layout, release, reporter)
    with run.step("preflight") as s:
        s.detail = f"{len(plan['entries'])} entries become releases/{release}"
    with run.step("lock"):
        target.mkdir(layout.meta)
        run.lock.acquire(wait=lock_wait, on_message=lambda text: reporter.message(text, "warning"))
        if target.read_file(journal_path(layout)) is None:
            target.write_file(journal_path(layout), json.dumps(plan).encode())
        target.mkdir(layout.releases)
        target.mkdir(layout.shared)
    try:
        staging = posixpath.join(layout.releases, ADOPTING_PREFIX + release)
        final = layout.release(release)
        with run.step("move") as s:
            moved = 0
            if target.kind(final) != "dir":
                target.mkdir(staging)
                for name in plan["entries"]:
                    if target.kind(posixpath.join(layout.root, name)) is not None:
                        target.rename(posixpath.join(layout.root, name), posixpath.join(staging, name))
                        moved += 1
            s.detail = f"moved {moved} entries"
        with run.step("rename") as s:
            if target.kind(final) != "dir":
                target.rename(staging, final)
            s.detail = f"releases/{release}"
        with run.step("link-shared") as s:
            s.detail = _share(target, layout, final, spec.shared, reporter) or "nothing shared"
        with run.step("switch", f"current → releases/{release}"):
            target.replace_symlink(layout.current, layout.current_link_value(release))
        with run.step("record", f"{release} good in .deploysafe/history.jsonl"):
            run.set_status(history.GOOD)
            target.remove(journal_path(layout))
        if restart:
            with run.step("restart") as s:
                done = service.restart(target, spec, release, lambda text: reporter.message(text, "warning"))
                if done is not None and not done.ok:
                    raise StepFailed(f"restart failed (exit {done.returncode}): {done.tail(3)}")
                s.detail = f"`{spec.restart_command()}`" if done is not None else "no restart command configured"
            with run.step("health") as s:
                if spec.probe() is None:
                    s.skip("no health probe")
                else:
                    verdict = service.judge(
                        target,
                        spec,
                        release,
                        passes=spec.health_passes,
                        interval=spec.health_interval,
                        deadline=spec.health_deadline,
                    )
                    if not verdict.ok:
                        raise StepFailed(f"the adopted release is unhealthy after restart: {verdict.reason}")
                    s.detail = f"{spec.health_passes} passes of {spec.probe().describe()}"  # type: ignore[union-attr]
        with run.step("unlock"):
            run.finish()
    except BaseException as err:
        if run.record.get("status") != history.GOOD:
            run.set_status(history.FAILED, str(err))
        run.finish()
        raise
    if not restart:
        reporter.message(
            f"processes started from the old paths still run the moved files; point your process manager at "
            f"{layout.current} and restart it (or adopt --restart-service)",
            "info",
        )
    return run.result(history.GOOD, f"adopted {target.url} as releases/{release}", current=release)


def _share(target: Host, layout: Layout, release_dir: str, shared: tuple[str, ...], reporter: Reporter) -> str:
    done = []
    for entry in shared:
        rel = entry.rstrip("/")
        inside = posixpath.join(release_dir, rel)
        outside = posixpath.join(layout.shared, rel)
        kind_in, kind_out = target.kind(inside), target.kind(outside)
        if kind_in in ("file", "dir") and kind_out is None:
            target.mkdir(posixpath.dirname(outside))
            target.rename(inside, outside)
        elif kind_in is None and kind_out is None:
            if entry.endswith("/"):
                target.mkdir(outside)
            else:
                reporter.message(
                    f"shared file {rel} exists nowhere yet: create shared/{rel} before deploying", "warning"
                )
                continue
        elif kind_in in ("file", "dir"):
            reporter.message(f"{rel} exists both in the tree and in shared/: kept the tree's copy", "warning")
            continue
        target.mkdir(posixpath.dirname(inside))
        target.replace_symlink(inside, posixpath.relpath(outside, posixpath.dirname(inside)))
        done.append(entry)
    return f"shared {', '.join(done)}" if done else ""
