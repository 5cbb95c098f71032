"""Hosts: where drift reads a tree and a release lands, behind one synchronous interface.

- :mod:`.base`: the :class:`Host` protocol (file operations, ``run`` → :class:`Completed`), the one
  command result type, :func:`run_configured` for the user's own command strings, :func:`check_inside`.
- :mod:`.local`: :class:`LocalHost`, a directory on this machine.
- :mod:`.ssh`: :class:`SshHost`, a directory on another machine over SSH (host keys verified, every
  argument quoted, a channel cap, SFTP uploads).

Nothing here knows about releases, inventories or artifacts beyond unpacking one; release/, drift/ and the
CLI open a host with :func:`open_host`.
"""

from __future__ import annotations

from deploysafe.hosts.base import Completed, Host, ProgressFn, check_inside, run_configured
from deploysafe.hosts.local import LocalHost
from deploysafe.hosts.ssh import SshAddress, SshHost, parse_ssh_url

__all__ = [
    "Completed",
    "Host",
    "LocalHost",
    "ProgressFn",
    "SshAddress",
    "SshHost",
    "check_inside",
    "open_host",
    "parse_ssh_url",
    "run_configured",
]


def open_host(
    path: str,
    ssh: SshAddress | None = None,
    *,
    known_hosts: str | None = None,
    identity: str | None = None,
    trust_new_host_key: bool = False,
) -> Host:
    """A directory here (``ssh`` None) or on the host ``ssh`` names, connected and its key checked."""
    if ssh is None:
        return LocalHost(path)
    return SshHost(ssh, known_hosts=known_hosts, identity=identity, trust_new_host_key=trust_new_host_key)
