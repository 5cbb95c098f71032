"""The same image in Docker: skopeo copies it into a real dockerd (data under a temporary folder, reachable
through its unix socket only), docker keeps the image's HEALTHCHECK, and verify --boot passes it there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploysafe.artifact import oci
from tests.support.containers import run
from tests.support.dockerd import Dockerd, dockerd_missing, start_dockerd
from tests.support.projects import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def dockerd() -> Iterator[Dockerd]:
    missing = dockerd_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need a real Docker daemon; scripts/system-deps installs it")
    daemon = start_dockerd()
    yield daemon
    daemon.stop()


def test_docker_keeps_the_images_healthcheck_and_verify_boot_passes_it_there(built, dockerd):
    _, archive = built
    named, _ = oci.read_archive(archive)
    copied = run(
        "skopeo",
        "copy",
        "--quiet",
        "--dest-daemon-host",
        dockerd.host,
        f"oci-archive:{archive}",
        f"docker-daemon:{named}",
    )
    assert copied.returncode == 0, copied.stderr
    inspected = dockerd.docker(
        "image", "inspect", "--format", "{{json .Config.Healthcheck.Test}} {{.Config.User}}", named
    )
    assert inspected.returncode == 0, inspected.stderr
    assert "http://127.0.0.1:3000/health" in inspected.stdout and inspected.stdout.strip().endswith("1000:1000")
    assert dockerd.docker("image", "rm", named).returncode == 0

    done = run_cli("verify", str(archive), "--boot", env=dockerd.env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "boot: BOOTS: `docker run" in done.stderr and "(body contains 'healthy') passed" in done.stderr
    assert dockerd.docker("ps", "-aq").stdout.strip() == ""  # the boot test's container is gone
    assert dockerd.docker("images", "-q").stdout.strip() == ""  # and the image it loaded
