"""A real Docker daemon for the tests: its data, state and socket under a short temporary folder, reachable
only through that unix socket (no TCP), no iptables rules written. ``stop`` ends it and removes the folder.

One test daemon per machine at a time (a lock in /tmp, held from start to stop): daemons share the host's
docker0 bridge and docker_gwbridge, and the suite runs in parallel workers."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DOCKERD = "/usr/sbin/dockerd"
LOCK = "/tmp/deploysafe-test-dockerd.lock"


def dockerd_missing() -> str | None:
    missing = [tool for tool in ("docker", "skopeo") if shutil.which(tool) is None]
    if shutil.which("dockerd") is None and not os.path.exists(DOCKERD):
        missing.append("dockerd")
    return f"{', '.join(missing)} not installed (docker.io, skopeo)" if missing else None


@dataclass
class Dockerd:
    folder: Path
    process: subprocess.Popen[bytes]
    lock: IO[str] | None = None  # the machine's test-daemon lock, released by stop

    @property
    def host(self) -> str:
        return f"unix://{self.folder / 'sock'}"

    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.host, "DEPLOYSAFE_ENGINE": "docker"}

    def docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **self.env()}
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # dockerd and the containerd it started
            self.process.wait(timeout=20)
        subprocess.run(["umount", "-R", str(self.folder / "data")], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def start_dockerd() -> Dockerd:
    lock = open(LOCK, "a")  # noqa: SIM115 - held until stop
    fcntl.flock(lock, fcntl.LOCK_EX)
    # Short: containerd's sockets live under exec-root, and a unix socket path has 108 bytes at most.
    folder = Path(tempfile.mkdtemp(prefix="dsd-", dir="/tmp"))
    log = open(folder / "log", "wb")  # noqa: SIM115 - dockerd writes it for its whole life
    process = subprocess.Popen(
        [
            DOCKERD if os.path.exists(DOCKERD) else "dockerd",
            "--data-root",
            str(folder / "data"),
            "--exec-root",
            str(folder / "x"),
            "--pidfile",
            str(folder / "pid"),
            "--host",
            f"unix://{folder / 'sock'}",
            "--iptables=false",
            "--ip-masq=false",
            "--ip-forward=false",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    daemon = Dockerd(folder, process, lock)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if (folder / "sock").exists() and daemon.docker("version", timeout=10).returncode == 0:
            return daemon
        time.sleep(0.3)
    tail = (folder / "log").read_text(errors="replace")[-2000:]
    daemon.stop()
    raise RuntimeError(f"dockerd did not answer within 60 s:\n{tail}")
