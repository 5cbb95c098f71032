"""The image tests' engine: podman and skopeo with this kernel's containers.conf, and a base image made
from this machine's node (no registry is reachable), once per session."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.containers import base_image, engine_env, engine_missing, run, service
from tests.support.projects import run_cli


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
