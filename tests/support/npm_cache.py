"""Real npm packages for tests, installed once per package.json and reused by later runs.

Tests that take their ground truth from the platform (cjs-module-lexer, real published packages) need
those packages on disk. ``installed`` runs ``npm install`` into
``~/.cache/deploysafe-tests/<name>-<hash of package.json>`` the first time and returns that folder after.
There is no skip: when npm cannot install, the calling test fails with npm's own output.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("DEPLOYSAFE_TEST_CACHE", Path.home() / ".cache" / "deploysafe-tests"))
_DONE = ".deploysafe-installed"
_TIMEOUT = 600


class NpmInstallError(RuntimeError):
    """npm could not install a test's packages; the message carries npm's output."""


def installed(name: str, package_json: dict) -> Path:
    """The folder holding ``package.json`` and its installed ``node_modules``, installing it if needed."""
    digest = hashlib.sha256(json.dumps(package_json, sort_keys=True).encode()).hexdigest()[:16]
    target = CACHE / f"{name}-{digest}"
    if (target / _DONE).is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    # Install beside the target and rename into place, so a crash or a parallel run never leaves half a tree.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE))
    try:
        (staging / "package.json").write_text(json.dumps(package_json, indent=2) + "\n")
        _npm_install(staging)
        (staging / _DONE).write_text("")
        try:
            staging.rename(target)
        except OSError:  # another run finished first; use its copy
            if not (target / _DONE).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _npm_install(folder: Path) -> None:
    command = ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NpmInstallError(f"{' '.join(command)} in {folder}: {err}") from err
    if done.returncode != 0:
        raise NpmInstallError(f"{' '.join(command)} in {folder} failed:\n{done.stdout}\n{done.stderr}")
