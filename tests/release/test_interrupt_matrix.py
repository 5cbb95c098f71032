"""The interrupt matrix: a real `deploysafe deploy`, `rollback` or `adopt --restart-service` process cut short
at the start of a step by SIGKILL, SIGINT, SIGTERM, SIGHUP or its stdout closed, or held up by a restart
that outlives ``restart_timeout``. After each: a complete, healthy ``current``, the lock free (or, after
SIGKILL, left by a dead holder and so recoverable), ``status`` telling the truth, and a next run that
succeeds.

Deploys are also cut short over SSH, where a sixth way is the connection dropped (a relay cuts it at the
start of the step): after the switch the engine connects again, if the lock is still its own, to put the
previous release back.

The steps walked come from the flows, so a new step (or a hook) is covered without touching this file.
CI runs a slice: on a local target every step of every flow once, the interrupt rotating through the ways
so each is used at several steps on each side of the switch, plus a restart timeout per flow; over SSH,
under pm2 and behind nginx (blue/green) the cells of SSH_SLICE, PM2_SLICE and PROXY_SLICE. The whole
matrix (every way at every step, on each) runs with ``DEPLOYSAFE_FULL_MATRIX=1``. Cells run on LANES independent
targets at once (each its own directory, port, lock and history), sharing the artifacts.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from deploysafe import artifact, release
from deploysafe.release import history
from deploysafe.release.flows import ADOPT, DEPLOY, PROXY_DEPLOY, ROLLBACK, Flow
from deploysafe.release.lock import holder_state, read_holder
from tests.release.test_interrupts import write_toml
from tests.release.test_safety_rails import _release_is_complete, _wait_for_step
from tests.support.netcut import CuttingProxy
from tests.support.nginx import Nginx, nginx_missing, start_nginx
from tests.support.processes import kill_under
from tests.support.sshd import free_port

from .conftest import APP, current_of, history_of, serving

FULL = os.environ.get("DEPLOYSAFE_FULL_MATRIX") == "1"
# the full matrix walks five to six times the cells: past the suite's 300 s limit per test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600 if FULL else 300)]
LANES = 3
WAYS = ("SIGINT", "SIGTERM", "stdout", "SIGHUP", "SIGKILL")
EXIT = {"SIGKILL": -9, "SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129, "stdout": 141, "drop": 1}
TIMEOUT = "restart-timeout"
DROP = "drop"  # the SSH connection dropped
LEFT_LOCKED = ("SIGKILL", DROP)  # ways that may leave the lock behind, to a dead holder
_NAMES = DEPLOY.names()
AFTER_SWITCH = _NAMES[_NAMES.index("switch") + 1 : _NAMES.index(DEPLOY.verdict)]  # restart, health
# CI's slices where the transport or the process manager differ (the local matrix walks every step):
# over ssh, the connection dropped on both sides of the switch and a signal or closed output at the
# steps that wait on the host; under pm2, the steps where pm2 is at work.
SSH_SLICE = [
    ("upload", DROP),
    ("install", "SIGTERM"),
    ("switch", "stdout"),
    *[(step, DROP) for step in AFTER_SWITCH],
    ("health", "SIGINT"),
]
PM2_SLICE = [("restart", "SIGTERM"), ("health", "stdout"), ("health", "SIGKILL")]
# behind nginx (blue/green): the new colour started and gated, the switch, the old colour draining
PROXY_SLICE = [("start", "SIGTERM"), ("switch", "stdout"), ("drain", "SIGKILL")]

# The fixture's restart script, which hangs (after stopping the service) when the release it restarts is
# the one HANG_RELEASE names: a restart that outlives restart_timeout, for one chosen release. With
# PIDFILE_DELAY it waits that long between starting the service and writing its pidfile: the window where
# a restart killed halfway leaves a service that the next restart cannot stop.
RESTART = (APP / "bin" / "restart.sh").read_text()
HANG_AWARE = RESTART.replace(
    'cd "$root/current"\n',
    'cd "$root/current"\nif [ "${HANG_RELEASE:-}" = "$(basename "$(pwd -P)")" ]; then exec sleep 300; fi\n',
).replace('echo $! >"$pidfile"', 'if [ -n "${PIDFILE_DELAY:-}" ]; then sleep "$PIDFILE_DELAY"; fi\necho $! >"$pidfile"')
assert HANG_AWARE.count("HANG_RELEASE") == 1 and HANG_AWARE.count("PIDFILE_DELAY") == 2
RESTART_TIMEOUT = "restart_timeout = 6.0\n"


def cells(steps: tuple[str, ...], ways: tuple[str, ...] = WAYS) -> list[tuple[str, str]]:
    """(step, way) pairs: every way at every step (full), or each step once with the ways rotating."""
    if FULL:
        return [(step, way) for step in steps for way in ways]
    return [(step, ways[n % len(ways)]) for n, step in enumerate(steps)]


@dataclass
class Site:
    """One target: a directory holding deploysafe.toml ([targets.app]), the deploy root, the service port."""

    cwd: Path
    root: Path
    port: int
    proxy: CuttingProxy | None = None  # an ssh target reached through it

    @classmethod
    def make(cls, where: Path, port: int | None = None, extra: str = "", proxy: CuttingProxy | None = None) -> Site:
        port = port or free_port()
        root = where / "app"
        where.mkdir(parents=True, exist_ok=True)
        return cls(write_toml(where, root, port, RESTART_TIMEOUT + extra), root, port, proxy)

    @property
    def url(self) -> str:
        return f"ssh via :{self.proxy.port}" if self.proxy else "a directory"

    def start(self, *args: str) -> subprocess.Popen[str]:
        argv = [sys.executable, "-m", "deploysafe", *args, "--to", "app", "--format", "json"]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.cwd)

    def run(self, *args: str) -> None:
        proc = self.start(*args)
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{' '.join(args)} in {self.cwd}: {err}"

    def hang(self, release_id: str | None) -> None:
        """Make the restart of ``release_id`` hang (None: no restart hangs)."""
        self.set_env("HANG_RELEASE", release_id)

    def set_env(self, name: str, value: str | None) -> None:
        """Set (or, with None, drop) ``name`` in the target's env."""
        toml = self.cwd / "deploysafe.toml"
        text = re.sub(rf', {name} = "[^"]*"', "", toml.read_text())
        if value:
            text = text.replace(f'PORT = "{self.port}"', f'PORT = "{self.port}", {name} = "{value}"')
        toml.write_text(text)

    def version(self) -> str | None:
        answer = serving(self.port)
        return answer["version"] if answer else None


