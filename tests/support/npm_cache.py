"""Real npm packages for tests, installed once per package.json and lockfile and reused by later runs.

Tests that take their ground truth from the platform (cjs-module-lexer, real published packages) need
those packages on disk. ``installed(name, package_json)`` installs them with ``npm ci --prefer-offline`` from
the committed lockfile ``tests/support/npm-locks/<name>-<hash of package.json>.json`` into
``~/.cache/deploysafe-tests/<name>-<hash>-<hash of the lockfile>`` the first time (npm's own cache, ~/.npm,
makes that offline once filled; CI restores both) and returns that folder after. Concurrent test processes
(pytest-xdist workers) take a file lock per folder: one installs, the others wait and reuse it. The same packages
therefore install every time, whatever the registry publishes later.

A package.json without a lockfile yet is installed with ``npm install`` and its lockfile written to
npm-locks/, to be committed; under CI that is an error instead. There is no skip: when npm cannot install,
the calling test fails with npm's own output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from filelock import FileLock

CACHE = Path(os.environ.get("DEPLOYSAFE_TEST_CACHE", Path.home() / ".cache" / "deploysafe-tests"))
LOCKS = Path(__file__).resolve().parent / "npm-locks"
_DONE = ".deploysafe-installed"
_TIMEOUT = 600


class NpmInstallError(RuntimeError):
    """npm could not install a test's packages; the message carries npm's output."""


def installed(name: str, package_json: dict) -> Path:
    """The folder holding ``package.json`` and its installed ``node_modules``, installing it if needed."""
    manifest = (json.dumps(package_json, indent=2) + "\n").encode()
    digest = hashlib.sha256(json.dumps(package_json, sort_keys=True).encode()).hexdigest()[:16]
    lock = LOCKS / f"{name}-{digest}.json"
    if not lock.is_file():
        if os.environ.get("CI"):
            raise NpmInstallError(
                f"no lockfile tests/support/npm-locks/{lock.name}: run this test locally and commit it"
            )
        with tempfile.TemporaryDirectory() as scratch:
            (Path(scratch) / "package.json").write_bytes(manifest)
            _npm(Path(scratch), "install", "--package-lock-only")
            LOCKS.mkdir(exist_ok=True)
            lock.write_bytes((Path(scratch) / "package-lock.json").read_bytes())  # recorded: commit it
    return npm_ci(f"{name}-{digest}", manifest, lock.read_bytes())


def npm_ci(name: str, manifest: bytes, lockfile: bytes) -> Path:
    """``npm ci`` of a package.json and its lockfile into ``CACHE/<name>-<hash of the lockfile>``, once."""
    target = CACHE / f"{name}-{hashlib.sha256(lockfile).hexdigest()[:16]}"
    if (target / _DONE).is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    # One installer at a time per target: pytest-xdist workers (and parallel runs) that need the same
    # packages wait for the first one's copy instead of each running npm ci on the same npm cache.
    with FileLock(CACHE / f".{target.name}.lock", timeout=_TIMEOUT * 2):
        if not (target / _DONE).is_file():
            _install(name, target, manifest, lockfile)
    return target


def _install(name: str, target: Path, manifest: bytes, lockfile: bytes) -> None:
    # Install beside the target and rename into place, so a crash or a parallel run never leaves half a tree.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE))
    try:
        (staging / "package.json").write_bytes(manifest)
        (staging / "package-lock.json").write_bytes(lockfile)
        _npm(staging, "ci", "--prefer-offline")
        (staging / _DONE).write_text("")
        try:
            staging.rename(target)
        except OSError:  # another run finished first; use its copy
            if not (target / _DONE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _npm(folder: Path, *args: str) -> None:
    command = ["npm", *args, "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NpmInstallError(f"{' '.join(command)} in {folder}: {err}") from err
    if done.returncode != 0:
        raise NpmInstallError(f"{' '.join(command)} in {folder} failed:\n{done.stdout}\n{done.stderr}")


def project(root: Path, name: str, package_json: dict, files: dict[str, str]) -> Path:
    """A service at ``root``: ``files`` written, the installed package.json and lockfile copied beside them, and
    the installed node_modules linked in (a symlink, as pnpm and npm link do)."""
    packages = installed(name, package_json)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    shutil.copy(packages / "package.json", root / "package.json")
    shutil.copy(packages / "package-lock.json", root / "package-lock.json")
    (root / "node_modules").symlink_to(packages / "node_modules")
    return root


def installed_once(name: str, tree: dict, command: list[str], env: dict[str, str]) -> Path:
    """``tree`` installed by ``command`` (a real package manager) into the tests' cache, once per tree: later
    runs reuse it. Installed beside its place and renamed in, so a failed or parallel run leaves no half tree."""
    from tests.support.projects import write_tree
    from tests.support.tools import run_command as run

    digest = hashlib.sha256(repr(sorted(tree.items())).encode()).hexdigest()[:16]
    cached = CACHE / f"{name}-{digest}"
    if cached.is_dir():
        return cached
    staging = write_tree(CACHE / f".{name}-{digest}-{os.getpid()}", tree)
    try:
        done = run(staging, *command, env=env)
        if done.returncode != 0:
            raise NpmInstallError(f"{' '.join(command)} in {staging} failed:\n{done.stdout}\n{done.stderr}")
        staging.rename(cached)
    except OSError:  # another run finished first
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cached
