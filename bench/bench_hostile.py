#!/usr/bin/env python3
"""Time and peak memory of deploysafe on inputs built to be large: deep import chains and huge manifests.

    python bench/bench_hostile.py [--depth 5000] [--files 40000] [--only check,drift,verify,manifest-bomb]
                                  [--against SRC]

Rows, each a whole `python -m deploysafe ...` process measured with /usr/bin/time (wall seconds, max RSS):
  check  (chain N)        check of a project whose entry starts an import chain N modules deep
  drift  (chain N, ...)   drift of the same project against a copy of itself with one file changed, and
                          against one where every module differs (each needs its chain explained)
  verify (M files)        verify of an artifact holding M small files (packed once with --include)
  verify manifest bomb    verify of an artifact whose manifest is ~1 MiB of gzip that unpacks to ~1 GiB

--against SRC runs every row a second time with deploysafe imported from SRC (the src/ of another
checkout, e.g. a git worktree of an older commit): the before/after figures under the same load.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def chain_project(base: Path, depth: int) -> Path:
    root = base / f"chain-{depth}"
    (root / "src").mkdir(parents=True)
    (root / "package.json").write_text(
        json.dumps({"name": "chain", "version": "1.0.0", "type": "module", "main": "src/index.js"})
    )
    (root / "src" / "index.js").write_text("import { v } from './m0.js';\nconsole.log(v);\n")
    for i in range(depth):
        (root / "src" / f"m{i}.js").write_text(f"export {{ v }} from './m{i + 1}.js';\n")
    (root / "src" / f"m{depth}.js").write_text("export const v = 1;\n")
    return root


def wide_project(base: Path, files: int) -> Path:
    root = base / f"wide-{files}"
    (root / "data").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "wide", "version": "1.0.0", "main": "index.js"}))
    (root / "index.js").write_text("console.log('loaded');\n")
    for i in range(files):
        folder = root / "data" / f"d{i % 200}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{i}.txt").write_text(f"{i}\n")
    return root


def manifest_bomb(base: Path) -> Path:
    """An artifact whose first member, the manifest, is ~1 GiB of zero bytes: ~1 MiB of gzip."""
    path = base / "bomb.tar.gz"
    size = 1 << 30
    with gzip.open(path, "wb", compresslevel=9) as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
        info = tarfile.TarInfo(".deploysafe/manifest.json")
        info.size = size
        with open("/dev/zero", "rb") as zeros:
            tar.addfile(info, zeros)
    return path


def measure(args: list[str], src: Path) -> tuple[float, int, int]:
    """(wall seconds, max RSS in MB, exit code) of one deploysafe process importing from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1"}
    with tempfile.NamedTemporaryFile("r") as report:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", report.name, sys.executable, "-m", "deploysafe", *args],
            env=env,
            capture_output=True,
            text=True,
        )
        wall, rss = report.read().split()[-2:]
    return float(wall), int(rss) // 1024, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--depth", type=int, default=5000)
    parser.add_argument("--files", type=int, default=40_000)
    parser.add_argument("--only", default="check,drift,verify,manifest-bomb")
    parser.add_argument("--against", type=Path, help="src/ of another checkout, for before/after figures")
    opts = parser.parse_args()
    only = set(opts.only.split(","))
    sources = [("this tree", SRC)] + ([("against", opts.against)] if opts.against else [])
    with tempfile.TemporaryDirectory(prefix="deploysafe-bench-") as tmp:
        base = Path(tmp)
        rows: list[tuple[str, list[str]]] = []
        if only & {"check", "drift"}:
            chain = chain_project(base, opts.depth)
            copy, changed = base / "copy", base / "changed"
            shutil.copytree(chain, copy)
            (copy / "src" / f"m{opts.depth // 2}.js").write_text("export const v = 2;\n")
            shutil.copytree(chain, changed)
            for module in (changed / "src").glob("m*.js"):
                module.write_text(module.read_text() + "// changed\n")
            if "check" in only:
                rows.append((f"check  (chain {opts.depth})", ["check", str(chain), "--no-cache"]))
            if "drift" in only:
                for label, other in (("1 differs", copy), ("all differ", changed)):
                    args = ["drift", str(chain), "--against", str(other), "--no-cache"]
                    rows.append((f"drift  (chain {opts.depth}, {label})", args))
        if "verify" in only:
            wide = wide_project(base, opts.files)
            out = base / "out"
            packed = subprocess.run(
                [sys.executable, "-m", "deploysafe", "pack", str(wide), "-o", f"{out}/", "--include", "data/**"],
                env={**os.environ, "PYTHONPATH": str(SRC)},
                capture_output=True,
                text=True,
            )
            if packed.returncode != 0:
                sys.exit(f"pack failed: {packed.stderr}")
            artifact = next(out.glob("*.tar.gz"))
            rows.append((f"verify ({opts.files} files)", ["verify", str(artifact)]))
        if "manifest-bomb" in only:
            bomb = manifest_bomb(base)
            rows.append((f"verify manifest bomb ({bomb.stat().st_size >> 10} KiB gz)", ["verify", str(bomb)]))
        print(f"{'row':40} {'source':10} {'seconds':>8} {'max RSS MB':>10} {'exit':>5}")
        for label, args in rows:
            for name, src in sources:
                wall, rss, code = measure(args, src)
                print(f"{label:40} {name:10} {wall:8.2f} {rss:10d} {code:5d}", flush=True)


if __name__ == "__main__":
    main()
