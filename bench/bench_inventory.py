"""Inventory speed on a real tree of >= 20,000 files, against the shell one-liner people use by hand.

    python bench/bench_inventory.py [--corpus DIR] [--runs 3]

Corpus: real npm packages (next, webpack, eslint, @mui/material, rxjs, lodash, typescript), installed
once into ~/.cache/deploysafe-bench/npm and hard-linked into a folder not named node_modules (nested
node_modules folders renamed too), so deploysafe and `find` hash exactly the same files.

Local:  deploysafe's directory inventory  vs  find . -type f -print0 | xargs -0 sha256sum
Remote: deploysafe over SSH to a real sshd on 127.0.0.1 (connect, list, hash there, stream back)
        vs  ssh host 'cd DIR && find . -type f -print0 | xargs -0 sha256sum' > /dev/null
Both sides run warm (one untimed run first); the best of --runs is reported. Targets: local <= 1.5x,
remote <= 2x the one-liner.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from deploysafe.drift import inventory_directory, open_source  # noqa: E402
from tests.support.sshd import SSHD, Sshd, free_port, start_sshd  # noqa: E402

CACHE = Path(os.environ.get("DEPLOYSAFE_BENCH_CACHE", Path.home() / ".cache" / "deploysafe-bench"))
PACKAGES = ["next", "webpack", "eslint", "@mui/material", "rxjs", "lodash", "typescript"]
ONE_LINER = "find . -type f -print0 | xargs -0 sha256sum > /dev/null"


def corpus(dest: Path) -> Path:
    """The benchmark tree, built once."""
    done = dest / ".corpus-ready"
    if done.exists():
        return dest
    npm_dir = CACHE / "npm"
    if not (npm_dir / "node_modules").is_dir():
        npm_dir.mkdir(parents=True, exist_ok=True)
        (npm_dir / "package.json").write_text(json.dumps({"name": "bench", "version": "1.0.0", "private": True}))
        print(f"npm install {' '.join(PACKAGES)} (once) ...", flush=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES], cwd=npm_dir, check=True
        )
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(npm_dir / "node_modules", dest / "pkgs", copy_function=os.link, symlinks=True)
    for path in sorted(dest.rglob("node_modules"), key=lambda p: -len(p.parts)):
        if path.is_dir() and not path.is_symlink():
            path.rename(path.with_name("nm"))
    for path in dest.rglob("*"):  # the one-liner does not follow links: keep the file sets equal
        if path.is_symlink():
            path.unlink()
    done.write_text("")
    return dest


def best(runs: int, action: Callable[[], object]) -> float:
    action()  # warm: page cache, imports, sshd's first fork
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def shell(command: str, cwd: Path) -> None:
    subprocess.run(["sh", "-c", command], cwd=cwd, check=True)


def ssh_one_liner(server: Sshd, port: int, known: Path, directory: Path) -> None:
    subprocess.run(
        [
            "ssh", "-p", str(port), "-i", str(server.key), "-o", f"UserKnownHostsFile={known}", "-o", "BatchMode=yes",
            f"{server.user}@127.0.0.1", f"cd {directory} && find . -type f -print0 | xargs -0 sha256sum",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def remote_inventory(url: str, known: Path, key: Path) -> int:
    tree, _ = open_source(url, known_hosts=str(known), identity=str(key))
    try:
        return len(tree.inventory().files)
    finally:
        tree.close()


def restricted_sshd(server: Sshd, workdir: Path, tools: list[str]) -> tuple[subprocess.Popen[bytes], int, Path]:
    """A second sshd on the same keys whose sessions see only ``tools`` (e.g. no python3)."""
    bindir = workdir / "bin"
    bindir.mkdir(parents=True)
    for tool in tools:
        found = shutil.which(tool, path="/usr/bin:/bin")
        assert found, tool
        (bindir / tool).symlink_to(found)
    port = free_port()
    config = (server.workdir / "sshd_config").read_text()
    config = re.sub(r"(?m)^Port \d+$", f"Port {port}", config)
    config = re.sub(r"(?m)^PidFile .*$", f"PidFile {workdir}/sshd.pid", config)
    config += f'ForceCommand PATH={bindir} exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n'
    (workdir / "sshd_config").write_text(config)
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(workdir / "sshd_config")], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process, port, server.write_known_hosts(workdir / "known_hosts", port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CACHE / "corpus")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tree = corpus(args.corpus)
    found = inventory_directory(tree)
    files, size = len(found.files), found.total_size
    if files < 20_000:
        sys.exit(f"corpus has only {files} files; need >= 20,000")
    print(f"corpus: {tree}  {files:,} files  {size / 1e6:,.0f} MB  ({os.cpu_count()} cores)")

    local = best(args.runs, lambda: inventory_directory(tree))
    local_base = best(args.runs, lambda: shell(ONE_LINER, tree))
    print(
        f"local   deploysafe {local:6.2f} s   one-liner {local_base:6.2f} s   ratio {local / local_base:4.2f}x  (target <= 1.5x)"
    )

    work = Path(tempfile.mkdtemp(prefix="deploysafe-bench-"))
    server = start_sshd(work / "sshd")
    try:
        url = server.url(str(tree))
        assert remote_inventory(url, server.known_hosts, server.key) == files
        remote = best(args.runs, lambda: remote_inventory(url, server.known_hosts, server.key))
        remote_base = best(args.runs, lambda: ssh_one_liner(server, server.port, server.known_hosts, tree))
        print(
            f"remote  deploysafe {remote:6.2f} s   ssh one-liner {remote_base:6.2f} s   ratio "
            f"{remote / remote_base:4.2f}x  (target <= 2x; host hashes with python3)"
        )
        process, port, known = restricted_sshd(
            server, work / "plain", ["sh", "find", "xargs", "sha256sum", "readlink", "cat", "tar"]
        )
        try:
            plain_url = server.url(str(tree), port=port)
            plain = best(args.runs, lambda: remote_inventory(plain_url, known, server.key))
            plain_base = best(args.runs, lambda: ssh_one_liner(server, port, known, tree))
            print(
                f"remote  deploysafe {plain:6.2f} s   ssh one-liner {plain_base:6.2f} s   ratio "
                f"{plain / plain_base:4.2f}x  (host without python3: find + xargs sha256sum)"
            )
        finally:
            process.terminate()
            process.wait(5)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