def cut_short(
    site: Site, proc: subprocess.Popen[str], step: str, way: str, ready: Callable[[], bool] | None = None
) -> tuple[int, str]:
    """Interrupt ``proc`` at the start of ``step`` (once ``ready()`` is true, if given); its exit code and stderr."""
    reached = _wait_for_step(proc, step)
    assert proc.stdout is not None and proc.stderr is not None
    deadline = time.monotonic() + 30
    while reached and ready and not ready() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if way == "stdout":
        proc.stdout.close()
    elif way == DROP:
        assert site.proxy is not None
        site.proxy.drop()
    elif reached:
        os.kill(proc.pid, signal.Signals[way])
    err = proc.stderr.read()
    proc.wait(120)
    assert reached, f"never reached {step}: {err}"
    return proc.returncode, err


def assert_exit(code: int, err: str, way: str, step: str, flow: Flow) -> None:
    """The signal's code. From the verdict on, the steps left are quick: the run may have ended before
    the signal landed (exit 0, or ended by it with the handlers of a finished run: -signal)."""
    assert "Traceback" not in err, err
    names = flow.names()
    if names.index(step) >= names.index(flow.verdict):
        done = (0, -signal.Signals[way]) if way in signal.Signals.__members__ else (0,)
        assert code in (EXIT[way], *done), f"{way} at {step}: exit {code}: {err}"
        return
    assert code == EXIT[way], f"{way} at {step}: exit {code}: {err}"


