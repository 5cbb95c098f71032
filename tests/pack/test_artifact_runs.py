"""The artifact alone runs: unpack it somewhere fresh, install from its lockfile, start node, get 200."""

from __future__ import annotations

import os
import subprocess
import tarfile
import time
from pathlib import Path

import httpx
import pytest

from deploysafe.pack import pack
from tests.pack.conftest import FIXED, copy_example
from tests.support.sshd import free_port

pytestmark = pytest.mark.slow


def unpack(artifact: Path, dest: Path) -> Path:
    """A plain tar extraction, as any host would do it: nothing deploysafe-specific."""
    dest.mkdir()
    with tarfile.open(artifact) as archive:
        archive.extractall(dest, filter="data")
    return dest


def start_and_probe(release: Path) -> httpx.Response:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    log = (release / "node.log").open("wb")
    process = subprocess.Popen(["node", "src/index.js"], cwd=release, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, (release / "node.log").read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_unpacked_artifact_installs_from_its_lockfile_and_serves_health(fixed: Path, out: Path, tmp_path: Path) -> None:
    result = pack(fixed, output=out)
    release = unpack(result.path, tmp_path / "release")

    assert not (release / ".env").exists()
    assert not (release / "src" / "legacy").exists()
    assert (release / "src" / "db" / "schema.sql").is_file()
    install = subprocess.run(
        ["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=release, capture_output=True, text=True, timeout=300
    )
    assert install.returncode == 0, install.stderr

    response = start_and_probe(release)
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


def test_artifact_with_node_modules_serves_health_without_any_install(tmp_path: Path, out: Path) -> None:
    project = copy_example(FIXED, tmp_path / "app", node_modules=True)
    result = pack(project, output=out, with_node_modules=True)
    release = unpack(result.path, tmp_path / "release")

    assert (release / "node_modules" / "hono" / "package.json").is_file()
    response = start_and_probe(release)
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
