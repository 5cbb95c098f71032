"""The OCI image of exactly the closure next to an image built the usual way, and the time to a healthy container.

The service is the bundled example (examples/seed-api-fixed, listening on every interface of its container).
The base is what a registry would give, made from this machine's node with ``podman import`` (no registry is
reachable here; tests/support/containers.py). Needs podman, skopeo, runc and tini (scripts/system-deps).

    python bench/bench_image.py

Rows:
  usual image          podman build of ``FROM base; WORKDIR /app; COPY . .; RUN npm ci --omit=dev`` with a
                       .dockerignore of node_modules and .git (the common Dockerfile), same base, same tree
  pack --format oci    deploysafe's image: base, production dependencies installed inside the base, closure, init
Timings: pack --format oci with the dependency layer installed (cold) and reused (warm), then verify --boot
(load into podman, run on a loopback port, health passes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from tests.support.containers import base_image, engine_env  # noqa: E402

CONFIG = """\
[image]
base = "containers-storage:{base}"

[targets.web]
path = "/srv/seed-api"
health = "http://127.0.0.1:3000/health"
health_expect = "healthy"
"""
USUAL = (
    'FROM {base}\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev --no-audit --no-fund\nCMD ["node", "src/index.js"]\n'
)


def cli(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "deploysafe", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"deploysafe {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - began, done


def podman(*args: str) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"podman {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-image-"))
    os.environ.update(engine_env(work))
    os.environ["DEPLOYSAFE_CACHE_DIR"] = str(work / "cache")
    base = base_image(work, "localhost/bench-image-base:1")
    root = work / "seed-api"
    shutil.copytree(REPO / "examples" / "seed-api-fixed", root, ignore=shutil.ignore_patterns("node_modules"))
    index = root / "src" / "index.js"
    index.write_text(index.read_text().replace("hostname: '127.0.0.1'", "hostname: '0.0.0.0'"))
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root, check=True)
    (root / "deploysafe.toml").write_text(CONFIG.format(base=base))
    loaded = "localhost/bench-image-usual:1"
    try:
        cold, _ = cli("pack", str(root), "--format", "oci", "-o", str(work / "cold.tar"))
        warm, _ = cli("pack", str(root), "--format", "oci", "-o", str(work / "api.tar"))
        boot, booted = cli("verify", str(work / "api.tar"), "--boot")
        loaded = booted.stderr.split("(image ")[-1].split(")")[0]
        ours = json.loads(podman("image", "inspect", loaded))[0]
        (root / "Dockerfile").write_text(USUAL.format(base=base))
        (root / ".dockerignore").write_text("node_modules\n.git\n")
        began = time.perf_counter()
        mounts = ["-v", f"{Path.home() / '.npm'}:/root/.npm"]  # the same npm cache deploysafe's install uses
        if os.environ.get("NODE_EXTRA_CA_CERTS"):  # a TLS-intercepting proxy's CA, as deploysafe passes it on
            mounts += ["-v", f"{os.environ['NODE_EXTRA_CA_CERTS']}:/ca.crt:ro", "--env", "NODE_EXTRA_CA_CERTS=/ca.crt"]
        podman("build", "--network", "host", *mounts, "-q", "-t", "localhost/bench-image-usual:1", str(root))
        usual_seconds = time.perf_counter() - began
        usual = json.loads(podman("image", "inspect", "localhost/bench-image-usual:1"))[0]
        extra = podman(
            "run",
            "--rm",
            "localhost/bench-image-usual:1",
            "node",
            "-p",
            "require('fs').readdirSync('.',{recursive:true}).filter(f=>!f.startsWith('node_modules')).sort().join(' ')",
        )
        base_size = json.loads(podman("image", "inspect", base))[0]["Size"]
        print(f"base image (host node + npm)        {base_size / 1e6:8.1f} MB")
        print(
            f"usual image (COPY . . + npm ci)     {usual['Size'] / 1e6:8.1f} MB  (+{(usual['Size'] - base_size) / 1e3:.0f} kB over the base) · build {usual_seconds:.1f} s"
        )
        print(
            f"pack --format oci                   {ours['Size'] / 1e6:8.1f} MB  (+{(ours['Size'] - base_size) / 1e3:.0f} kB over the base)"
        )
        print(f"usual image's /app besides node_modules: {extra.strip()}")
        print(f"pack --format oci: {cold:.1f} s with the dependency install, {warm:.1f} s with the layer reused")
        print(
            f"verify --boot (load, run, health passes): {boot:.1f} s; pack (warm) to a healthy container: {warm + boot:.1f} s"
        )
    finally:
        subprocess.run(
            ["podman", "image", "rm", "--force", "localhost/bench-image-usual:1", loaded, base], capture_output=True
        )
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
