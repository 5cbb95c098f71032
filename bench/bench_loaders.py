#!/usr/bin/env python3
"""Folder loads on public services: does pack → boot pass with no hand-written include?

Each service of SERVICES is a public GitHub repository, at a pinned commit, that loads code or data by
listing a folder at start (@fastify/autoload, ``readdirSync`` + ``require()``, express views, i18n
locales). For each one the bench:

1. takes the tree at the commit (``git archive``) from ``--mirror DIR`` (a folder of bare snapshots named
   ``owner+name/repo``) or, without it, from a clone of https://github.com/OWNER/NAME;
2. installs it with npm (``npm ci`` from its lockfile; ``npm install`` where it has none);
3. starts it with real Node from the tree itself, to know that it boots at all (the oracle);
4. runs ``deploysafe check`` and ``deploysafe pack --boot --health`` on the probe (a service that ignores
   $PORT is probed on the one port it listens on);
5. when pack stops naming ``add: [pack] include = [...]`` lines, packs again with those includes and
   records whether that artifact boots;
6. unpacks the artifact, links the installed ``node_modules`` into it, starts it with Node and asks
   ``probe`` (the service's own port when it ignores $PORT) for a 200: a page that renders a view, a
   route an autoloaded file registers. This is the proof that what pack left out is not needed.

    .venv/bin/python bench/bench_loaders.py [--mirror /work/.mirror] [--only NAME ...] [--json FILE]

Trees and installs go to bench/corpora/loaders (git-ignored, reused by later runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "corpora" / "loaders"
DEPLOYSAFE = [sys.executable, "-m", "deploysafe"]
INCLUDE = re.compile(r"add: \[pack\] include = (\[.*\])")


@dataclass(frozen=True)
class Service:
    name: str
    repo: str  # owner/name on GitHub
    commit: str
    loads: str  # how it loads by folder, for the table
    subdir: str = ""  # the service's folder inside the repository
    start: tuple[str, ...] = ("node",)  # + the entry, to start it from the tree (the oracle)
    entry: str = ""
    port: int = 0  # the port it listens on when it ignores $PORT (0: it reads $PORT)
    probe: str = "/"  # a path that answers 200 only when the folder-loaded code or data is there
    options: tuple[str, ...] = ()  # for check and pack (an --entry where the repository names none)
    language: str = ""  # Accept-Language of the probe
    expect: str = ""  # text the probe's answer must hold


SERVICES = (
    Service(
        "devpost-api",
        "thegu5/devpost-api",
        "21f21c6cac445c3ce8130af6dbd3341566b10db3",
        "@fastify/autoload routes/ (ESM, own __dirname), 15 route files importing ../utils.js",
        entry="src/index.js",
        port=3000,
        probe="/",
    ),
    Service(
        "one-two-three-fastify",
        "mcollina/one-two-three-fastify",
        "850c6409ec9437291d1637ea1e1c4caffb7bb689",
        "@fastify/autoload routes/ with desm's join(import.meta.url, 'routes'), nested folders",
        entry="server.js",
        probe="/foo/",
    ),
    Service(
        "hotel-booking-three",
        "ghigbie/hotel-booking-three",
        "f0443977e425c017e87f9a94019ed76c0bfe4235",
        "readdirSync('./routes').map(r => require(`./routes/${r}`)) (CommonJS)",
        subdir="server",
        entry="server.js",
        port=8000,
        probe="/api/ping",
    ),
    Service(
        "hidden-arcade",
        "LouisSavoie/hidden-arcade",
        "609b9405a89d99529a83112b1b334c21dd66bc3f",
        "readdirSync('./routes/') + require('./routes/' + file); express views/ (view engine only)",
        entry="app.js",
        port=3000,
        probe="/",
    ),
    Service(
        "i18n_sample",
        "kendea1221/i18n_sample",
        "34aae2601668155e5de8c5e1a2a459ace4ee9a8d",
        "i18n locales/ (directory: __dirname + '/locales'); express views in public/",
        entry="app.js",
        options=("--entry", "app.js"),  # package.json's main is a missing index.js, and no start script
        language="ja",
        expect="サブジェクト",  # locales/ja.json's translation, rendered through the view
        port=3000,
        probe="/",
    ),
)


@dataclass
class Result:
    name: str
    repo: str
    commit: str
    loads: str
    oracle: str = ""  # what real Node does with the tree itself
    check: str = ""
    check_exit: int = -1
    pack_exit: int = -1
    pack_line: str = ""
    includes: list[str] = field(default_factory=list)
    pack_included_exit: int = -1
    boot: str = ""
    served: str = ""  # the unpacked artifact under Node, asked for the probe
    seconds: dict[str, float] = field(default_factory=dict)


def tree(service: Service, mirror: Path | None) -> Path:
    """The service's files at the pinned commit, installed."""
    target = WORK / service.name
    if (target / ".installed").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    git_dir = mirror / service.repo.replace("/", "+") / "repo" if mirror else WORK / ".clones" / service.name
    if not mirror and not git_dir.exists():
        url = f"https://github.com/{service.repo}.git"
        subprocess.run(["git", "clone", "--bare", "--quiet", url, str(git_dir)], check=True)
    archive = subprocess.run(
        [
            "git",
            "-C",
            str(git_dir),
            "archive",
            "--format=tar",
            service.commit,
            *([service.subdir] if service.subdir else []),
        ],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryDirectory() as scratch:
        tar = Path(scratch) / "tree.tar"
        tar.write_bytes(archive)
        with tarfile.open(tar) as members:
            members.extractall(scratch, filter="data")
        source = Path(scratch) / service.subdir if service.subdir else Path(scratch)
        for item in source.iterdir():
            if item.name not in ("tree.tar", "node_modules"):
                shutil.move(str(item), target / item.name)
    # a checkout is a repository of its own: the project's .gitignore (which ignores bench/corpora/) must
    # not reach it, its own .gitignore must
    subprocess.run(["git", "init", "--quiet", str(target)], check=True)
    command = ["npm", "ci"] if (target / "package-lock.json").exists() else ["npm", "install"]
    subprocess.run([*command, "--no-audit", "--no-fund"], cwd=target, check=True, capture_output=True)
    (target / ".installed").write_text(" ".join(command))
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(folder: Path, service: Service, deadline: float = 20.0) -> str:
    """Start the entry with Node in ``folder`` and ask for the probe: ``200 …`` or what went wrong."""
    port = service.port or free_port()
    env = {**os.environ, "PORT": str(port), "NODE_ENV": "production"}
    log = Path(tempfile.mkdtemp(prefix="bench-serve-")) / "output.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*service.start, service.entry], cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            if process.poll() is not None:
                lines = log.read_text(errors="replace").strip().splitlines()
                return f"exited {process.returncode}: {next((x for x in lines if 'Error' in x), lines[-1] if lines else '')}"
            try:
                headers = {"Accept-Language": service.language} if service.language else {}
                request = urllib.request.Request(f"http://127.0.0.1:{port}{service.probe}", headers=headers)
                with urllib.request.urlopen(request, timeout=2) as response:
                    body = response.read()
                if service.expect and service.expect not in body.decode("utf-8", "replace"):
                    return f"{response.status} {service.probe} without {service.expect!r}"
                return f"{response.status} {service.probe} ({len(body)} bytes{', holds ' + service.expect if service.expect else ''})"
            except urllib.error.HTTPError as error:
                return f"{error.code} {service.probe}"
            except OSError:
                time.sleep(0.3)
        return f"no answer on {port} within {deadline:.0f} s"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


def run(command: list[str], cwd: Path) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def bench(service: Service, mirror: Path | None) -> Result:
    result = Result(service.name, service.repo, service.commit, service.loads)
    folder = tree(service, mirror)
    result.oracle = serve(folder, service)
    code, output, seconds = run([*DEPLOYSAFE, "check", ".", *service.options, "--format", "json"], folder)
    result.check_exit, result.seconds["check"] = code, round(seconds, 2)
    try:
        summary = json.loads(output[output.index("{") :])["summary"]
        result.check = ", ".join(f"{summary[k]} {k}" for k in ("reachable", "dormant", "errors", "unverified"))
    except (ValueError, KeyError):
        result.check = output.strip().splitlines()[-1] if output.strip() else ""
    with tempfile.TemporaryDirectory() as scratch:
        artifact = Path(scratch) / "artifact.tar.gz"
        health = ["--health", f"http://127.0.0.1:1{service.probe}"]
        pack = [*DEPLOYSAFE, "pack", ".", *service.options, "--boot", *health, "-o", str(artifact)]
        code, output, seconds = run(pack, folder)
        result.pack_exit, result.seconds["pack --boot"] = code, round(seconds, 2)
        result.pack_line = _last_lines(output)
        includes = [glob for found in INCLUDE.findall(output) for glob in _globs(found)]
        if includes:
            result.includes = includes
            again = pack + [option for glob in includes for option in ("--include", glob)]
            code, output, seconds = run(again, folder)
            result.pack_included_exit, result.seconds["pack --boot with include"] = code, round(seconds, 2)
        result.boot = next((line.strip() for line in output.splitlines() if line.lstrip().startswith("boot")), "")
        if artifact.exists():
            unpacked = Path(scratch) / "unpacked"
            with tarfile.open(artifact) as members:
                members.extractall(unpacked, filter="data")
            (unpacked / "node_modules").symlink_to(folder / "node_modules")
            result.served = serve(unpacked, service)
    return result


def _globs(found: str) -> list[str]:
    """The globs of an ``include = [...]`` hint; none when pack could not name them (``[...]``)."""
    try:
        return [glob for glob in json.loads(found) if isinstance(glob, str)]
    except ValueError:
        return []


def _last_lines(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    interesting = [line for line in lines if line.startswith(("PACKED", "deploysafe: error", "REFUSED"))]
    return (interesting or lines[-1:] or [""])[-1][:200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path, help="folder of bare snapshots named owner+name/repo")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    for service in SERVICES:
        if args.only and service.name not in args.only:
            continue
        result = bench(service, args.mirror)
        results.append(result)
        print(f"{result.name} ({result.repo}@{result.commit[:7]}): {result.loads}")
        print(f"  node on the tree    {result.oracle}")
        print(f"  check               exit {result.check_exit}: {result.check} ({result.seconds['check']} s)")
        print(f"  pack --boot         exit {result.pack_exit}: {result.pack_line} ({result.seconds['pack --boot']} s)")
        if result.includes:
            print(f"  named include       {result.includes}: pack --boot exit {result.pack_included_exit}")
        print(f"  {result.boot}")
        print(f"  node on artifact    {result.served}")
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
