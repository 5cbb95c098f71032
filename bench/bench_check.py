#!/usr/bin/env python3
"""Cold and warm `deploysafe check` on real npm code, next to madge and dependency-cruiser.

Downloads the corpora with `npm pack` (and their production dependencies) and the two other tools with
`npm install` into bench/corpora and bench/tools (both git-ignored, reused by later runs), then times every
tool from the same entries as whole processes with /usr/bin/time. Prints files reached, wall seconds,
files per second and peak memory for each, and the ratios.

    .venv/bin/python bench/bench_check.py [--runs 3] [--corpus NAME ...] [--against SRC] [--profile]

Figures are medians of --runs runs; the machine's noise shows in the min-max spread printed beside them.
The runs go in rounds (every tool once, then again), so a busy spell slows all tools alike. --against SRC
adds a cold check with deploysafe imported from SRC (the src/ folder of another checkout, e.g. a git
worktree of main) to the same rounds: a change's effect, measured under the same load. --profile times
nothing and instead profiles one cold check per corpus in one process (parsing included).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPORA = HERE / "corpora"
TOOLS = HERE / "tools"
DEPLOYSAFE = [sys.executable, "-m", "deploysafe"]
AGAINST = "deploysafe against"  # --against SRC: a cold check with deploysafe imported from SRC


@dataclass(frozen=True)
class Corpus:
    name: str
    package: str  # npm spec to `npm pack`
    entries: tuple[str, ...]


CORPUS = {
    c.name: c
    for c in (
        Corpus("date-fns", "date-fns@3.6.0", ("index.js", "index.mjs", "locale.js")),
        Corpus("rxjs", "rxjs@7.8.2", ("dist/cjs/index.js", "dist/cjs/operators/index.js", "dist/cjs/ajax/index.js")),
        Corpus("eslint", "eslint@8.57.0", ("lib/api.js", "bin/eslint.js")),
        Corpus("lodash-es", "lodash-es@4.17.21", ("lodash.js",)),
    )
}


def sh(argv: list[str], cwd: Path | None = None) -> None:
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare_corpus(corpus: Corpus) -> Path:
    root = CORPORA / corpus.name
    if (root / ".ready").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["npm", "pack", corpus.package, "--silent"], cwd=tmp, check=True, capture_output=True, text=True
        )
        sh(
            [
                "tar",
                "xzf",
                str(Path(tmp) / out.stdout.strip().splitlines()[-1]),
                "-C",
                str(root),
                "--strip-components=1",
            ]
        )
    sh(["npm", "install", "--omit=dev", "--ignore-scripts", "--legacy-peer-deps", "--no-audit", "--no-fund"], cwd=root)
    (root / ".ready").touch()
    return root


def prepare_tools() -> dict[str, list[str]]:
    if not (TOOLS / ".ready").exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        (TOOLS / "package.json").write_text('{"name": "bench-tools", "private": true}\n')
        sh(["npm", "install", "madge@8", "dependency-cruiser@16", "--no-audit", "--no-fund"], cwd=TOOLS)
        (TOOLS / ".ready").touch()
    bin_dir = TOOLS / "node_modules" / ".bin"
    return {"madge": [str(bin_dir / "madge")], "depcruise": [str(bin_dir / "depcruise")]}


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB, stdout (through a file: some tools truncate output into a pipe)."""
    with tempfile.NamedTemporaryFile("r") as stats, tempfile.TemporaryFile("w+") as out:
        subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", stats.name, *argv],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        wall, rss = stats.read().split()[-2:]
        out.seek(0)
        return float(wall), int(rss), out.read()


def run_deploysafe(
    root: Path, corpus: Corpus, cache_dir: str, cold: bool, src: str | None = None
) -> tuple[float, int, int]:
    args = [*DEPLOYSAFE, "check", str(root), "--format", "json"]
    for entry in corpus.entries:
        args += ["--entry", entry]
    if cold:
        shutil.rmtree(cache_dir, ignore_errors=True)
    env = {"DEPLOYSAFE_CACHE_DIR": cache_dir}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])
    wall, rss, out = timed(args, root, env)
    report = json.loads(out)
    return wall, rss, report["summary"]["reachable"]


def run_madge(tools: dict[str, list[str]], root: Path, corpus: Corpus) -> tuple[float, int, int]:
    args = [*tools["madge"], "--json", "--extensions", "js,mjs,cjs", *corpus.entries]
    wall, rss, out = timed(args, root)
    return wall, rss, len(json.loads(out or "{}"))


