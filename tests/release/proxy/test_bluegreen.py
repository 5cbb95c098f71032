"""Blue/green behind a real nginx: each release on its own colour's port, gated there before the proxy is
reloaded to it, under steady load from a real HTTP client. Not one request fails, healthy or not."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploysafe import release
from deploysafe.release import ReleaseFailed
from tests.support.load import Load
from tests.support.nginx import Nginx, nginx_missing, start_nginx
from tests.support.sshd import free_port

from ..conftest import current_of, history_of

pytestmark = pytest.mark.slow


@pytest.fixture
def nginx(tmp_path: Path, host_root: Path) -> Iterator[Nginx]:
    missing = nginx_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need real system tools; .ci/run installs them")
    server = start_nginx(tmp_path / "nginx", free_port(), host_root / ".deploysafe" / "upstream.conf")
    yield server
    server.stop()


def proxied(nginx: Nginx, **settings: object) -> release.TargetSpec:
    spec = release.target(
        str(nginx.include.parent.parent),
        config={},
        proxy="nginx",
        proxy_reload=nginx.reload,
        blue_port=free_port(),
        green_port=free_port(),
        drain=1.0,
        health=f"http://127.0.0.1:{nginx.port}/health",
        health_expect="healthy",
        health_interval=0.2,
        health_passes=2,
        health_deadline=4.0,
        **settings,
    )
    return spec


def test_behind_nginx_no_request_fails_for_a_healthy_release_a_failing_one_or_a_rollback(
    nginx, make_artifact, host_root
):
    spec = proxied(nginx, start="node src/index.js")
    first = release.deploy(make_artifact("1.0.0"), spec)
    url = f"http://127.0.0.1:{nginx.port}/"

    with Load(url) as healthy:
        time.sleep(0.5)
        second = release.deploy(make_artifact("2.0.0"), spec)
        time.sleep(0.5)
    assert healthy.result.failed == 0, healthy.result.failures
    assert healthy.result.served("release-app 1.0.0") and healthy.result.served("release-app 2.0.0")
    assert current_of(host_root) == second.release
    steps = [s.step for s in second.steps]
    assert steps.index("health") < steps.index("switch") < steps.index("mark-good") < steps.index("drain")

    # Answers 500 on its colour's port: gated there, stopped, never routed to.
    bad = make_artifact("3.0.0", faults={"unhealthy_on_port": spec.blue_port})
    with Load(url) as failing, pytest.raises(ReleaseFailed) as failure:
        release.deploy(bad, spec)
    assert failing.result.failed == 0, failing.result.failures
    assert failing.result.served("release-app 3.0.0") == 0 and failing.result.served("release-app 2.0.0") > 0
    assert failure.value.result.status == "failed" and "switch" not in [s.step for s in failure.value.result.steps]
    assert "database pool exhausted" in failure.value.result.report
    assert current_of(host_root) == second.release

    started = time.monotonic()
    with Load(url) as back:
        release.rollback(spec)
    rollback_seconds = time.monotonic() - started
    assert back.result.failed == 0, back.result.failures
    assert current_of(host_root) == first.release
    assert back.result.served("release-app 1.0.0") > 0
    assert [r["status"] for r in history_of(host_root)] == ["good", "good", "failed", "good"]
    status = release.status(spec)
    assert status.healthy and status.current == first.release
    print(
        f"rollback {rollback_seconds:.2f}s; requests {healthy.result.requests + failing.result.requests + back.result.requests}"
    )