def assert_settled(site: Site, way: str, where: str, *, served: bool = True) -> str:
    """Current complete and serving, the lock free or recoverable, status truthful; the live release."""
    root = site.root
    live = current_of(root)
    assert live is not None, where
    manifest = root / "releases" / live / ".deploysafe" / "manifest.json"
    assert (root / "releases" / live).is_dir() and (not manifest.exists() or _release_is_complete(root, live)), where
    deadline = time.monotonic() + 30  # after SIGKILL a restart it cut short finishes on its own
    while served and serving(site.port) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    holder = read_holder_of(root)
    if way in LEFT_LOCKED:
        assert holder is None or holder_state(holder)[0] == "dead", f"{where}: lock {holder}"
    else:
        assert holder is None, f"{where}: lock left by {holder}"
        assert not (root / ".deploysafe" / "run.json").exists(), where
        assert not any(p.name.startswith(".incoming-") for p in (root / "releases").iterdir()), where
    status = release.status(release.target("app", root=site.cwd))
    assert status.current == live, where
    if served:
        assert status.healthy, f"{where}: {status.health}"
    if way not in LEFT_LOCKED:
        assert status.lock is None and status.current_status == history.GOOD, f"{where}: {status}"
    else:
        assert status.current_status in (history.GOOD, history.INTERRUPTED), f"{where}: {status}"
    return live


def read_holder_of(root: Path):
    from deploysafe.hosts import LocalHost
    from deploysafe.release.layout import Layout

    return read_holder(LocalHost(root), Layout(str(root)))


def in_lanes(work: list, lane_of: Callable[[int], Any], walk: Callable[[Any, list], None]) -> None:
    """Deal ``work`` over LANES lanes (``lane_of(n)``: the n-th lane's target) and walk them at once."""
    shares = [work[n::LANES] for n in range(LANES)]
    with ThreadPoolExecutor(LANES) as pool:
        futures = [pool.submit(walk, lane_of(n), share) for n, share in enumerate(shares) if share]
        for future in futures:
            future.result()


@pytest.fixture
def builds(make_artifact) -> Callable[[int], Path]:
    """The n-th artifact (version 1.n.0) with the hang-aware restart script, built once and shared."""
    made: dict[int, Path] = {}

    def build(n: int) -> Path:
        if n not in made:
            made[n] = make_artifact(f"1.{n}.0", extra={"bin/restart.sh": HANG_AWARE.encode()})
        return made[n]

    return build


def _release_id(path: Path) -> str:
    return artifact.read_manifest(path).id


def walk_deploys(builds: Callable[[int], Path], site: Site, share: list[tuple[str, str]], flow: Flow = DEPLOY) -> None:
    """Deploy 1.0.0, then for each (step, way) deploy 1.n.0 cut short there, check, and deploy it again."""
    site.run("deploy", str(builds(0)))
    for n, (step, way) in enumerate(share, 1):
        new, where = builds(n), f"deploy to {site.url} cut short at {step} by {way}"
        before = current_of(site.root)
        if way == TIMEOUT:
            site.hang(_release_id(new))
            proc = site.start("deploy", str(new))
            _, err = proc.communicate(timeout=180)
            assert proc.returncode == 1 and "timed out after 6s; rolled back to" in err, err
            site.hang(None)
            assert assert_settled(site, way, where) == before
            assert history_of(site.root)[-1]["status"] == history.ROLLED_BACK
        else:
            # cut short once the restart has started the new service and before it has written its pidfile
            window = step == "restart" and way in ("SIGINT", "SIGTERM", "SIGHUP", "stdout")
            site.set_env("PIDFILE_DELAY", "3" if window else None)
            ready = partial(lambda v: site.version() == v, f"1.{n}.0") if window else None
            code, err = cut_short(site, site.start("deploy", str(new)), step, way, ready)
            site.set_env("PIDFILE_DELAY", None)
            assert_exit(code, err, way, step, flow)
            live = assert_settled(site, way, where)
            if way != "SIGKILL":  # the live release serves, not a service a restart cut short left behind
                versions = {_release_id(builds(k)): f"1.{k}.0" for k in range(n + 1)}
                assert site.version() == versions[live], where
            records = history_of(site.root)
            if way != "SIGKILL" and records and records[-1].get("release") == _release_id(new):
                verdict = records[-1]["status"]
                assert verdict in (history.GOOD, history.INTERRUPTED, history.ROLLED_BACK), where
                assert live == (_release_id(new) if verdict == history.GOOD else before), where
            if way == DROP and step in AFTER_SWITCH:  # connected again to put the previous release back
                assert live == before, where
                steps = {s["step"]: s["status"] for s in records[-1]["steps"]}
                assert steps.get("rollback-reconnect") == steps.get("rollback-health") == "ok", where
        site.run("deploy", str(new))
        assert site.version() == f"1.{n}.0", where


