"""Fixtures for the release tests: the real Node app, artifacts of it, local and ssh targets."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from deploysafe.release import TargetSpec, target
from tests.support.artifacts import build_artifact
from tests.support.processes import kill_under
from tests.support.sshd import Sshd, free_port

APP = Path(__file__).resolve().parent.parent / "fixtures" / "release-app"


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
def make_artifact(app_src: Path, tmp_path: Path) -> Callable[..., Path]:
    """An artifact of the release app at ``version``; ``faults`` becomes the release's faults.json."""

    def make(version: str, faults: dict | None = None, extra: dict[str, bytes] | None = None) -> Path:
        files = dict(extra or {})
        if faults:
            files["faults.json"] = json.dumps(faults).encode()
        return build_artifact(app_src, tmp_path / "artifacts", version=version, extra=files)

    return make


@pytest.fixture
def live_port() -> int:
    return free_port()


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
