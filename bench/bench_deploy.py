"""Benchmark: deploy of the release example to a local target, and the automatic rollback.

    python bench/bench_deploy.py [--runs 5]

Measures, with the default health gate (1 s interval, 3 passes, 30 s deadline):
- deploy with an unchanged lockfile (node_modules reused), health gate included: median of --runs;
- automatic rollback: from the failing health verdict to the previous release healthy again.
Targets from issue 4: deploy median <= 5 s, rollback <= 2 s. Prints the figures; asserts nothing.
Artifacts are built with tests/support/artifacts.py until `deploysafe pack` lands.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deploysafe import release  # noqa: E402
from tests.support.artifacts import build_artifact  # noqa: E402
from tests.support.processes import kill_under  # noqa: E402

APP = REPO / "tests" / "fixtures" / "release-app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deploysafe-bench-"))
    port = free_port()
    spec = release.target(
        str(work / "host"),
        config={},
        restart="sh bin/restart.sh",
        health=f"http://127.0.0.1:{port}/health",
        health_expect="healthy",
        env={"PORT": str(port)},
        keep=5,
    )
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"deploysafe release benchmark: node {node}, target {spec.path}, {args.runs} runs")
        warm = time.monotonic()
        release.deploy(build_artifact(APP, work / "art", version="1.0.0"), spec)
        print(f"first deploy (npm ci, cold): {time.monotonic() - warm:.2f} s")

        deploys = []
        for n in range(args.runs):
            artifact = build_artifact(APP, work / "art", version=f"1.{n + 1}.0")
            start = time.monotonic()
            result = release.deploy(artifact, spec)
            deploys.append(time.monotonic() - start)
            steps = {s.step: s.seconds for s in result.steps}
            print(
                f"  deploy {n + 1}: {deploys[-1]:.2f} s  (install {steps['install']:.2f}, boot-test "
                f"{steps['boot-test']:.2f}, restart {steps['restart']:.2f}, health {steps['health']:.2f})"
            )

        rollbacks = []
        failing = spec.with_overrides(health_deadline=3.0)
        for n in range(3):
            faults = json.dumps({"unhealthy_on_port": port}).encode()
            artifact = build_artifact(APP, work / "art", version=f"9.{n}.0", extra={"faults.json": faults})
            try:
                release.deploy(artifact, failing)
            except release.ReleaseFailed as failure:
                rb = sum(s.seconds for s in failure.result.steps if s.step.startswith("rollback-"))
                rollbacks.append(rb)
                print(f"  rollback {n + 1}: {rb:.2f} s after the failing verdict ({failure.result.status})")
            release.deploy(build_artifact(APP, work / "art", version=f"1.9.{n}"), spec)  # reset the breaker

        print()
        print(
            f"deploy, unchanged lockfile, health gate included: median {statistics.median(deploys):.2f} s "
            f"(min {min(deploys):.2f}, max {max(deploys):.2f}; target <= 5 s)"
        )
        print(
            f"automatic rollback after the failing verdict: median {statistics.median(rollbacks):.2f} s "
            f"(max {max(rollbacks):.2f}; target <= 2 s)"
        )
    finally:
        kill_under(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
