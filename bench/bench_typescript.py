#!/usr/bin/env python3
"""deploysafe's verdict against real node on TypeScript services, clean and with injected faults.

    .venv/bin/python bench/bench_typescript.py SERVICES_DIR [--service NAME ...] [--no-build] [--wait 8]

SERVICES_DIR holds one checked-out service per folder (tsx, ts-node, tsc → CommonJS, tsc → ESM with .js
imports, tsc + tsc-alias, a monorepo package, ...), each with its dependencies installed (npm ci) so that
its own start command can run. Nothing is downloaded. For every service:

1. deploysafe decides how it runs (the report's `typescript` line) and whether it is deployable;
2. a compiled service is built first (`npm run build`; a Yarn PnP service's own yarn, unless --no-build), as
   its deploy would;
3. the ground truth: the command that starts the entry deploysafe judged (a Procfile's, a PM2 file's,
   else package.json's production start command) runs for --wait seconds under `sh -c` with
   NODE_ENV=production. It "loads" when it is still running then, or exits 0, or fails for a reason other
   than loading modules (a database that is not there is not deploysafe's business); it "crashes at
   load" when node prints a module-loading error (Cannot find module/package, ERR_MODULE_NOT_FOUND,
   ERR_UNSUPPORTED_DIR_IMPORT, ERR_PACKAGE_PATH_NOT_EXPORTED, does not provide an export named, a
   SyntaxError, ...);
4. the same on copies with one fault each: a reachable module renamed, an extensionless relative
   import added to the entry, a missing package imported, and two that must still load: an import
   of inline types only from a path that does not exist, and a comment naming a missing file.

A fault the service's own build rejects (a type check in `prebuild`, tsc's exit status) stops the deploy
before node runs: it is listed as "build stops it" and not counted (when the clean build passes; a service
whose clean build already fails but emits is judged on what it emits). Each other case is a false block (deploysafe blocks, node loads), a miss (deploysafe passes, node crashes) or an
agreement. Prints a Markdown table (the README's check section holds the last one) and exits 1 on any
false block or miss. Not run in CI: it needs real services and starts them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOAD_ERRORS = re.compile(
    r"Cannot find (module|package)|ERR_MODULE_NOT_FOUND|ERR_UNSUPPORTED_DIR_IMPORT|ERR_PACKAGE_PATH_NOT_EXPORTED|"
    r"ERR_REQUIRE_ESM|ERR_REQUIRE_ASYNC_MODULE|does not provide an export named|Named export '.*' not found|"
    r"SyntaxError|ERR_IMPORT_(ASSERTION|ATTRIBUTE)|conflicting star exports|ERR_UNKNOWN_FILE_EXTENSION|"
    r"tried to access .*, but it isn't (declared|provided)"  # Yarn Plug'n'Play's refusals
)


@dataclass
class Case:
    service: str
    setup: str
    fault: str
    deploysafe: str  # "deployable" | "blocked"
    node: str  # "loads" | "crashes at load"
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.deploysafe == "build fails":
            return "build stops it"
        blocked, crashed = self.deploysafe == "blocked", self.node == "crashes at load"
        if blocked and not crashed:
            return "FALSE BLOCK"
        if crashed and not blocked:
            return "MISS"
        return "agree"


def judge(root: Path) -> tuple[str, str, object]:
    """(deployable|blocked, the setup deploysafe decided, the report); a configuration error (exit 2, say
    an entry that is not built yet) blocks too, with no report."""
    from deploysafe import check
    from deploysafe.errors import DeploysafeError

    try:
        report = check(root)
    except DeploysafeError as error:
        return "blocked", f"error: {error}", None
    run = report.typescript
    if run is None:
        setup = "javascript"
    elif run.compiled:
        setup = "tsc"
        setup += " + tsc-alias" if run.aliases_rewritten else ""
        setup += " + tsconfig-paths" if run.runtime_paths else ""
        setup += " (built)" if run.built else " (not built)"
    else:
        setup = run.runner
    return ("deployable" if report.deployable else "blocked"), setup, report


def start_command(root: Path, report) -> str | None:
    """The command the entry deploysafe judged is started by (a Procfile's, a PM2 file's, package.json's),
    else package.json's production start command."""
    from deploysafe.check.fs import FileSystem
    from deploysafe.ecosystems.node.entries import production_command
    from deploysafe.ecosystems.node.packages import PackageJsonCache

    commands = [e.command for e in (report.entries if report is not None else []) if getattr(e, "command", None)]
    return commands[0] if commands else production_command(PackageJsonCache(FileSystem()).at(str(root)))


def build_command(root: Path) -> list[str]:
    """`npm run build`, or for a Yarn Plug'n'Play service the project's own yarn (`yarnPath`) running it."""
    if (root / ".pnp.cjs").is_file():
        config = (root / ".yarnrc.yml").read_text() if (root / ".yarnrc.yml").is_file() else ""
        found = re.search(r"^yarnPath:\s*(\S+)", config, re.M)
        if found:
            return ["node", str(root / found[1]), "run", "build"]
    return ["npm", "run", "build"]


def start(root: Path, wait: float, command: str | None) -> tuple[str, str]:
    """Run the production start command; (loads|crashes at load, the first load error line). In a Yarn
    Plug'n'Play service, package.json's scripts run as `yarn run` runs them: with NODE_OPTIONS loading
    .pnp.cjs (a Procfile's or PM2 file's command runs as written)."""
    if not command:
        return "loads", "no start command"
    env = {**os.environ, "NODE_ENV": "production", "PATH": f"{root / 'node_modules' / '.bin'}:{os.environ['PATH']}"}
    if (root / ".pnp.cjs").is_file() and not (root / "Procfile").is_file():
        env["NODE_OPTIONS"] = f"--require {root / '.pnp.cjs'}"
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            ["sh", "-c", command], cwd=root, stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True
        )
        deadline = time.monotonic() + wait
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    lines = [x.strip() for x in text.splitlines() if LOAD_ERRORS.search(x)]
    if lines:
        named = [x for x in lines if re.match(r"(\w*Error\b|\w+ \[ERR_)", x)]
        return "crashes at load", (named or lines)[0][:120]
    return "loads", ""