def run_depcruise(tools: dict[str, list[str]], root: Path, corpus: Corpus) -> tuple[float, int, int]:
    args = [
        *tools["depcruise"],
        "--no-config",
        "--output-type",
        "json",
        "--do-not-follow",
        "node_modules",
        *corpus.entries,
    ]
    wall, rss, out = timed(args, root)
    modules = json.loads(out or '{"modules": []}')["modules"]
    return wall, rss, sum(1 for m in modules if not m.get("coreModule") and "node_modules" not in m["source"])


PROFILE = """
import cProfile, os, pstats, sys, time
started = time.perf_counter()
import deploysafe
from deploysafe.check import sources
imported = time.perf_counter()
sources.POOL_THRESHOLD = sys.maxsize  # one process: parsing shows in the profile
profile = cProfile.Profile()
report = profile.runcall(deploysafe.check, sys.argv[1], sys.argv[2:])
print(f"imports {imported - started:.2f} s, check {time.perf_counter() - imported:.2f} s under the profiler,"
      f" {report.parsed} files parsed, {report.reachable} reachable")
pstats.Stats(profile).sort_stats("tottime").print_stats(25)
"""


def profile(corpus: Corpus, root: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="deploysafe-bench-cache-") as cache_dir:
        env = {**os.environ, "DEPLOYSAFE_CACHE_DIR": cache_dir}
        subprocess.run([sys.executable, "-c", PROFILE, str(root), *corpus.entries], cwd=root, env=env, check=True)


def median(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", action="append", choices=sorted(CORPUS))
    parser.add_argument("--against", metavar="SRC", help="also time a cold check of deploysafe imported from SRC")
    parser.add_argument("--profile", action="store_true", help="profile one cold check per corpus instead")
    args = parser.parse_args()
    if args.profile:
        for name in args.corpus or list(CORPUS):
            print(f"== {name}", flush=True)
            profile(CORPUS[name], prepare_corpus(CORPUS[name]))
        return
    tools = prepare_tools()
    cache_dir = tempfile.mkdtemp(prefix="deploysafe-bench-cache-")
    against = os.path.abspath(args.against) if args.against else None
    runners: dict[str, Callable[[Path, Corpus], tuple[float, int, int]]] = {
        "deploysafe cold": partial(run_deploysafe, cache_dir=cache_dir, cold=True),
        "deploysafe warm": partial(run_deploysafe, cache_dir=cache_dir, cold=False),  # after the cold run
    }
    if against:
        runners[AGAINST] = partial(run_deploysafe, cache_dir=cache_dir + "-against", cold=True, src=against)
    runners["madge"] = partial(run_madge, tools)
    runners["dependency-cruiser"] = partial(run_depcruise, tools)
    totals: dict[str, list[float]] = {tool: [] for tool in runners}
    print(f"{'corpus':10} {'tool':19} {'files':>6} {'wall s (min-max)':>20} {'files/s':>8} {'peak MB':>8}")
    for name in args.corpus or list(CORPUS):
        corpus = CORPUS[name]
        root = prepare_corpus(corpus)
        results: dict[str, list[tuple[float, int, int]]] = {tool: [] for tool in totals}
        for _ in range(args.runs):  # rounds: each tool once, in a fixed order
            for tool in totals:
                results[tool].append(runners[tool](root, corpus))
        for tool in totals:
            walls = [r[0] for r in results[tool]]
            files = results[tool][-1][2]
            peak = max(r[1] for r in results[tool]) / 1024
            totals[tool].append(statistics.median(walls))
            print(
                f"{name:10} {tool:19} {files:6d} {median(walls):>20} {files / statistics.median(walls):8.0f} {peak:8.0f}"
            )
    cold = sum(totals["deploysafe cold"])
    print()
    print(
        f"total wall (sum of medians): deploysafe cold {cold:.2f} s, warm {sum(totals['deploysafe warm']):.2f} s, "
        f"madge {sum(totals['madge']):.2f} s, dependency-cruiser {sum(totals['dependency-cruiser']):.2f} s"
    )
    print(
        f"speed-up of a cold deploysafe check: {sum(totals['madge']) / cold:.1f}x vs madge, "
        f"{sum(totals['dependency-cruiser']) / cold:.1f}x vs dependency-cruiser"
    )
    if against:
        print(
            f"{AGAINST} ({against}): cold {sum(totals[AGAINST]):.2f} s; this tree's cold check is "
            f"{sum(totals[AGAINST]) / cold:.2f}x as fast"
        )
    for directory in (cache_dir, cache_dir + "-against"):
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
