"""Where a target is: a directory on this machine, or a directory on an SSH host — from a ``[targets.NAME]``
table's ``host`` and ``path``, or from an ``ssh://user@host[:port]/path`` URL. Release and drift both
locate targets this way; neither needs the other to do it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from deploysafe.hosts.ssh import SshAddress, parse_ssh_url


@dataclass(frozen=True)
class Location:
    url: str  # what messages show: the directory, or ssh://user@host:port/path
    path: str  # absolute on the host
    ssh: SshAddress | None = None  # None: this machine


def of_table(host: str | None, path: str) -> Location:
    """A ``[targets]`` table's ``host`` (``ssh://user@host[:port]`` or ``user@host``; none for here) and ``path``."""
    if host:
        url = host if host.startswith("ssh://") else f"ssh://{host}"
        address = parse_ssh_url(url.rstrip("/") + "/", path)
        return Location(address.url, address.path, address)
    local = os.path.abspath(os.path.expanduser(path))
    return Location(local, local)


def of_url(url: str) -> Location:
    """An ``ssh://user@host[:port]/path`` URL."""
    address = parse_ssh_url(url)
    return Location(address.url, address.path, address)