# ---- faults --------------------------------------------------------------------------------------------


def _entry_source(report) -> Path | None:
    """The entry as the user edits it: the TypeScript source of a built output."""
    entries = report.graph.entries if report.graph else []
    if not entries:
        return None
    run = report.typescript
    if run is not None and run.built and run.build is not None:
        source = run.build.source_of(entries[0])
        if source:
            return Path(source)
    return Path(entries[0])


def _prepend(path: Path, line: str) -> None:
    path.write_text(line + "\n" + path.read_text())


def rename_reachable(root: Path, report) -> str | None:
    """A module the entry loads renamed; for built output, its source renamed and the output removed
    (as a clean build would leave it)."""
    entries = set(report.graph.entries)
    run = report.typescript
    for module in report.graph.reachable_modules():
        path = Path(module.path)
        outside = root not in path.parents or "node_modules" in path.relative_to(root).parts
        if module.path in entries or module.source is None or outside:
            continue
        source = run.build.source_of(module.path) if run and run.built and run.build else None
        if source:
            Path(source).rename(Path(source).with_name("renamed-" + Path(source).name))
            path.unlink()
            return f"renamed {Path(source).relative_to(root)}"
        path.rename(path.with_name("renamed-" + path.name))
        return f"renamed {path.relative_to(root)}"
    return None


def extensionless_import(root: Path, report) -> str | None:
    entry = _entry_source(report)
    if entry is None:
        return None
    target = entry.with_name("bench-added.ts" if entry.suffix in (".ts", ".mts", ".cts") else "bench-added.js")
    target.write_text("export const added = 1;\n")
    _prepend(entry, "import './bench-added';")
    return "extensionless relative import"


def _line_added(line: str, name: str, typescript_only: bool = False) -> Callable[[Path, object], str | None]:
    """A fault that adds ``line`` at the top of the entry's source."""

    def fault(root: Path, report) -> str | None:
        entry = _entry_source(report)
        if entry is None or (typescript_only and entry.suffix not in (".ts", ".mts", ".cts", ".tsx")):
            return None
        _prepend(entry, line)
        return name

    fault.__name__ = name.split(" (")[0].replace(" ", "_")
    return fault


