"""Benchmark: deploy of the bundled example to a local target, the automatic rollback, and a fleet.

    python bench/bench_deploy.py [--runs 5] [--fleet 4]
    python bench/bench_deploy.py --ssh [--rtt 20] [--runs 5]    # over SSH, to a host RTT ms away

Every artifact is built by ``deploysafe.pack.pack`` from a copy of examples/seed-api-fixed; the service
runs under a plain restart script (tests/fixtures/release-app/bin/restart.sh, kept in shared/).
Measures, with the default health gate (1 s interval, 3 passes, 30 s deadline):
- deploy with an unchanged lockfile (node_modules reused), health gate included: median of --runs;
- automatic rollback: from the failing health verdict to the previous release healthy again;
- a fleet of --fleet local targets (canary 1, then one batch of the rest): wall time against the sum of
  the hosts' own deploy times, i.e. how much the batch overlaps.
Targets from issue 4: deploy median <= 5 s, rollback <= 2 s. Prints the figures; asserts nothing.

With --ssh the target is a real sshd on 127.0.0.1 behind a relay that delays every packet by RTT/2 each
way (tests/support/netcut.py), so the figures show what the round trips cost; each deploy also prints
how many it made: SSH commands, and all operations (commands, SFTP calls, forwards) in all.
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
from deploysafe.hosts import ssh  # noqa: E402
from tests.release.apps import RELEASE_APP, ExampleApp  # noqa: E402
from tests.support.netcut import DelayingProxy  # noqa: E402
from tests.support.processes import kill_under  # noqa: E402
from tests.support.sshd import free_port, start_sshd  # noqa: E402

RESTART = 'sh "$DEPLOYSAFE_ROOT/shared/restart.sh"'
# A release whose health fails only where it serves live (the boot test's spare port passes).
UNHEALTHY_LIVE = ("c.json({ status: ping()", "c.json({ status: process.env.PORT === '{port}' ? 'broken' : ping()")


class Trips:
    """Counts what an SshHost sends: every call into its connection, and the commands among them."""

    def __init__(self) -> None:
        self.calls = self.commands = 0
        original = ssh.SshHost._call

        def counted(target: ssh.SshHost, coro, what: str, timeout: float | None = None):  # type: ignore[no-untyped-def]
            self.calls += 1
            self.commands += what.startswith("running ")
            return original(target, coro, what, timeout)

        ssh.SshHost._call = counted  # type: ignore[method-assign]

    def take(self) -> tuple[int, int]:
        out = (self.commands, self.calls)
        self.calls = self.commands = 0
        return out


TRIPS: Trips | None = None
WHERE: dict[str, object] = {}  # set by --ssh: the url template, known_hosts, identity


def local_target(root: Path, port: int, **overrides: object) -> release.TargetSpec:
    (root / "shared").mkdir(parents=True, exist_ok=True)
    shutil.copy(RELEASE_APP / "bin" / "restart.sh", root / "shared" / "restart.sh")
    if WHERE:
        overrides = {"known_hosts": WHERE["known_hosts"], "identity": WHERE["identity"], **overrides}
    return release.target(
        WHERE["url"].format(root) if WHERE else str(root),  # type: ignore[attr-defined]
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
        if TRIPS:
            TRIPS.take()
        start = time.monotonic()
        result = release.deploy(artifact, spec)
        deploys.append(time.monotonic() - start)
        steps = {s.step: s.seconds for s in result.steps}
        trips = ""
        if TRIPS:
            commands, calls = TRIPS.take()
            trips = f"; {commands} SSH commands, {calls} operations"
        print(
            f"  deploy {n + 1}: {deploys[-1]:.2f} s  (install {steps['install']:.2f}, boot-test "
            f"{steps['boot-test']:.2f}, restart {steps['restart']:.2f}, health {steps['health']:.2f}{trips})"
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
    parser.add_argument("--ssh", action="store_true", help="deploy over SSH to a real sshd (no fleet)")
    parser.add_argument("--rtt", type=float, default=20.0, help="--ssh: round trip to the host, in ms")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deploysafe-bench-"))
    stop: list[object] = []
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        where = "this machine"
        if args.ssh:
            global TRIPS
            server = start_sshd(work / "sshd")
            proxy = DelayingProxy(server.port, args.rtt / 2000)
            stop += [proxy, server]
            known = server.write_known_hosts(work / "known_hosts", proxy.port)
            WHERE.update(url=f"ssh://{server.user}@127.0.0.1:{proxy.port}{{}}", known_hosts=str(known))
            WHERE["identity"] = str(server.key)
            TRIPS = Trips()
            where = f"sshd {args.rtt:g} ms away"
        print(f"deploysafe release benchmark: node {node}, {args.runs} runs, to {where}, in {work}")
        single(work, ExampleApp(work / "example"), args.runs)
        if args.fleet > 1 and not args.ssh:
            fleet(work, ExampleApp(work / "example-fleet"), args.fleet)
    finally:
        kill_under(work)
        for thing in stop:
            thing.close() if isinstance(thing, DelayingProxy) else thing.stop()  # type: ignore[attr-defined]
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
