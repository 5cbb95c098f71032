"""The live service on a target: restart it, judge its health, and gather what a failure report shows."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from deploysafe import safejson
from deploysafe.artifact import MANIFEST_PATH
from deploysafe.hosts.base import Completed, Host, run_configured
from deploysafe.release import health, pm2
from deploysafe.release.pm2live import Liveness
from deploysafe.release.spec import TargetSpec


def command_env(spec: TargetSpec, release_id: str) -> dict[str, str]:
    """The environment every configured command gets: the target's ``env`` plus where things are."""
    layout = spec.layout
    env = dict(spec.env)
    env.update(
        {
            "DEPLOYSAFE_ROOT": layout.root,
            "DEPLOYSAFE_CURRENT": layout.current,
            "DEPLOYSAFE_RELEASE": layout.release(release_id),
            "DEPLOYSAFE_RELEASE_ID": release_id,
        }
    )
    return env


def uses_pm2(spec: TargetSpec) -> bool:
    command = spec.restart_command() or ""
    return bool(spec.pm2) or (bool(command) and shlex.split(command)[:1] == ["pm2"])


def restart(
    target: Host,
    spec: TargetSpec,
    release_id: str,
    note: Callable[[str], None] | None = None,
    *,
    retire: str | None = None,
    before: pm2.Snapshot | None = None,
    retire_apps: frozenset[str] | None = None,
) -> Completed | None:
    """Run the restart command in ``current``; None when the target configures none.

    With ``pm2``, apps pm2 still runs from outside ``current`` (the hand-managed tree before an adopt)
    are deleted first, so that ``startOrReload`` starts them from ``current`` instead of reloading files
    that have moved; ``note`` hears which (a one-time move). ``retire`` (a release id, on a rollback) names
    the release being left: the apps its process file started that the one now current does not name
    (an app renamed by the bad release, crash-looping) are deleted before the restart; ``retire_apps``
    are that file's apps as recorded at the release's deploy (else the file is evaluated on the host, one
    node start). ``before`` is :func:`pm2_before` when the caller has read it already (each read starts
    node on the host).
    """
    command = spec.restart_command()
    if not command:
        return None
    env = command_env(spec, release_id)
    if spec.pm2:
        seen = before or pm2_before(target, spec, release_id) or pm2.Snapshot([])
        moved = _rehome_pm2(target, spec, env, seen)
        if moved and note:
            note(f"pm2 ran {', '.join(moved)} from outside {spec.layout.current}: started again from there")
        if retire:
            retired = _retire_pm2(target, spec, env, retire, seen, retire_apps)
            if retired and note:
                note(f"pm2 apps of {retire} that {release_id} does not name were deleted: {', '.join(retired)}")
    return run_configured(target, command, cwd=spec.layout.current, env=env, timeout=spec.restart_timeout)


def pm2_before(target: Host, spec: TargetSpec, release_id: str) -> pm2.Snapshot | None:
    """pm2's list as a restart finds it: this target's processes and, with ``pm2`` configured, the apps of
    the process file in ``current`` (one node and one pm2 on the host). None without pm2, or unreadable."""
    if not uses_pm2(spec):
        return None
    binary = spec.pm2_bin if spec.pm2 else "pm2"
    argv = pm2.snapshot_command(binary, "", spec.pm2 or "")
    done = target.run(argv, cwd=spec.layout.current, env=command_env(spec, release_id), timeout=60)
    snap = pm2.parse_snapshot(done.stdout) if done.ok else None
    if snap is None:
        return None
    return replace(snap, processes=[p for p in snap.processes if p.under(spec.layout.root)])


def pm2_known(spec: TargetSpec, processes: list[pm2.Pm2Process], apps: frozenset[str], node: str = "") -> pm2.Snapshot:
    """:func:`pm2_before` from a read made earlier in the run (``processes``: every process of the host's
    pm2; ``apps``: the release's process file's apps), with no node start."""
    return pm2.Snapshot([p for p in processes if p.under(spec.layout.root)], names=apps, node=node)


