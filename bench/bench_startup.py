#!/usr/bin/env python3
"""What deploysafe costs before it does any work: whole processes of the interpreter alone, `deploysafe
--version`, and `deploysafe check` of a generated 10-file service with an empty facts cache (cold) and a
filled one (warm).

    .venv/bin/python bench/bench_startup.py [--runs 15] [--against SRC] [--importtime]

Each figure is the median of --runs whole processes (min-max beside it), wall seconds and CPU seconds
(user + sys of the process and its children, from wait4): on a shared machine wall time waits for the other
processes, CPU time does not, so the CPU column is the one to compare. The commands run in rounds (each
once, then again), so a busy spell slows them alike; the load average is printed before and after. The
"beyond the interpreter" column is the median minus the interpreter's own. deploysafe's modules are
compiled to bytecode first, as an installed wheel has them. ``deploysafe`` is the console script beside
this interpreter (``python -m deploysafe`` when there is none). --against SRC adds the same commands with
deploysafe imported from SRC (the src/ folder of another checkout, e.g. a git worktree of main).
--importtime times nothing and prints the modules a warm check imports, the slowest first (``-X
importtime``, self time, the least of five runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INTERPRETER = "interpreter (python -c pass)"


def write_service(root: Path) -> None:
    """A small CommonJS service: index.js requires eight modules in lib/ and imports an ES module."""
    (root / "lib").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "svc", "version": "1.0.0", "main": "index.js"}))
    names = [f"part{i}" for i in range(8)]
    lines = [f"const {n} = require('./lib/{n}');" for n in names]
    lines += ["import('./lib/later.mjs').then((m) => m.later());", f"module.exports = [{', '.join(names)}];"]
    (root / "index.js").write_text("\n".join(lines) + "\n")
    for i, name in enumerate(names):
        uses = f"require('./part{i - 1}');\n" if i else "require('node:path');\n"
        (root / "lib" / f"{name}.js").write_text(f"{uses}module.exports = function {name}() {{ return {i}; }};\n")
    (root / "lib" / "later.mjs").write_text("export function later() { return 'later'; }\n")


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float


def timed(argv: list[str], env: dict[str, str]) -> Run:
    """One whole process: wall seconds, and CPU seconds of it and its children (from wait4)."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode() if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    if child.returncode not in (0, 1) or "Traceback" in errors:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}): {errors}")
    return Run(wall, usage.ru_utime + usage.ru_stime)


def deploysafe_argv() -> list[str]:
    script = Path(sys.executable).with_name("deploysafe")
    return [str(script)] if script.exists() else [sys.executable, "-m", "deploysafe"]


def compile_modules(src: str | None) -> None:
    """Bytecode for deploysafe's modules (PYTHONDONTWRITEBYTECODE would make every run compile them)."""
    import deploysafe

    folder = os.path.join(src, "deploysafe") if src else os.path.dirname(deploysafe.__file__)
    subprocess.run([sys.executable, "-m", "compileall", "-q", folder], check=True, stdout=subprocess.DEVNULL)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} ({min(values):.3f}-{max(values):.3f})"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def importtime(service: Path, env: dict[str, str]) -> None:
    """The modules a warm check imports, slowest first (self time in ms, the least of five runs)."""
    best: dict[str, int] = {}
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "deploysafe", "check", str(service)],
            env=env,
            capture_output=True,
            text=True,
        )
        for match in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", done.stderr):
            best[match[2]] = min(best.get(match[2], 1 << 40), int(match[1]))
    print(f"{len(best)} modules, {sum(best.values()) / 1000:.1f} ms of self time in all")
    for name, micros in sorted(best.items(), key=lambda item: -item[1])[:40]:
        print(f"{micros / 1000:7.2f} ms  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--against", metavar="SRC", help="also time deploysafe imported from SRC")
    parser.add_argument("--importtime", action="store_true", help="list a warm check's imports instead")
    args = parser.parse_args()
    against = os.path.abspath(args.against) if args.against else None
    if against and not os.path.isfile(os.path.join(against, "deploysafe", "__init__.py")):
        parser.error(f"--against {args.against}: no deploysafe package there (give the src/ folder of a checkout)")
    compile_modules(None)
    if against:
        compile_modules(against)
    work = Path(tempfile.mkdtemp(prefix="deploysafe-bench-startup-"))
    try:
        service = work / "svc"
        write_service(service)
        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
        base.update(NO_COLOR="1", DEPLOYSAFE_CACHE_DIR=str(work / "cache"))
        if args.importtime:
            subprocess.run([sys.executable, "-m", "deploysafe", "check", str(service)], env=base, check=True)
            importtime(service, base)
            return
        variants: dict[str, tuple[list[str], dict[str, str]]] = {"": (deploysafe_argv(), base)}
        if against:
            # the console script's body (cli.run; main where SRC predates it)
            script = "import sys; from deploysafe import cli; sys.exit((getattr(cli, 'run', None) or cli.main)())"
            variants[" (against)"] = ([sys.executable, "-c", script], {**base, "PYTHONPATH": against})
        commands: dict[str, tuple[list[str], dict[str, str], bool]] = {
            INTERPRETER: ([sys.executable, "-c", "pass"], base, False)
        }
        for suffix, (argv, env) in variants.items():
            cold = {**env, "DEPLOYSAFE_CACHE_DIR": str(work / f"cold{len(commands)}")}  # emptied before each run
            commands[f"deploysafe --version{suffix}"] = ([*argv, "--version"], env, False)
            commands[f"check, cold facts cache{suffix}"] = ([*argv, "check", str(service)], cold, True)
            commands[f"check, warm{suffix}"] = ([*argv, "check", str(service)], env, False)
        for argv, env, _ in commands.values():  # fill the warm caches once
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"load average at start: {load()} on {os.cpu_count()} CPUs; {sys.version.split()[0]}; {args.runs} runs")
        results: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (argv, env, cold_cache) in commands.items():
                if cold_cache:
                    shutil.rmtree(env["DEPLOYSAFE_CACHE_DIR"], ignore_errors=True)
                results[name].append(timed(argv, env))
        print(f"load average at end: {load()}")
        interpreter = results[INTERPRETER]
        base_wall = statistics.median(r.wall for r in interpreter)
        base_cpu = statistics.median(r.cpu for r in interpreter)
        print(f"{'':36} {'wall s (min-max)':>22} {'cpu s (min-max)':>22} {'beyond the interpreter':>24}")
        for name, runs in results.items():
            walls, cpus = [r.wall for r in runs], [r.cpu for r in runs]
            beyond = f"{statistics.median(walls) - base_wall:.3f} wall, {statistics.median(cpus) - base_cpu:.3f} cpu"
            print(f"{name:36} {spread(walls):>22} {spread(cpus):>22} {beyond:>24}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
