"""Pack time on a large real tree next to plain `tar czf` of the same file list.

The tree: a project whose entry imports every ES module of two real npm packages (date-fns 4 and
lodash-es 4, about 2,000 files) copied into its src/vendor/. npm installs them once into
bench/corpora/pack-npm/ (git-ignored). Each figure is the median of --runs runs.

    python bench/bench_pack.py [--runs 5] [--with-node-modules]

Rows (the lower three include `check` of the source tree, facts cache warm unless said otherwise):
  tar czf (same files)      tar czf of exactly the files the artifact holds (gzip -6), from a file list
  pack: select+hash+write   pack's own steps, the part that does what tar does: choose the files, hash
                            them, write the manifest and the deterministic tar.gz
  pack --no-verify          deploysafe.pack(..., verify_after=False): check + the above
  pack (default)            + unpack the written artifact, check every hash, run check on the unpacked tree
  pack, cold facts cache    the same with an empty facts cache (every file parsed again)
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
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from deploysafe.pack import pack  # noqa: E402

CORPUS = HERE / "corpora" / "pack-npm"
PACKAGES = {"date-fns": "4.1.0", "lodash-es": "4.17.21"}


def corpus() -> Path:
    done = CORPUS / ".installed"
    if not done.exists():
        CORPUS.mkdir(parents=True, exist_ok=True)
        (CORPUS / "package.json").write_text(
            json.dumps({"name": "pack-corpus", "private": True, "dependencies": PACKAGES}, indent=2)
        )
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=CORPUS, check=True)
        done.write_text("")
    return CORPUS / "node_modules"


def make_project(base: Path, modules: Path, with_node_modules: bool) -> Path:
    project = base / "app"
    vendor = project / "src" / "vendor"
    imports = []
    for name in PACKAGES:
        shutil.copytree(modules / name, vendor / name)
        for path in sorted((vendor / name).rglob("*.js")):
            if path.name == "test.js":  # date-fns ships a vitest helper that imports missing files
                continue
            imports.append(f"import './{path.relative_to(project / 'src').as_posix()}';")
    (project / "src" / "index.js").write_text("\n".join(imports) + "\nconsole.log('loaded');\n")
    package = {"name": "bench-app", "version": "1.0.0", "type": "module", "main": "src/index.js"}
    if with_node_modules:
        package["dependencies"] = PACKAGES
        shutil.copytree(modules, project / "node_modules")
        shutil.copy(CORPUS / "package-lock.json", project / "package-lock.json")
        lock = json.loads((project / "package-lock.json").read_text())
        lock["name"] = lock["packages"][""]["name"] = "bench-app"
        (project / "package-lock.json").write_text(json.dumps(lock, indent=2))
    (project / "package.json").write_text(json.dumps(package, indent=2))
    return project


def median_runs(fns: dict[str, Callable[[], dict[str, float] | None]], runs: int) -> dict[str, float]:
    """Median seconds of each function (and of each step a pack reports), runs interleaved so that load
    from other processes falls on all of them alike."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for label, fn in fns.items():
            started = time.perf_counter()
            steps = fn()
            samples.setdefault(label, []).append(time.perf_counter() - started)
            for step, seconds in (steps or {}).items():
                samples.setdefault(f"{label}: {step}", []).append(seconds)
    return {label: statistics.median(values) for label, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--with-node-modules", action="store_true", help="also pack the production node_modules")
    args = parser.parse_args()
    modules = corpus()
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as tmp:
        base = Path(tmp)
        project = make_project(base, modules, args.with_node_modules)
        out = base / "out"
        out.mkdir()
        nm = args.with_node_modules
        os.environ["DEPLOYSAFE_CACHE_DIR"] = str(base / "cache")
        first = pack(project, output=out / "a.tar.gz", with_node_modules=nm)  # also warms the facts cache
        files = [f["path"] for f in first.manifest["files"]]
        (base / "list").write_text("\n".join(files) + "\n")
        size = sum(f["size"] for f in first.manifest["files"])
        print(
            f"tree: {len(files)} files, {size / 1e6:.1f} MB packed; artifact {first.size / 1e6:.2f} MB; "
            f"{first.report.files} source files checked"
        )

        def tar() -> None:
            subprocess.run(
                ["tar", "czf", str(out / "t.tar.gz"), "-C", str(project), "-T", str(base / "list")], check=True
            )

        def packed(verify_after: bool = True) -> dict[str, float]:
            return pack(project, output=out / "b.tar.gz", with_node_modules=nm, verify_after=verify_after).timings

        def cold() -> dict[str, float]:
            shutil.rmtree(base / "cache", ignore_errors=True)
            return pack(project, output=out / "c.tar.gz", with_node_modules=nm).timings

        medians = median_runs(
            {"tar czf": tar, "pack": packed, "pack --no-verify": lambda: packed(verify_after=False)}, args.runs
        )
        medians |= median_runs({"pack, cold facts cache": cold}, max(1, args.runs // 2))
        tar_time = medians["tar czf"]
        own = sum(medians[f"pack: {step}"] for step in ("select", "hash", "write"))
        rows = [
            ("tar czf (same files)", tar_time),
            ("pack: select+hash+write", own),
            ("pack --no-verify", medians["pack --no-verify"]),
            ("pack (default)", medians["pack"]),
            ("pack, cold facts cache", medians["pack, cold facts cache"]),
        ]
        for label, seconds in rows:
            print(f"{label:<26} {seconds:7.3f} s   {seconds / tar_time:5.2f}× tar")
        steps = ", ".join(
            f"{step} {medians[f'pack: {step}']:.3f}" for step in ("check", "select", "hash", "write", "verify")
        )
        print(f"pack steps (s): {steps}")
        print(
            f"archives: tar {os.path.getsize(out / 't.tar.gz') / 1e6:.2f} MB, pack "
            f"{os.path.getsize(out / 'b.tar.gz') / 1e6:.2f} MB (the manifest is part of it)"
        )


if __name__ == "__main__":
    main()
