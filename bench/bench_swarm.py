"""Time from ``pack --format oci`` to a healthy service in a real single-node Docker Swarm, and the time the
engine takes to roll a crashing image back.

The service is the bundled example (tests/support/containers.py: listening on every interface of its
container, its base made from this machine's node with ``podman import``). dockerd runs with its data under a
temporary folder, its API on a unix socket, the swarm on 127.0.0.1 (tests/support/dockerd.py). Needs podman,
skopeo, runc, tini and docker.io (scripts/system-deps).

    python bench/bench_swarm.py

Rows: pack (dependency layer reused), deploy that creates the service (skopeo into docker, task healthy),
deploy of a new version (start-first update through the monitor window), deploy of an image that crashes at
start (the engine rolls it back; deploysafe exits 1 with the task's logs). During the last two a client in a
container on the service's overlay network sends 20 requests a second to the service's name and counts
those that fail (tests/support/swarm.py).
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

from tests.support.containers import base_image, engine_env, service  # noqa: E402
from tests.support.swarm import Load, start_swarm, stop_swarm  # noqa: E402

TARGET = '\n[targets.swarm]\nswarm = "api"\nswarm_monitor = 2\nswarm_networks = ["clients"]\n'


def cli(*args: str, cwd: Path, env: dict[str, str], ok: bool = True) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "deploysafe", *args], capture_output=True, text=True, cwd=cwd, env={**os.environ, **env}
    )
    if (done.returncode == 0) != ok:
        raise SystemExit(f"deploysafe {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - began


def _counts(load: dict) -> str:
    return f"{load['ok']} ok, {load['failed']} failed {load['errors'] or ''}".strip()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-swarm-"))
    os.environ.update(engine_env(work))
    os.environ["DEPLOYSAFE_CACHE_DIR"] = str(work / "cache")
    base = base_image(work, "localhost/bench-swarm-base:1")
    daemon = start_swarm()
    try:
        env = daemon.env()
        roots = {}
        for name, crash in (("v1", None), ("v2", None), ("sick", "boom")):
            root = service(work / name, base, crash=crash)
            (root / "deploysafe.toml").write_text((root / "deploysafe.toml").read_text() + TARGET)
            if name == "v2":
                data = json.loads((root / "package.json").read_text())
                (root / "package.json").write_text(json.dumps({**data, "version": "1.4.1"}))
            roots[name] = root
        cli("pack", str(roots["v1"]), "--format", "oci", "-o", str(work / "warmup.tar"), cwd=work, env={})
        pack = cli("pack", str(roots["v1"]), "--format", "oci", "-o", str(work / "v1.tar"), cwd=work, env={})
        for name in ("v2", "sick"):
            cli("pack", str(roots[name]), "--format", "oci", "-o", str(work / f"{name}.tar"), cwd=work, env={})
        create = cli("deploy", str(work / "v1.tar"), "--to", "swarm", cwd=roots["v1"], env=env)
        first = daemon.docker("service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", "api")
        load = Load(daemon, first.stdout.strip(), "api")
        update = cli("deploy", str(work / "v2.tar"), "--to", "swarm", cwd=roots["v1"], env=env)
        during_update = load.stop()
        load = Load(daemon, first.stdout.strip(), "api")
        sick = cli("deploy", str(work / "sick.tar"), "--to", "swarm", cwd=roots["v1"], env=env, ok=False)
        during_sick = load.stop()
        print(f"pack --format oci (dependency layer reused)         {pack:6.1f} s")
        print(f"deploy, service created, task healthy               {create:6.1f} s")
        print(f"pack to a healthy service                           {pack + create:6.1f} s")
        print(f"deploy of a new version (start-first, monitor 2 s)  {update:6.1f} s  requests {_counts(during_update)}")
        print(f"deploy of a crashing image, rolled back, exit 1     {sick:6.1f} s  requests {_counts(during_sick)}")
    finally:
        stop_swarm(daemon)
        subprocess.run(["podman", "image", "rm", "--force", base], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
