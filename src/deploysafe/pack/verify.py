"""``deploysafe verify ARTIFACT``: is the artifact intact, safe and self-contained?

unpack safely (every name, type, size and sha256 checked by :mod:`deploysafe.artifact`)
  ->  optionally install production dependencies from the packed lockfile
  ->  run ``check`` on the unpacked tree with the manifest's entries and Node version
  ->  verdict: self-contained when check finds no error there. A package imported without being declared
      that the packed lockfile installs at the top level (hoisted) is present on the host, as it was for
      ``check`` of the tree: it stays a warning, never an error (:mod:`deploysafe.pack.lockfile`).

Without ``install``, imports of packages the packed package.json declares are reported as awaiting
install (they are not errors: the host installs them from the lockfile); with it, they are checked.

The unpacked tree lives in a folder named for the run's process id (on a RAM disk when it has room); a run
killed before its cleanup leaves it behind, and the next verify removes every such folder whose process is
gone.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploysafe import artifact as artifacts
from deploysafe.check.findings import Finding
from deploysafe.check.pipeline import Report, check
from deploysafe.check.resolution import PACKAGE_NOT_FOUND, Unresolved
from deploysafe.errors import ConfigError, DeploysafeError
from deploysafe.pack import lockfile
from deploysafe.pack.errors import PackError

MISSING_PACKAGE = "missing-package"

_INSTALL_TIMEOUT = 900.0
_RAM_DISK = "/dev/shm"
_SCRATCH_PREFIX = "deploysafe-verify-"


@dataclass
class VerifyResult:
    artifact: Path
    manifest: artifacts.Manifest
    report: Report | None  # check of the unpacked tree (None when it could not run)
    installed: str | None = None  # what installed dependencies ("npm ci --omit=dev", "packed node_modules")
    awaiting_install: list[str] = field(default_factory=list)  # packages to come from the lockfile
    problems: list[str] = field(default_factory=list)  # why it is not self-contained, beyond check errors
    missing_assets: list[str] = field(default_factory=list)  # literal paths the code reads, not in the artifact
    # Imported, not declared, but installed at the top level by the packed lockfile (hoisted): warnings.
    undeclared_from_lockfile: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        """The check's errors that stop the artifact: a missing package the lockfile installs is not one."""
        if self.report is None:
            return []
        hoisted = set(self.undeclared_from_lockfile)
        return [
            f
            for f in self.report.errors
            if not (f.rule == MISSING_PACKAGE and f.specifier and lockfile.package_of(f.specifier) in hoisted)
        ]

    @property
    def self_contained(self) -> bool:
        return not self.problems and self.report is not None and not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.self_contained else 1

    def to_json(self) -> dict[str, Any]:
        report = self.report
        return {
            "version": 1,
            "artifact": str(self.artifact),
            "id": self.manifest.id,
            "content_sha256": self.manifest.content_sha256,
            "files": len(self.manifest.files),
            "hashes": "ok",
            "self_contained": self.self_contained,
            "installed": self.installed,
            "awaiting_install": self.awaiting_install,
            "problems": self.problems,
            "missing_assets": self.missing_assets,
            "undeclared_from_lockfile": self.undeclared_from_lockfile,
            "errors": [f.to_json() for f in self.errors],
            "check": report.to_json() if report is not None else None,
            "seconds": round(self.seconds, 3),
        }