def _app_names(target: Host, spec: TargetSpec, where: str, env: dict[str, str]) -> set[str] | None:
    assert spec.pm2 is not None
    found = target.run(pm2.app_names_command(spec.pm2), cwd=where, env=env, timeout=60)
    return pm2.parse_app_names(found.stdout) if found.ok else None


def _retire_pm2(
    target: Host,
    spec: TargetSpec,
    env: dict[str, str],
    leaving: str,
    seen: pm2.Snapshot,
    known: frozenset[str] | None,
) -> list[str]:
    ours = None if seen.names is None else set(seen.names)
    theirs: set[str] | None = None
    if ours is not None:
        theirs = set(known) if known is not None else _app_names(target, spec, spec.layout.release(leaving), env)
    if not theirs or ours is None:
        return []
    running = {p.name for p in seen.processes}
    doomed = sorted((theirs - ours) & running)
    if doomed:
        target.run(pm2.delete_command(spec.pm2_bin, doomed), env=env, timeout=60).check(
            f"pm2 delete {' '.join(doomed)}"
        )
    return doomed


def _rehome_pm2(target: Host, spec: TargetSpec, env: dict[str, str], seen: pm2.Snapshot) -> list[str]:
    processes = seen.processes
    if not processes or all(p.exec_path.startswith(spec.layout.current + "/") for p in processes):
        return []
    names = set(seen.names or ())
    moved = sorted({p.name for p in pm2.started_elsewhere(processes, names, spec.layout.current)})
    if moved:
        target.run(pm2.delete_command(spec.pm2_bin, moved), env=env, timeout=60).check(f"pm2 delete {' '.join(moved)}")
    return moved


def pm2_processes(target: Host, spec: TargetSpec) -> list[pm2.Pm2Process]:
    """This target's pm2 processes (names, states, paths: the jlist with its secrets never leaves the host)."""
    if not uses_pm2(spec):
        return []
    binary = spec.pm2_bin if spec.pm2 else "pm2"
    done = target.run(pm2.snapshot_command(binary), env=spec.env, timeout=60)  # environments stay on the host
    snap = pm2.parse_snapshot(done.stdout) if done.ok else None
    return [p for p in snap.processes if p.under(spec.layout.root)] if snap else []


def log_sources(
    target: Host, spec: TargetSpec, extra: Sequence[str] = (), processes: list[pm2.Pm2Process] | None = None
) -> list[str]:
    """The configured logs, ``extra`` (a failed release's pm2 logs, gone from pm2 after a rollback) and
    the logs of the pm2 processes running now (``processes`` when the caller has read them)."""
    paths = [p if p.startswith("/") else posixpath.join(spec.layout.root, p) for p in spec.logs]
    paths += list(extra)
    for process in pm2_processes(target, spec) if processes is None else processes:
        paths += [p for p in (process.err_log, process.out_log) if p]
    seen: list[str] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def tail(target: Host, path: str, lines: int = 15, since: int = 0) -> str:
    """The last ``lines`` lines of ``path`` written after its first ``since`` bytes."""
    script = 'tail -c +"$1" -- "$2" | tail -n "$3"'
    done = target.run(["sh", "-c", script, "sh", str(since + 1), path, str(lines)], timeout=30)
    return done.stdout.rstrip() if done.ok else ""


def log_sizes(target: Host, spec: TargetSpec, processes: list[pm2.Pm2Process] | None = None) -> dict[str, int]:
    """How long each log file is now (before a restart), so a report can quote only what came after."""
    return log_sizes_of(target, log_sources(target, spec, processes=processes))


def log_sizes_of(target: Host, paths: Sequence[str]) -> dict[str, int]:
    """How long each of ``paths`` is now (missing files are left out)."""
    if not paths:
        return {}
    done = target.run(["stat", "-c", "%s %n", "--", *paths], timeout=30)  # missing files: no line
    sizes: dict[str, int] = {}
    for line in done.stdout.splitlines():
        size, _, path = line.partition(" ")
        if size.isdigit():
            sizes[path] = int(size)
    return sizes


