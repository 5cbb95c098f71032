"""Fixtures any test suite may reuse. Keep this file to shared, real helpers (see tests/support/).

The suite may run under pytest-xdist (``-n 2 --dist loadfile``: a test file stays on one worker, so its
module fixtures are built once; ``make test`` runs serially). Every worker is a session of its own, and what
the tests share across workers is made safe for it:

- the facts cache: one empty directory per worker (``pytest_configure`` below);
- ports: leased by file per process (tests/support/ports.py), never bound-and-released;
- sshd, pm2, Chromium, the container engine's base image: started per worker (session fixtures), each in
  the worker's own temporary directory, PM2_HOME included; processes a test starts are found by their
  working directory under its tmp_path;
- installed tools and npm packages in ~/.cache/deploysafe-tests: installed once, under a file lock per
  folder (tests/support/npm_cache.py), by ``make test-tools`` before the run or by the first worker that
  needs them; the others wait and reuse the folder.
- the bundled examples' node_modules are installed by ``make setup`` before pytest starts and only read.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `tests.support` importable

from tests.support.containers import base_image, engine_env, engine_missing, run, service
from tests.support.pm2 import Pm2, pm2_missing, start_pm2
from tests.support.projects import run_cli
from tests.support.sshd import Sshd, sshd_missing, start_sshd

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_FACTS_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Every session parses into its own, empty facts cache (inherited by the deploysafe processes tests start).

    A warm cache shared with the user's runs would serve facts an older parser wrote and hide a parser
    regression from every check test; tests that want a particular cache still set their own.
    ``DEPLOYSAFE_TEST_FACTS_CACHE`` names a directory to use and keep instead (the cold/warm cache test).
    """
    pinned = os.environ.get("DEPLOYSAFE_TEST_FACTS_CACHE")
    directory = pinned or tempfile.mkdtemp(prefix="deploysafe-facts-")
    if not pinned:
        config.stash[_FACTS_CACHE] = directory
    os.environ["DEPLOYSAFE_CACHE_DIR"] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_FACTS_CACHE, None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """One real sshd on 127.0.0.1 for the whole session (host, port, user, key, known_hosts)."""
    missing = sshd_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need real system tools; .ci/run installs them")
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def sshd_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Sshd]]:
    """Start fresh sshd servers (e.g. one per fleet host); all are stopped after the test."""
    missing = sshd_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need real system tools; .ci/run installs them")
    started: list[Sshd] = []

    def factory(**kwargs: object) -> Sshd:
        server = start_sshd(tmp_path_factory.mktemp("sshd"), **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def pm2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pm2]:
    """A real pm2 (npm) with its own PM2_HOME; `pm2 kill` at teardown."""
    missing = pm2_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need real system tools; .ci/run installs them")
    manager = start_pm2(tmp_path_factory.mktemp("pm2home"))
    yield manager
    manager.kill()


# The image and orchestrator tests' engine: podman and skopeo with this kernel's containers.conf, and a base
# image made from this machine's node (no registry is reachable), once per session.


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman ready to run (CONTAINERS_CONF set for every child); yields the base image's reference."""
    missing = engine_missing()
    if missing:
        pytest.fail(f"{missing}: these tests need a real container engine; scripts/system-deps installs it")
    directory = tmp_path_factory.mktemp("engine")
    saved = {name: os.environ.get(name) for name in ("CONTAINERS_CONF", "DEPLOYSAFE_ENGINE")}
    os.environ.update(engine_env(directory))
    ref = base_image(directory, f"localhost/deploysafe-test-base:{secrets.token_hex(4)}")
    yield ref
    run("podman", "image", "rm", "--force", ref)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def built(engine: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example service and its image's tar."""
    work = tmp_path_factory.mktemp("image")
    root = service(work / "api", engine)
    done = run_cli("pack", str(root), "--format", "oci", "-o", str(work / "api.tar"), timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "layer  dependencies" in done.stdout and "written" in done.stdout
    return root, work / "api.tar"
