"""A real OpenSSH sshd on 127.0.0.1 for tests: throwaway host key, throwaway client key, known_hosts.

Needs ``openssh-server`` (``/usr/sbin/sshd``) and to run as root (``UsePAM no``, ``StrictModes no``).

    server = start_sshd(tmp_path / "sshd")
    server.url("/srv/app")          # ssh://root@127.0.0.1:PORT/srv/app
    server.known_hosts, server.key  # paths to hand to the client
    server.stop()

Pytest: ``sshd`` (one server per session) and ``sshd_factory`` (fresh servers, stopped after the test)
live in tests/conftest.py.

Every SSH command runs through the user's login shell. Debian's bash sources ``~/.bashrc`` for commands
sent by sshd, and this machine's root ``.bashrc`` runs ``pyenv init`` (0.1-0.3 s per command, dozens of
commands per deploy). The test server sets ``SHLVL=1`` in its sessions, which makes bash skip that file:
the tests then time deploysafe, not pyenv. deploysafe itself assumes nothing about the remote shell.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import reserve_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def sshd_missing() -> str | None:
    """Why a real sshd cannot run here, or None when it can."""
    if not os.path.exists(SSHD):
        return "openssh-server is not installed (apt-get install -y openssh-server)"
    if shutil.which("ssh-keygen") is None:
        return "ssh-keygen is not installed (apt-get install -y openssh-client)"
    if os.geteuid() != 0:
        return "a test sshd needs root"
    return None


def free_port() -> int:
    """A port no other test will be given (see :mod:`tests.support.ports`)."""
    return reserve_port()


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploysafe-test", "-f", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return Path(f"{path}.pub").read_text().strip()


@dataclass
class Sshd:
    host: str
    port: int
    user: str
    key: Path
    known_hosts: Path
    host_public_key: str
    workdir: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def url(self, path: str, port: int | None = None) -> str:
        return f"ssh://{self.user}@{self.host}:{port or self.port}{path}"

    def known_hosts_line(self, port: int | None = None) -> str:
        return f"[{self.host}]:{port or self.port} {self.host_public_key}\n"

    def write_known_hosts(self, path: Path, *ports: int) -> Path:
        """A known_hosts file trusting this server's key on ``ports`` (default: its own port)."""
        path.write_text("".join(self.known_hosts_line(p) for p in (ports or (self.port,))))
        return path

    @property
    def log(self) -> str:
        try:
            return (self.workdir / "sshd.log").read_text()
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_sshd(workdir: Path, *, port: int | None = None, max_sessions: int = 10) -> Sshd:
    """Start sshd in the foreground on 127.0.0.1 and wait until it answers with its banner."""
    missing = sshd_missing()
    if missing:
        raise RuntimeError(missing)
    workdir.mkdir(parents=True, exist_ok=True)
    os.makedirs("/run/sshd", exist_ok=True)
    host_key = workdir / "host_ed25519"
    client_key = workdir / "client_ed25519"
    host_pub = _keygen(host_key)
    client_pub = _keygen(client_key)
    (workdir / "authorized_keys").write_text(client_pub + "\n")
    user = getpass.getuser()
    for _attempt in range(5):
        chosen = port or free_port()
        config = workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {chosen}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"PidFile {workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    "StrictModes no",
                    "UseDNS no",
                    "AllowTcpForwarding yes",
                    f"MaxSessions {max_sessions}",
                    "MaxStartups 100",
                    "Subsystem sftp internal-sftp",
                    "LogLevel ERROR",
                    "SetEnv SHLVL=1",
                    "",
                ]
            )
        )
        log = open(workdir / "sshd.log", "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", chosen), timeout=1) as sock:
                    if sock.recv(64).startswith(b"SSH-"):
                        known = workdir / "known_hosts"
                        known.write_text(f"[127.0.0.1]:{chosen} {host_pub}\n")
                        return Sshd("127.0.0.1", chosen, user, client_key, known, host_pub, workdir, process)
            except OSError:
                time.sleep(0.05)
        if process.poll() is None:
            process.kill()
        process.wait()
        if port:
            break
    raise RuntimeError(f"sshd did not start: {(workdir / 'sshd.log').read_text()[-500:]}")