def log_tails(
    target: Host,
    spec: TargetSpec,
    lines: int = 15,
    extra: Sequence[str] = (),
    since: Mapping[str, int] | None = None,
) -> list[tuple[str, str]]:
    """The tails of the target's logs; with ``since`` (:func:`log_sizes` before the restart) only the
    lines written after it (all of a file that was shorter then, as after a rotation)."""
    return log_tails_of(target, log_sources(target, spec, extra), lines, since)


def log_tails_of(
    target: Host, paths: Sequence[str], lines: int = 15, since: Mapping[str, int] | None = None
) -> list[tuple[str, str]]:
    """The tails of ``paths`` (see :func:`log_tails`)."""
    out = []
    marks = since or {}
    for path in paths:
        try:
            text = tail(target, path, lines, since=marks.get(path, 0) if _grew(target, path, marks) else 0)
        except Exception:
            continue
        if text:
            out.append((path, text))
    return out


def _grew(target: Host, path: str, marks: Mapping[str, int]) -> bool:
    """Whether ``path`` is at least as long as when it was marked (else it was rotated: read it all)."""
    if path not in marks:
        return False
    done = target.run(["stat", "-c", "%s", "--", path], timeout=30)
    return done.ok and done.stdout.strip().isdigit() and int(done.stdout.strip()) >= marks[path]


def release_version(target: Host, spec: TargetSpec, release_id: str) -> str | None:
    """The version a release on the host records: its manifest's, else its package.json's."""
    base = spec.layout.release(release_id)
    for rel in (MANIFEST_PATH, "package.json"):
        data = target.read_file(posixpath.join(base, rel))
        try:
            version = safejson.loads(data).get("version") if data else None
        except (ValueError, AttributeError):
            version = None
        if isinstance(version, str) and version:
            return version
    return None


def probe_for(target: Host, spec: TargetSpec, release_id: str, version: str | None = None) -> health.Probe:
    """The configured probe with ``{version}``/``{release}`` filled in for ``release_id``."""
    probe = spec.probe()
    assert probe is not None
    if version is None and "{version}" in (probe.expect or ""):
        version = release_version(target, spec, release_id)
    return probe.for_release(version, release_id)


class Pm2Gate:
    """A window's pm2 check (see :class:`pm2.Watch`). Needs ``pm2`` configured.

    Called as a window's ``watch``: a :class:`health.Vetting`. pm2's list is read after the first probe
    and again only while an app is not up yet or when one of the processes it reported is gone
    (:class:`deploysafe.release.pm2live.Liveness`); between those, /proc answers. ``logs`` keeps the
    judged apps' log files; ``reads`` counts the reads of pm2's list.
    """

    def __init__(self, target: Host, spec: TargetSpec, release_id: str, min_uptime: float) -> None:
        assert spec.pm2 is not None
        self.min_uptime = min_uptime
        self.target = target
        self.spec = spec
        self.release = spec.layout.release(release_id)
        self.env = command_env(spec, release_id)
        self.watch: pm2.Watch | None = None
        self.live = Liveness(target)
        self.reads = 0

    @property
    def logs(self) -> list[str]:
        return self.watch.logs if self.watch else []

    def __call__(self) -> health.Vetting:
        snap = self.live.still() if self.watch else None
        if snap is None:
            snap, error = self._read()
            if snap is None:
                self.live.forget()
                return health.Vetting(pending=error)
        if self.watch is None:
            if snap.names is None:
                return health.Vetting(
                    pending=f"cannot read the apps of {self.spec.pm2}: {snap.names_error or 'no apps'}"
                )
            self.watch = pm2.Watch(
                snap.names, self.release, self.spec.layout.current, self.spec.pm2 or "", self.min_uptime
            )
        vetting = self.watch.judge(snap)
        self.live.remember(snap, self.watch.names, up=not (vetting.fatal or vetting.pending))
        return vetting

    def _read(self) -> tuple[pm2.Snapshot | None, str]:
        """pm2's list as the host sees it, or why it cannot be read (pm2's own error lines, never the jlist)."""
        spec, layout = self.spec, self.spec.layout
        ecosystem = "" if self.watch else spec.pm2 or ""
        argv = pm2.snapshot_command(spec.pm2_bin, self.release, ecosystem)
        self.reads += 1
        done = self.target.run(argv, cwd=layout.current, env=self.env, timeout=60)
        snap = pm2.parse_snapshot(done.stdout) if done.ok else None
        if snap is None:
            return None, f"cannot read pm2's process list ({done.tail(1) or f'exit {done.returncode}'})"
        return snap, ""


