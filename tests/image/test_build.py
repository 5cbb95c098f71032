"""pack --format oci and verify --boot on an image, against a real engine: the image skopeo loads into podman
holds exactly the artifact's files, runs as a non-root user under an init that forwards SIGTERM, answers its
health URL on a loopback port, and a service that crashes at start is refused by the boot test."""

from __future__ import annotations

import tarfile
import time
from pathlib import Path

import httpx
import pytest

from deploysafe.artifact import oci, read_manifest
from tests.support.containers import run, service
from tests.support.ports import reserve_port
from tests.support.projects import run_cli

pytestmark = pytest.mark.slow


def unpack_layout(archive: Path, dest: Path) -> oci.Image:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    image = oci.read_layout(dest)
    oci.verify_blobs(image)
    return image


def members(layer: Path) -> set[str]:
    with tarfile.open(layer, "r:gz") as tar:
        return {m.name for m in tar.getmembers() if not m.isdir()}


def test_the_image_holds_exactly_the_artifact_with_its_labels_and_the_same_digests_again(built, tmp_path):
    root, archive = built
    image = unpack_layout(archive, tmp_path / "layout")
    [artifact] = (root / ".deploysafe" / "artifacts").glob("*.tar.gz")
    manifest = read_manifest(artifact)
    _base, dependencies, closure, init = image.layers
    with tarfile.open(artifact) as tar:
        shipped = {f"app/{m.name}" for m in tar.getmembers() if m.isfile()}
    assert members(image.blob(closure.digest)) == shipped  # the closure layer is the artifact, file for file
    assert "app/.env" not in shipped and "app/src/legacy/public-signup.js" not in shipped  # secret, dormant
    assert {"app/node_modules/hono/package.json", "app/node_modules/@hono/node-server/package.json"} <= members(
        image.blob(dependencies.digest)
    )
    assert members(image.blob(init.digest)) == {"deploysafe/init"}
    config = image.config["config"]
    assert image.labels["io.deploysafe.content-sha256"] == manifest.content_sha256
    assert image.labels["org.opencontainers.image.version"] == "1.4.0"
    assert image.labels["io.deploysafe.entry"] == "src/index.js src/workers/email-worker.js"
    assert config["User"] == "1000:1000" and config["Entrypoint"] == ["/deploysafe/init", "--"]
    assert config["Cmd"] == ["node", "src/index.js"] and "PORT=3000" in config["Env"]
    assert config["ExposedPorts"] == {"3000/tcp": {}}
    assert config["Healthcheck"]["Test"][-2:] == ["http://127.0.0.1:3000/health", "healthy"]

    again = run_cli("pack", str(root), "--format", "oci", "-o", str(tmp_path / "again.tar"), timeout=600)
    assert again.returncode == 0, again.stderr
    assert next(line for line in again.stdout.splitlines() if "dependencies" in line).endswith("reused")
    assert (tmp_path / "again.tar").read_bytes() == archive.read_bytes()  # same tree, same digests, same bytes


def test_skopeo_loads_it_into_podman_where_it_serves_as_non_root_and_stops_on_sigterm(built, engine):
    _, archive = built
    named, _ = oci.read_archive(archive)
    assert named.startswith("localhost/seed-api:1.4.0-")  # what podman load names it
    tag = named.rsplit(":", 1)[1]
    ref = f"localhost/deploysafe-test-api:{tag}"
    name = f"deploysafe-test-{tag}"
    port = reserve_port()
    loaded = run("skopeo", "copy", "--quiet", f"oci-archive:{archive}", f"containers-storage:{ref}", timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    try:
        started = run("podman", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:3000", ref)
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 30
        body = ""
        while time.monotonic() < deadline and "healthy" not in body:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).text
            except httpx.HTTPError:
                time.sleep(0.3)
        assert "healthy" in body, run("podman", "logs", name).stdout
        uid = run("podman", "exec", name, "node", "-p", "process.getuid() + ':' + process.getgid()")
        assert uid.stdout.strip() == "1000:1000"
        pid1 = run("podman", "exec", name, "node", "-p", "require('fs').readFileSync('/proc/1/cmdline','utf8')")
        assert pid1.stdout.startswith("/deploysafe/init")  # node is not PID 1: the init forwards signals
        began = time.monotonic()
        stopped = run("podman", "stop", "-t", "20", name, timeout=60)
        assert stopped.returncode == 0 and time.monotonic() - began < 10  # SIGTERM ended node; no KILL after 20 s
        code = run("podman", "inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        assert code == "143"  # node died of the SIGTERM tini passed on
    finally:
        run("podman", "rm", "-f", name)
        run("podman", "image", "rm", "--force", ref)


def test_verify_boot_passes_a_healthy_image_and_refuses_one_that_crashes_at_start(built, engine, tmp_path):
    _, archive = built
    good = run_cli("verify", str(archive), "--boot", timeout=300)
    assert good.returncode == 0, good.stderr
    assert "boot: BOOTS" in good.stderr and "/health (body contains 'healthy') passed" in good.stderr

    sick = service(tmp_path / "sick", engine, crash="DATABASE_URL is not set")
    done = run_cli("pack", str(sick), "--format", "oci", "-o", str(tmp_path / "sick-image"), "--boot", timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "boot: DOES NOT BOOT" in done.stderr and "Error: DATABASE_URL is not set" in done.stderr
    assert (tmp_path / "sick-image" / "oci-layout").is_file()  # -o without .tar: the layout folder


def test_an_image_that_would_run_as_root_is_refused_before_anything_is_packed(tmp_path):
    (tmp_path / "deploysafe.toml").write_text('[image]\nuser = "0:0"\n')
    done = run_cli("pack", str(tmp_path), "--format", "oci")
    assert done.returncode == 2
    assert "deploysafe.toml: [image] user: '0:0' is root" in done.stderr and "Traceback" not in done.stderr