FAULTS: list[Callable[[Path, object], str | None]] = [
    rename_reachable,
    extensionless_import,
    _line_added("import 'bench-not-installed-package';", "missing package"),
    _line_added("import { type Nothing } from './bench-not-there';", "inline types only (must load)", True),
    _line_added("// import './bench-not-there.js';", "comment (must load)"),
]


def copy_service(source: Path, into: Path) -> Path:
    """A copy of the service with node_modules linked, not copied (faults never touch it)."""
    target = into / source.name
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("node_modules", ".git"))
    for folder in source.rglob("node_modules"):
        if "node_modules" in folder.relative_to(source).parts[:-1]:
            continue
        link = target / folder.relative_to(source)
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(folder, link)
    return target


def bench(service: Path, build: bool, wait: float) -> list[Case]:
    cases = []
    with tempfile.TemporaryDirectory() as scratch:
        clean = copy_service(service, Path(scratch) / "clean")
        verdict, setup, report = judge(clean)
        compiled = report is None or (report.typescript is not None and report.typescript.compiled)
        clean_builds = False
        if build and compiled:
            built = subprocess.run(build_command(clean), cwd=clean, capture_output=True)
            clean_builds = built.returncode == 0
            verdict, setup, report = judge(clean)
            # Output deploysafe does not trace to tsc (a bundler's) is judged, and faulted, as JavaScript.
            compiled = report is not None and report.typescript is not None and report.typescript.compiled
        command = start_command(clean, report)
        node, note = start(clean, wait, command)
        cases.append(Case(service.name, setup, "none", verdict, node, note))
        for fault in FAULTS if report is not None else []:
            broken = copy_service(clean, Path(scratch) / fault.__name__)
            applied = fault(broken, judge(broken)[2])
            if applied is None:
                continue
            if build and compiled:
                # A build that fails stops the deploy before node runs: neither verdict is reached (unless
                # the clean build fails too and emits all the same, as tsc does on type errors).
                built = subprocess.run(build_command(broken), cwd=broken, capture_output=True)
                if built.returncode != 0 and clean_builds:
                    cases.append(Case(service.name, setup, applied, "build fails", "not started"))
                    continue
            verdict, _, _ = judge(broken)
            node, note = start(broken, wait, command)
            cases.append(Case(service.name, setup, applied, verdict, node, note))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("services", type=Path)
    parser.add_argument("--service", action="append", help="only these folders of SERVICES")
    parser.add_argument(
        "--no-build", dest="build", action="store_false", help="do not run `npm run build` for compiled services"
    )
    parser.add_argument("--wait", type=float, default=8.0, help="seconds a start must survive to count as loaded")
    args = parser.parse_args()
    folders = sorted(p for p in args.services.iterdir() if (p / "package.json").is_file())
    if args.service:
        folders = [p for p in folders if p.name in args.service]
    if not folders:
        print(f"no services (folders with a package.json) in {args.services}", file=sys.stderr)
        return 2
    cases = [case for folder in folders for case in bench(folder, args.build, args.wait)]
    print("| service | setup | fault | deploysafe | node | verdict |")
    print("| --- | --- | --- | --- | --- | --- |")
    for c in cases:
        node = c.node + (f" ({c.note})" if c.note and c.node != "loads" else "")
        print(f"| {c.service} | {c.setup} | {c.fault} | {c.deploysafe} | {node} | {c.verdict} |")
    false_blocks = sum(c.verdict == "FALSE BLOCK" for c in cases)
    misses = sum(c.verdict == "MISS" for c in cases)
    stopped = sum(c.verdict == "build stops it" for c in cases)
    print(f"\n{len(folders)} services, {len(cases)} cases: {false_blocks} false blocks, {misses} misses", end="")
    print(f", {stopped} stopped by the build (not counted)" if stopped else "")
    return 1 if false_blocks or misses else 0


if __name__ == "__main__":
    sys.exit(main())
