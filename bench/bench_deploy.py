"""Benchmark: deploy of the bundled example to a local target, the automatic rollback, and a fleet.

    python bench/bench_deploy.py [--runs 5] [--fleet 4]

Every artifact is built by ``deploysafe.pack.pack`` from a copy of examples/seed-api-fixed; the service
runs under a plain restart script (tests/fixtures/release-app/bin/restart.sh, kept in shared/).
Measures, with the default health gate (1 s interval, 3 passes, 30 s deadline):
- deploy with an unchanged lockfile (node_modules reused), health gate included: median of --runs;
- automatic rollback: from the failing health verdict to the previous release healthy again;
- a fleet of --fleet local targets (canary 1, then one batch of the rest): wall time against the sum of
  the hosts' own deploy times, i.e. how much the batch overlaps.
Targets from issue 4: deploy median <= 5 s, rollback <= 2 s. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deploysafe import release  # noqa: E402
from tests.release.apps import RELEASE_APP, ExampleApp  # noqa: E402
from tests.support.processes import kill_under  # noqa: E402
from tests.support.sshd import free_port  # noqa: E402

RESTART = 'sh "$DEPLOYSAFE_ROOT/shared/restart.sh"'
# A release whose health fails only where it serves live (the boot test's spare port passes).
UNHEALTHY_LIVE = ("c.json({ status: ping()", "c.json({ status: process.env.PORT === '{port}' ? 'broken' : ping()")


def local_target(root: Path, port: int, **overrides: object) -> release.TargetSpec:
    (root / "shared").mkdir(parents=True, exist_ok=True)
    shutil.copy(RELEASE_APP / "bin" / "restart.sh", root / "shared" / "restart.sh")
    return release.target(
        str(root),
        config={},
        restart=RESTART,
        health=f"http://127.0.0.1:{port}/health",
        health_expect="healthy",
        env={"PORT": str(port)},
        **overrides,
    )


def single(work: Path, example: ExampleApp, runs: int) -> None:
    port = free_port()
    spec = local_target(work / "host", port, keep=5)
    started = time.monotonic()
    first = example.build("1.4.0", port=port)
    packed = time.monotonic() - started
    release.deploy(first, spec)
    print(f"pack of the example: {packed:.2f} s; first deploy (npm ci): {time.monotonic() - started - packed:.2f} s")

    deploys = []
    for n in range(runs):
        artifact = example.build(f"1.5.{n}", port=port)
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
    old, new = UNHEALTHY_LIVE
    for n in range(3):
        bad = example.build(
            f"9.{n}.0", port=port, edits={"src/routes/health.js": (old, new.replace("{port}", str(port)))}
        )
        try:
            release.deploy(bad, failing)
        except release.ReleaseFailed as failure:
            rb = sum(s.seconds for s in failure.result.steps if s.step.startswith("rollback-"))
            rollbacks.append(rb)
            print(f"  rollback {n + 1}: {rb:.2f} s after the failing verdict ({failure.result.status})")
        release.deploy(example.build(f"1.9.{n}", port=port), spec)  # reset the breaker

    print(
        f"deploy, unchanged lockfile, health gate included: median {statistics.median(deploys):.2f} s "
        f"(min {min(deploys):.2f}, max {max(deploys):.2f}; target <= 5 s)"
    )
    print(
        f"automatic rollback after the failing verdict: median {statistics.median(rollbacks):.2f} s "
        f"(max {max(rollbacks):.2f}; target <= 2 s)"
    )


def fleet(work: Path, example: ExampleApp, count: int) -> None:
    hosts = []
    for n in range(count):
        port = free_port()
        hosts.append(local_target(work / f"web{n + 1}", port, boot_port=free_port()))
    web = release.FleetSpec(hosts=tuple(hosts), canary=1, batch=max(count - 1, 1))
    release.deploy_fleet(example.build("1.4.0", port=0), web)  # npm ci everywhere; not measured
    result = release.deploy_fleet(example.build("1.5.0", port=0), web)
    canary, *batch = result.hosts
    wall = max(h.finished or 0 for h in batch) - min(h.started or 0 for h in batch)
    own = sum(h.seconds for h in batch)
    print(
        f"fleet of {count} (canary 1, batch {count - 1}): {result.seconds:.2f} s in all; canary "
        f"{canary.seconds:.2f} s; the batch took {wall:.2f} s for {own:.2f} s of host deploys "
        f"({own / wall:.1f} hosts at once)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fleet", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deploysafe-bench-"))
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"deploysafe release benchmark: node {node}, {args.runs} runs, in {work}")
        single(work, ExampleApp(work / "example"), args.runs)
        if args.fleet > 1:
            fleet(work, ExampleApp(work / "example-fleet"), args.fleet)
    finally:
        kill_under(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
