"""Benchmark: deploys under steady load, in place and blue/green behind a real nginx, both under a real pm2.

    python bench/bench_bluegreen.py [--runs 3] [--threads 4]

The bundled example (examples/seed-api-fixed, packed by ``deploysafe.pack.pack``) runs under pm2 with the
default health gate (1 s interval, 3 passes, 30 s deadline, pm2_min_uptime 1.5 s) and, behind the proxy,
the default drain (3 s). While each deploy runs, a bounded HTTP client (tests/support/load.py: --threads
keep-alive clients, each pausing 5 ms between requests, at most 100,000 requests or 120 s) sends GETs to the service - to its port in place,
to nginx behind the proxy - and counts every answer other than a 2xx, and every connection error, as a
failed request. Measured, per mode:
- a healthy deploy with an unchanged lockfile: wall time (goal <= 3 s), failed requests (goal 0 behind
  the proxy);
- a release whose port never opens under pm2 (its code adds 1 to PORT when pm2 runs it: the boot test
  passes, preflight cannot know): wall time (both modes fail fast after the boot test's yardstick instead
  of waiting out health_deadline), failed requests, and in place the outage - the longest run of failed
  requests (goal <= 3 s);
- a manual ``rollback`` to the previous release: wall time (goal <= 2 s), failed requests.
nginx (Debian's package) runs with its own prefix on 127.0.0.1. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from deploysafe import release  # noqa: E402
from tests.release.apps import ExampleApp  # noqa: E402
from tests.support.load import Load, LoadResult  # noqa: E402
from tests.support.nginx import start_nginx  # noqa: E402
from tests.support.pm2 import start_pm2  # noqa: E402
from tests.support.processes import kill_under  # noqa: E402
from tests.support.sshd import free_port  # noqa: E402

# The release's code listens one port up when pm2 runs it (pm2 sets pm_id): its port never opens.
ELSEWHERE = {"src/index.js": ("?? 3000)", "?? 3000) + (process.env.pm_id === undefined ? 0 : 1)")}


def timed(url: str, threads: int, action: Callable[[], object]) -> tuple[float, LoadResult, object]:
    with Load(url, threads=threads, max_requests=100_000, max_seconds=120) as load:
        time.sleep(0.5)  # steady load before the deploy starts
        started = time.monotonic()
        try:
            outcome: object = action()
        except release.ReleaseFailed as failure:
            outcome = failure
        seconds = time.monotonic() - started
        time.sleep(0.5)
    return seconds, load.result, outcome


def line(what: str, seconds: float, load: LoadResult, outage: bool = False) -> str:
    text = f"  {what:<34} {seconds:6.2f} s   {load.failed:5d} failed of {load.requests:6d} requests"
    if load.retried:
        text += f" ({load.retried} resent once: keep-alive closed at a reload)"
    if outage:
        text += f"; outage {load.outage:.2f} s"
    return text


def scenario(name: str, spec: release.TargetSpec, example: ExampleApp, port: int, url: str, args) -> dict:  # type: ignore[no-untyped-def]
    print(f"{name}:")
    release.deploy(example.build("1.4.0", port=port), spec)  # npm ci; not measured
    healthy, failures, outages, rollbacks = [], [], [], []
    for n in range(args.runs):
        artifact = example.build(f"1.5.{n}", port=port)
        seconds, load, result = timed(url, args.threads, lambda artifact=artifact: release.deploy(artifact, spec))
        assert isinstance(result, release.Result), result
        healthy.append(seconds)
        failures.append(load.failed)
        print(line(f"healthy deploy {n + 1}", seconds, load))
        if args.steps:
            print("     ", ", ".join(f"{s.step} {s.seconds:.2f}" for s in result.steps))
    for n in range(args.runs):
        bad = example.build(f"9.{n}.0", port=port, edits=ELSEWHERE)
        seconds, load, outcome = timed(url, args.threads, lambda bad=bad: release.deploy(bad, spec))
        assert isinstance(outcome, release.ReleaseFailed), "the failing release passed"
        outages.append(load.outage)
        failures.append(load.failed)
        print(line(f"port never opens {n + 1} ({outcome.result.status})", seconds, load, outage=True))
        if args.steps:
            print("     ", ", ".join(f"{s.step} {s.seconds:.2f}" for s in outcome.result.steps))
    for n in range(args.runs):
        seconds, load, back = timed(url, args.threads, lambda: release.rollback(spec))
        rollbacks.append(seconds)
        failures.append(load.failed)
        print(line(f"manual rollback {n + 1}", seconds, load))
        if args.steps and isinstance(back, release.Result):
            print("     ", ", ".join(f"{s.step} {s.seconds:.2f}" for s in back.steps))
        release.deploy(example.build(f"1.6.{n}", port=port), spec)  # forward again for the next one
    print(
        f"  => healthy deploy median {statistics.median(healthy):.2f} s; rollback median "
        f"{statistics.median(rollbacks):.2f} s; failing release outage max {max(outages):.2f} s; "
        f"failed requests in all {sum(failures)}"
    )
    return {"healthy": healthy, "rollbacks": rollbacks, "outages": outages, "failed": sum(failures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--steps", action="store_true", help="print each deploy's and rollback's steps and their seconds"
    )
    parser.add_argument("--modes", default="inplace,proxy", help="which modes to measure: inplace, proxy or both")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="deploysafe-bench-bg-"))
    pm2 = start_pm2(work / "pm2home")
    nginx = None
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        pm2_version = pm2.run("--version").stdout.strip().splitlines()[-1]
        print(f"deploysafe blue/green benchmark: node {node}, pm2 {pm2_version}, {args.runs} runs, in {work}")
        common = {"pm2": "ecosystem.config.cjs", "pm2_bin": str(pm2.binary), "health_expect": "healthy"}

        modes = set(args.modes.split(","))
        port = free_port()
        in_place = release.target(
            str(work / "inplace" / "srv"),
            config={},
            health=f"http://127.0.0.1:{port}/health",
            env={"PORT": str(port), **pm2.env},
            **common,
        )
        if "inplace" in modes:
            scenario(
                "in place (pm2)",
                in_place,
                ExampleApp(work / "inplace" / "example"),
                port,
                f"http://127.0.0.1:{port}/health",
                args,
            )

        if "proxy" not in modes:
            return
        root = work / "proxy" / "srv"
        nginx = start_nginx(work / "nginx", free_port(), root / ".deploysafe" / "upstream.conf")
        proxied = release.target(
            str(root),
            config={},
            proxy="nginx",
            proxy_reload=nginx.reload,
            blue_port=free_port(),
            green_port=free_port(),
            health=f"http://127.0.0.1:{nginx.port}/health",
            env=dict(pm2.env),
            **common,
        )
        url = f"http://127.0.0.1:{nginx.port}/health"
        scenario(
            "blue/green behind nginx (pm2)", proxied, ExampleApp(work / "proxy" / "example"), nginx.port, url, args
        )
    finally:
        if nginx is not None:
            nginx.stop()
        pm2.kill()
        kill_under(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
