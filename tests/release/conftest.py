"""Fixtures for the release tests: the real Node app, artifacts of it, local and ssh targets."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from deploysafe.hosts.ssh import MAX_CHANNELS
from deploysafe.release import FleetSpec, TargetSpec, target
from deploysafe.release import fleet as target_fleet
from tests.release.apps import RELEASE_APP, ExampleApp, ReleaseApp
from tests.support.processes import kill_under
from tests.support.sshd import Sshd, free_port

APP = RELEASE_APP


@pytest.fixture(autouse=True)
def _no_leaked_processes(tmp_path: Path) -> Iterator[None]:
    """Every process a test started under its tmp_path (services, boot tests) is stopped after it."""
    yield
    kill_under(tmp_path)


@pytest.fixture
def app_src(tmp_path: Path) -> Path:
    dest = tmp_path / "src-app"
    shutil.copytree(APP, dest, ignore=shutil.ignore_patterns("node_modules"))
    return dest


@pytest.fixture
def make_artifact(tmp_path: Path) -> Callable[..., Path]:
    """``make_artifact(version, faults=..., extra=...)``: the release app packed by deploysafe.pack.

    ``faults`` becomes the release's faults.json; ``extra`` (path -> bytes) adds files to the release.
    """
    return ReleaseApp(tmp_path / "release-app").build


@pytest.fixture
def example(tmp_path: Path) -> ExampleApp:
    """The bundled example (examples/seed-api-fixed) in a working copy; ``example.build(version, port=...)``."""
    return ExampleApp(tmp_path / "example")


@pytest.fixture
def live_port() -> int:
    return free_port()


FLEET_TIMINGS = {"health_interval": 0.2, "health_passes": 2, "health_deadline": 3.0, "boot_deadline": 10.0}


def doomed(spec: TargetSpec) -> TargetSpec:
    """For a release the test built to fail its health gate: it never passes, so waiting 4 s proves no more.
    Under pm2 the deadline must outlast pm2_min_uptime, or the deploy is refused as misconfigured."""
    return spec.with_overrides(health_deadline=max(2.0, spec.pm2_min_uptime + 1.0) if spec.pm2 else 2.0)


def fast(spec: TargetSpec) -> TargetSpec:
    """Tighter health timings so failure tests do not wait 30 s."""
    return spec.with_overrides(health_interval=0.2, health_passes=2, health_deadline=4.0, boot_deadline=10.0)


@pytest.fixture
def host_root(tmp_path: Path) -> Path:
    return tmp_path / "host" / "srv" / "app"


@pytest.fixture
def local_spec(host_root: Path, live_port: int) -> TargetSpec:
    """A directory target restarted by the app's own pidfile script, health-checked over HTTP."""
    spec = target(
        str(host_root),
        config={},
        restart="sh bin/restart.sh",
        health=f"http://127.0.0.1:{live_port}/health",
        health_expect="healthy",
        env={"PORT": str(live_port)},
    )
    return fast(spec)


@pytest.fixture
def plain_spec(host_root: Path, live_port: int) -> TargetSpec:
    """A directory target for the example, restarted by the operator's own script kept in shared/."""
    (host_root / "shared").mkdir(parents=True)
    shutil.copy(APP / "bin" / "restart.sh", host_root / "shared" / "restart.sh")
    spec = target(
        str(host_root),
        config={},
        restart='sh "$DEPLOYSAFE_ROOT/shared/restart.sh"',
        health=f"http://127.0.0.1:{live_port}/health",
        health_expect="healthy",
        env={"PORT": str(live_port)},
    )
    return fast(spec)


@pytest.fixture
def ssh_spec(sshd: Sshd, host_root: Path, live_port: int) -> TargetSpec:
    spec = target(
        sshd.url(str(host_root)),
        config={},
        restart="sh bin/restart.sh",
        health=f"http://127.0.0.1:{live_port}/health",
        health_expect="healthy",
        env={"PORT": str(live_port)},
        known_hosts=str(sshd.known_hosts),
        identity=str(sshd.key),
    )
    return fast(spec)


def serving(port: int) -> dict | None:
    """The live service's /health JSON, or None when nothing answers."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return None


def current_of(root: Path) -> str | None:
    link = root / "current"
    return Path(str(link.readlink())).name if link.is_symlink() else None


def history_of(root: Path) -> list[dict]:
    path = root / ".deploysafe" / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@dataclass
class FleetHost:
    """One fleet host: its own sshd, deploy directory and service port."""

    name: str
    root: Path
    port: int
    server: Sshd

    def serving(self) -> str | None:
        answer = serving(self.port)
        return answer["version"] if answer else None

    def snapshot(self) -> tuple:
        """Everything a deploy would change on the host: current, releases, history, lock."""
        releases = (
            sorted(p.name for p in (self.root / "releases").iterdir()) if (self.root / "releases").exists() else []
        )
        history = self.root / ".deploysafe" / "history.jsonl"
        lock = (self.root / ".deploysafe" / "lock").exists()
        return current_of(self.root), releases, history.read_bytes() if history.exists() else b"", lock


@pytest.fixture
def ssh_fleet(sshd_factory, tmp_path: Path) -> Callable[..., tuple[FleetSpec, list[FleetHost]]]:
    """``ssh_fleet(n, canary=1, batch=2)``: [targets.web1..n] on n real sshd, as [fleets.web]."""

    def make(count: int, **table: object) -> tuple[FleetSpec, list[FleetHost]]:
        config: dict = {"targets": {}, "fleets": {"web": {"targets": [], **table}}}
        hosts = []
        for n in range(1, count + 1):
            server = sshd_factory(max_sessions=MAX_CHANNELS)  # more sessions on one connection would fail
            host = FleetHost(f"web{n}", tmp_path / f"web{n}" / "srv" / "app", free_port(), server)
            config["targets"][host.name] = {
                "host": f"ssh://{server.user}@{server.host}:{server.port}",
                "path": str(host.root),
                "known_hosts": str(server.known_hosts),
                "identity": str(server.key),
                "restart": "sh bin/restart.sh",
                "health": f"http://127.0.0.1:{host.port}/health",
                "health_expect": "healthy",
                "env": {"PORT": str(host.port)},
                "boot_port": free_port(),  # hosts share this machine: no two boot tests on one port
                **FLEET_TIMINGS,
            }
            config["fleets"]["web"]["targets"].append(host.name)
            hosts.append(host)
        return target_fleet("web", config=config), hosts

    return make
