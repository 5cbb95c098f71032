"""Running node and deploysafe as the unprivileged user a service runs as (uid/gid 65534, util-linux's
setpriv), for what root never sees: files and folders it may not read or list. Root reads everything, so
when the tests run as root each command is started through setpriv; otherwise as it is."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A folder the other user can enter (pytest's temp folders are private to root), removed afterwards."""
    shared = Path(tempfile.mkdtemp(prefix="deploysafe-perm-"))
    shared.chmod(0o755)
    try:
        yield shared
    finally:
        for folder, dirs, _ in os.walk(shared):  # a test may have left a folder closed
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)
        shutil.rmtree(shared)


def _as_other_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    assert shutil.which("setpriv"), "setpriv (util-linux) is needed to run the service as another user"
    return NOBODY


def node(root: Path, entry: str) -> subprocess.CompletedProcess:
    """node ``entry`` in ``root``, as the other user."""
    return subprocess.run([*_as_other_user(), "node", entry], cwd=root, capture_output=True, text=True, timeout=60)


def deploysafe_check(shared: Path, root: Path, *args: str) -> subprocess.CompletedProcess:
    """`deploysafe check ROOT ARGS` as the other user, with no cache (its home is ``shared``)."""
    return subprocess.run(
        [*_as_other_user(), sys.executable, "-m", "deploysafe", "check", str(root), *args, "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(shared), "DEPLOYSAFE_NO_CACHE": "1"},
        cwd=shared,
    )