def verify(
    artifact: str | os.PathLike[str],
    *,
    install: bool = False,
    into: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyResult:
    """Unpack ``artifact`` into a temporary folder (or ``into``, left in place) and judge it."""
    started = time.perf_counter()
    path = Path(artifact)
    if not path.is_file():
        raise ConfigError(f"{path}: no such artifact")
    if into is not None:
        work = Path(into)
        if work.exists() and (not work.is_dir() or any(work.iterdir())):
            raise ConfigError(f"{work}: not an empty folder; verify unpacks into an empty or new one")
    else:
        size = 0 if install else artifacts.read_manifest(path).total_size
        parent = (_scratch_parent(size) if size else None) or tempfile.gettempdir()
        _sweep_scratch(parent)
        work = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-", dir=parent))
    try:
        manifest = artifacts.extract(path, work, progress)
        result = VerifyResult(path, manifest, None)
        _entries_present(manifest, result)
        if install:
            _install(work, manifest, result)
        if not result.problems:
            result.report = _check(work, manifest)
            _judge(work, manifest, result)
        result.seconds = time.perf_counter() - started
        return result
    finally:
        if into is None:
            shutil.rmtree(work, ignore_errors=True)


def _sweep_scratch(parent: str) -> None:
    """Remove the unpacked trees that verify runs killed before their cleanup left in ``parent`` (the
    folder is named for its run's process id; one whose process is gone is left over)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(_SCRATCH_PREFIX):
            continue
        pid = name[len(_SCRATCH_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def _scratch_parent(size: int) -> str | None:
    """A RAM-backed folder for the unpacked tree when one has room (creating files on a disk costs ~10x
    more), unless TMPDIR says where temporary files go. None: the default temporary folder."""
    if os.environ.get("TMPDIR"):
        return None
    try:
        free = os.statvfs(_RAM_DISK)
    except OSError:
        return None
    if not os.access(_RAM_DISK, os.W_OK | os.X_OK) or size * 4 > free.f_bavail * free.f_frsize:
        return None
    return _RAM_DISK


def _entries_present(manifest: artifacts.Manifest, result: VerifyResult) -> None:
    for entry in manifest.entries:
        if manifest.file(entry) is None:
            result.problems.append(f"the manifest's entry {entry} is not in the artifact")
    if not manifest.entries:
        result.problems.append("the manifest names no entries")


def install_command(manifest: artifacts.Manifest) -> list[str]:
    """What a host runs to install production dependencies from the packed lockfile."""
    lock = manifest.lockfile
    if lock == "yarn.lock":
        return ["yarn", "install", "--frozen-lockfile", "--production", "--non-interactive"]
    if lock == "pnpm-lock.yaml":
        return ["pnpm", "install", "--frozen-lockfile", "--prod"]
    if lock in ("package-lock.json", "npm-shrinkwrap.json"):
        return ["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"]
    return ["npm", "install", "--omit=dev", "--no-audit", "--no-fund", "--no-package-lock"]


def _install(work: Path, manifest: artifacts.Manifest, result: VerifyResult) -> None:
    if manifest.file("package.json") is None:
        return
    if any(f.path.startswith("node_modules/") for f in manifest.files):
        result.installed = "packed node_modules"
        return
    command, problem = install_production(work, manifest)
    if problem:
        result.problems.append(problem)
        return
    result.installed = command


def install_production(work: Path, manifest: artifacts.Manifest) -> tuple[str, str | None]:
    """Run the host's install command in ``work``: (the command, why it failed or None)."""
    command = install_command(manifest)
    try:
        done = subprocess.run(
            command, cwd=work, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError as err:
        raise PackError(f"installing needs {command[0]}, which is not on PATH") from err
    except subprocess.TimeoutExpired as err:
        raise PackError(f"`{' '.join(command)}` did not finish in {_INSTALL_TIMEOUT:.0f} s") from err
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return " ".join(command), f"`{' '.join(command)}` failed (exit {done.returncode}): {' | '.join(tail)}"
    return " ".join(command), None


def _check(work: Path, manifest: artifacts.Manifest) -> Report | None:
    node = manifest.raw.get("node")
    version = node.get("version") if isinstance(node, dict) and isinstance(node.get("version"), str) else None
    try:
        return check(work, list(manifest.entries) or None, node_version=version)
    except DeploysafeError as err:
        raise PackError(f"check of the unpacked artifact failed: {err}") from err


def _judge(work: Path, manifest: artifacts.Manifest, result: VerifyResult) -> None:
    report = result.report
    if report is None or report.graph is None:
        return
    graph = report.graph
    excluded = {
        item.get("path")
        for item in manifest.raw.get("excluded", [])
        if isinstance(item, dict) and isinstance(item.get("path"), str)
    }
    awaiting: set[str] = set()
    missing: set[str] = set()
    for module in graph.reachable_modules():
        for edge in module.edges:
            res = edge.resolution
            if isinstance(res, Unresolved) and res.reason == PACKAGE_NOT_FOUND and res.package:
                awaiting.add(res.package)
        if module.source is None:
            continue
        rel = graph.rel(module.path)
        for ref in module.source.facts.assets:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), ref.path))
            if target.startswith("../") or target in excluded or target.split("/", 1)[0] == "node_modules":
                continue
            if not os.path.lexists(work / target):
                missing.add(f"{rel}:{ref.line} reads {target}")
    installs = lockfile.production_top_level(work)
    hoisted = {
        lockfile.package_of(f.specifier)
        for f in report.errors
        if f.rule == MISSING_PACKAGE and f.specifier and lockfile.package_of(f.specifier) in installs
    }
    result.undeclared_from_lockfile = sorted(hoisted)
    errors = {f.specifier for f in result.errors if f.specifier}
    result.awaiting_install = sorted(awaiting - errors)
    result.missing_assets = sorted(missing)
