"""A real pm2 from npm for tests, in a cache directory, with PM2_HOME in a temp dir and killed after.

pm2 comes with the test tools (tests/support/tools.py: ``npm ci`` from tests/tools' lockfile, once, into
``$DEPLOYSAFE_TEST_CACHE``, default ~/.cache/deploysafe-tests).
Every pm2 command runs with ``PM2_HOME`` set: even ``pm2 --version`` starts a daemon in ~/.pm2 otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.tools import tools_dir


def pm2_missing() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for pm2"
    return None


def install_pm2() -> Path:
    """The pm2 binary of the test tools (pinned with its dependencies by tests/tools' lockfile)."""
    return tools_dir() / "node_modules" / ".bin" / "pm2"


@dataclass
class Pm2:
    binary: Path
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {"PM2_HOME": str(self.home)}

    def run(self, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            cwd=cwd,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def processes(self) -> list[dict]:
        """name, status, pid of each process; never the environment pm2 jlist also prints."""
        out = self.run("jlist").stdout
        start = out.find("[")
        raw = json.loads(out[start:]) if start >= 0 else []
        return [{"name": p["name"], "status": p["pm2_env"]["status"], "pid": p["pid"]} for p in raw]

    def kill(self) -> None:
        if (self.home / "pm2.pid").exists() or (self.home / "rpc.sock").exists():
            self.run("kill", check=False)


def start_pm2(home: Path) -> Pm2:
    home.mkdir(parents=True, exist_ok=True)
    return Pm2(install_pm2(), home)