def prebuild(builds: Callable[[int], Path], work: list) -> None:
    """Every artifact a lane will deploy, built before the lanes start: the packer's working copy is shared."""
    for n in range(-(-len(work) // LANES) + 1):
        builds(n)


def test_interrupting_a_deploy_at_every_step(builds, tmp_path):
    work = [*cells(DEPLOY.names()), ("restart", TIMEOUT)]
    if ("restart", "SIGINT") not in work:  # the restart let finish: cut halfway it left a service unstoppable
        work.append(("restart", "SIGINT"))
    prebuild(builds, work)
    in_lanes(work, lambda n: Site.make(tmp_path / f"deploy{n}"), partial(walk_deploys, builds))


def test_interrupting_a_deploy_over_ssh_at_every_step(builds, sshd, tmp_path):
    """The same over SSH, through a relay that can drop the connection: a sixth way to be cut short."""
    work = cells(DEPLOY.names(), (*WAYS, DROP)) if FULL else SSH_SLICE
    prebuild(builds, work)
    proxies: list[CuttingProxy] = []

    def lane(n: int) -> Site:
        proxy = CuttingProxy(sshd.port, cut_after=1 << 62)
        proxies.append(proxy)
        where = tmp_path / f"ssh{n}"
        where.mkdir(parents=True)
        known = sshd.write_known_hosts(where / "known_hosts", proxy.port)
        ssh = (
            f'host = "{sshd.url("", proxy.port)}"\nknown_hosts = "{known}"\nidentity = "{sshd.key}"\n'
            f"boot_port = {free_port()}\n"  # lanes share this machine: no two boot tests on one port
        )
        return Site.make(where, extra=ssh, proxy=proxy)

    try:
        in_lanes(work, lane, partial(walk_deploys, builds))
    finally:
        for proxy in proxies:
            proxy.close()


def test_interrupting_a_rollback_at_every_step(builds, tmp_path):
    work = [*cells(ROLLBACK.names()), ("restart", TIMEOUT)]
    old, new = builds(0), builds(1)

    def walk(site: Site, share: list[tuple[str, str]]) -> None:
        site.run("deploy", str(old))
        site.run("deploy", str(new))
        for step, way in share:
            where = f"rollback cut short at {step} by {way}"
            if way == TIMEOUT:
                site.hang(_release_id(old))
                proc = site.start("rollback")
                _, err = proc.communicate(timeout=180)
                assert proc.returncode == 1 and "timed out after 6s" in err, err
                site.hang(None)
                assert assert_settled(site, way, where) == _release_id(new)  # put back, healthy
            else:
                code, err = cut_short(site, site.start("rollback"), step, way)
                assert_exit(code, err, way, step, ROLLBACK)
                assert_settled(site, way, where)
            site.run("rollback")  # the next rollback succeeds, whichever release it finds current
            if current_of(site.root) != _release_id(new):
                site.run("deploy", str(new))  # already on the host: back to the release rolled back from
            assert site.version() == "1.1.0", where

    in_lanes(work, lambda n: Site.make(tmp_path / f"rollback{n}"), walk)


def test_interrupting_an_adopt_at_every_step(builds, tmp_path):
    """A hand-managed tree (a deployed release's files, as a person would have copied them) is adopted
    with --restart-service; cut short, the adopt run again finishes it, and a deploy then succeeds."""
    template = tmp_path / "template"
    seed = Site.make(tmp_path / "seed")
    seed.run("deploy", str(builds(0)))
    shutil.copytree(seed.root / "current", template, symlinks=True, ignore=shutil.ignore_patterns(".deploysafe"))
    (template / "package.json").write_text((template / "package.json").read_text().replace("1.0.0", "0.9.0"))
    adopted = "release-app-0.9.0-adopted"
    builds(1)
    work = [*cells(ADOPT.names()), ("restart", TIMEOUT)]
    counter = itertools.count()

    def walk(port: int, share: list[tuple[str, str]]) -> None:
        for step, way in share:
            site = Site.make(tmp_path / f"adopt{next(counter)}", port)
            shutil.copytree(template, site.root, symlinks=True)
            where = f"adopt cut short at {step} by {way}"
            if way == TIMEOUT:
                site.hang(adopted)
                proc = site.start("adopt", "--restart-service")
                _, err = proc.communicate(timeout=180)
                # judged only once restarted and healthy: the journal stays, the adopt run again finishes it
                assert proc.returncode == 1 and "timed out after 6s" in err, err
                site.hang(None)
            else:
                code, err = cut_short(site, site.start("adopt", "--restart-service"), step, way)
                assert_exit(code, err, way, step, ADOPT)
                holder = read_holder_of(site.root) if (site.root / ".deploysafe").exists() else None
                assert holder is None or (way in LEFT_LOCKED and holder_state(holder)[0] == "dead"), where
            if (site.root / ".deploysafe" / "adopt.json").exists() or not (site.root / "current").is_symlink():
                site.run("adopt", "--restart-service")  # resumes from its journal, or starts afresh
                assert current_of(site.root) == adopted and site.version() == "0.9.0", where
            else:  # adopted before the interrupt: its record (in history, or run.json after SIGKILL) says so
                status = release.status(release.target("app", root=site.cwd), probe=False)
                assert (status.current, status.current_status) == (adopted, history.GOOD), where
            site.run("deploy", str(builds(1)))
            assert site.version() == "1.1.0", where
            assert_settled(site, "", where)
            kill_under(site.root)  # the next cell's service takes this lane's port

    in_lanes(work, lambda n: free_port(), walk)


def test_interrupting_a_deploy_under_pm2(builds, pm2, tmp_path):
    """Under a real pm2 (one daemon, an app per lane): the steps where pm2 is at work, or every step
    in the full matrix."""
    work = cells(DEPLOY.names()) if FULL else PM2_SLICE
    prebuild(builds, work)
    pm2.run("ping")  # the daemon up before the lanes: three first commands at once would each start one

    def lane(n: int) -> Site:
        extra = f'pm2 = "ecosystem.config.cjs"\npm2_bin = "{pm2.binary}"\npm2_min_uptime = 2.0\n'
        site = Site.make(tmp_path / f"pm2-{n}", extra=extra)
        toml = site.cwd / "deploysafe.toml"
        more = f'PORT = "{site.port}", PM2_HOME = "{pm2.home}", APP_NAME = "lane{n}-{site.port}"'
        text = toml.read_text().replace(f'PORT = "{site.port}"', more)
        # pm2's gate also waits out pm2_min_uptime and watches for restarts: about 8 s on a quiet machine
        toml.write_text(text.replace("health_deadline = 8.0", "health_deadline = 25.0"))
        return site

    in_lanes(work, lane, partial(walk_deploys, builds))


def test_interrupting_a_blue_green_deploy_behind_nginx(builds, tmp_path):
    """Behind a real nginx per lane (blue/green, the start command on each colour's port): the steps of
    PROXY_DEPLOY, or every one of them in the full matrix. ``serving`` asks nginx: one healthy upstream."""
    missing = nginx_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need real system tools; .ci/run installs them")
    work = cells(PROXY_DEPLOY.names()) if FULL else PROXY_SLICE
    prebuild(builds, work)
    servers: list[Nginx] = []

    def lane(n: int) -> Site:
        site = Site.make(tmp_path / f"proxy{n}")
        server = start_nginx(tmp_path / f"nginx{n}", free_port(), site.root / ".deploysafe" / "upstream.conf")
        servers.append(server)
        toml = site.cwd / "deploysafe.toml"
        text = toml.read_text().replace('restart = "sh bin/restart.sh"\n', 'start = "node src/index.js"\n')
        text = text.replace(f"127.0.0.1:{site.port}/health", f"127.0.0.1:{server.port}/health")
        proxy = f'proxy = "nginx"\nproxy_reload = {json.dumps(server.reload)}\n'
        toml.write_text(text + proxy + f"blue_port = {free_port()}\ngreen_port = {free_port()}\ndrain = 1.0\n")
        site.port = server.port
        return site

    try:
        in_lanes(work, lane, partial(walk_deploys, builds, flow=PROXY_DEPLOY))
    finally:
        for server in servers:
            server.stop()