def judge(
    target: Host,
    spec: TargetSpec,
    release_id: str,
    *,
    passes: int,
    interval: float,
    deadline: float,
    poll: float | None = None,
    on_result: Callable[[health.ProbeResult, int], None] | None = None,
    version: str | None = None,
    pm2_min_uptime: float | None = None,
    boot_seconds: float | None = None,
) -> health.Verdict:
    """The live health window: the configured probe against the running service.

    Its expectation is filled in for ``release_id`` (``version`` or the one the release records); with
    ``pm2`` configured every probe is vetted by the process list too (see :class:`Pm2Gate`), and the apps
    must have stayed up ``pm2_min_uptime`` seconds (default: the target's). With ``boot_seconds`` (how
    long the boot test took to answer) the window fails fast (:class:`deploysafe.release.health.Patience`):
    the restart has finished and, under pm2, the apps are online from this release.
    """
    try:
        probe = probe_for(target, spec, release_id, version)
    except health.MissingVersion as err:
        return health.Verdict(False, [health.ProbeResult(False, str(err))], 0.0, str(err))
    env = command_env(spec, release_id)
    min_uptime = spec.pm2_min_uptime if pm2_min_uptime is None else pm2_min_uptime
    gate = Pm2Gate(target, spec, release_id, min_uptime) if spec.pm2 else None
    up = "pm2 reports every app online from this release" if spec.pm2 else "the restart command has finished"
    patience = health.Patience.after_boot(boot_seconds, up) if boot_seconds is not None else None
    with health.session(target, probe, cwd=spec.layout.current, env=env) as session:
        verdict = health.window(
            session,
            patience=patience if patience is not None and patience.seconds < deadline else None,
            passes=passes,
            interval=interval,
            deadline=deadline,
            poll=poll,
            on_result=on_result,
            watch=gate,
        )
    verdict.logs = gate.logs if gate else []
    return verdict


# The short window of a release that passed its gate before (put back after a failure, or a manual
# rollback): two passes 0.2 s apart, and under pm2 one second up unrestarted — pm2's own min_uptime, its
# idea of a stable start — rather than the target's pm2_min_uptime, which is sized for code that never ran
# here. Every window probes a failing service every POLL seconds.
SHORT_PASSES = 2
SHORT_INTERVAL = 0.2
SHORT_MIN_UPTIME = 1.0
POLL = 0.1


def short_min_uptime(spec: TargetSpec) -> float:
    """``pm2_min_uptime`` for a release that passed its gate before: the target's, at most pm2's own second."""
    return min(SHORT_MIN_UPTIME, spec.pm2_min_uptime)


def judge_recovered(target: Host, spec: TargetSpec, release_id: str) -> health.Verdict:
    """The shorter health window a release gets when it is put back after a failure: it served before,
    so two passes in quick succession within ``rollback_deadline`` (and, under pm2, a second up
    unrestarted: :func:`short_min_uptime`) prove it serves again."""
    return judge(
        target,
        spec,
        release_id,
        passes=min(SHORT_PASSES, spec.health_passes),
        interval=SHORT_INTERVAL,
        poll=POLL,
        deadline=spec.rollback_deadline,
        pm2_min_uptime=short_min_uptime(spec),
    )
