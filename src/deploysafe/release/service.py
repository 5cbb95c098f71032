"""The live service on a target: restart it, judge its health, and gather what a failure report shows."""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable

from deploysafe.release import health, pm2
from deploysafe.release.spec import TargetSpec
from deploysafe.release.target import Completed, Target, run_configured


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
    target: Target, spec: TargetSpec, release_id: str, note: Callable[[str], None] | None = None
) -> Completed | None:
    """Run the restart command in ``current``; None when the target configures none.

    With ``pm2``, apps pm2 still runs from outside ``current`` (the hand-managed tree before an adopt)
    are deleted first, so that ``startOrReload`` starts them from ``current`` instead of reloading files
    that have moved; ``note`` hears which (a one-time move).
    """
    command = spec.restart_command()
    if not command:
        return None
    env = command_env(spec, release_id)
    if spec.pm2:
        moved = _rehome_pm2(target, spec, env)
        if moved and note:
            note(f"pm2 ran {', '.join(moved)} from outside {spec.layout.current}: started again from there")
    return run_configured(target, command, cwd=spec.layout.current, env=env, timeout=spec.restart_timeout)


def _rehome_pm2(target: Target, spec: TargetSpec, env: dict[str, str]) -> list[str]:
    processes = pm2_processes(target, spec)
    if not processes or all(p.exec_path.startswith(spec.layout.current + "/") for p in processes):
        return []
    assert spec.pm2 is not None
    found = target.run(pm2.app_names_command(spec.pm2), cwd=spec.layout.current, env=env, timeout=60)
    names = pm2.parse_app_names(found.stdout) if found.ok else set()
    moved = sorted({p.name for p in pm2.started_elsewhere(processes, names, spec.layout.current)})
    if moved:
        target.run(pm2.delete_command(spec.pm2_bin, moved), env=env, timeout=60).check(f"pm2 delete {' '.join(moved)}")
    return moved


def pm2_processes(target: Target, spec: TargetSpec) -> list[pm2.Pm2Process]:
    """This target's pm2 processes (parsed; the raw jlist with its secrets is dropped here)."""
    if not uses_pm2(spec):
        return []
    binary = spec.pm2_bin if spec.pm2 else "pm2"
    done = target.run(pm2.jlist_command(binary), env=spec.env, timeout=60)
    if not done.ok:
        return []
    return [p for p in pm2.parse_jlist(done.stdout) if p.under(spec.layout.root)]


def log_sources(target: Target, spec: TargetSpec) -> list[str]:
    paths = [p if p.startswith("/") else posixpath.join(spec.layout.root, p) for p in spec.logs]
    for process in pm2_processes(target, spec):
        paths += [p for p in (process.err_log, process.out_log) if p]
    seen: list[str] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    return seen


def tail(target: Target, path: str, lines: int = 15) -> str:
    done = target.run(["tail", "-n", str(lines), "--", path], timeout=30)
    return done.stdout.rstrip() if done.ok else ""


def log_tails(target: Target, spec: TargetSpec, lines: int = 15) -> list[tuple[str, str]]:
    out = []
    for path in log_sources(target, spec):
        try:
            text = tail(target, path, lines)
        except Exception:
            continue
        if text:
            out.append((path, text))
    return out


def judge(
    target: Target,
    spec: TargetSpec,
    release_id: str,
    *,
    passes: int,
    interval: float,
    deadline: float,
    poll: float | None = None,
    on_result: Callable[[health.ProbeResult, int], None] | None = None,
) -> health.Verdict:
    """The live health window: the configured probe against the running service."""
    probe = spec.probe()
    assert probe is not None
    env = command_env(spec, release_id)
    with health.session(target, probe, cwd=spec.layout.current, env=env) as session:
        return health.window(
            session, passes=passes, interval=interval, deadline=deadline, poll=poll, on_result=on_result
        )
