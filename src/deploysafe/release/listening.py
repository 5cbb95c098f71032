"""The TCP ports a started process tree listens on, read from the host's /proc (Linux).

The boot test starts a service in its own session (:mod:`deploysafe.release.boot`) and gives it a spare
``PORT``; many services ignore it and listen on a port of their own. To learn which port the booted
service really holds, one shell call on the host lists

- the processes whose session or process group is the boot process's pid (``/proc/<pid>/stat``),
- their socket inodes (``/proc/<pid>/fd/*`` links that read ``socket:[<inode>]``),
- the kernel's TCP tables (``/proc/net/tcp``, ``/proc/net/tcp6``),

and :func:`ports` keeps the local ports of LISTEN entries whose inode belongs to the tree, beside every
port something on the host listens on (a start command may hand the server to a process outside its
session). A host without /proc, or processes whose fds cannot be read, give empty sets: the caller then
knows nothing, not "none".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deploysafe.hosts.base import Host
from deploysafe.release.proxy.drain import LISTEN

# Prints "inode <n>" for every socket of the processes in session/group $1, then the TCP tables.
_SCRIPT = r"""
SID=$1
for f in /proc/[0-9]*/stat; do
  read -r line <"$f" 2>/dev/null || continue
  rest=${line##*) }
  set -- $rest
  [ "$3" = "$SID" ] || [ "$4" = "$SID" ] || continue
  dir=${f%/stat}
  for fd in "$dir"/fd/*; do
    link=$(readlink "$fd" 2>/dev/null) || continue
    case $link in socket:\[*\]) link=${link#socket:[}; echo "inode ${link%]}";; esac
  done
done
cat /proc/net/tcp /proc/net/tcp6 2>/dev/null
exit 0
"""


@dataclass
class Listening:
    tree: set[int] = field(default_factory=set)  # ports the process tree listens on
    host: set[int] = field(default_factory=set)  # ports anything on the host listens on


def ports(target: Host, pid: int) -> Listening:
    """The ports the processes of session/group ``pid`` listen on, and all the host listens on."""
    done = target.run(["sh", "-c", _SCRIPT, "deploysafe-listening", str(pid)], timeout=15)
    return listening_ports(done.stdout) if done.ok else Listening()


def listening_ports(text: str) -> Listening:
    """From the script's output: local ports of the TCP tables' LISTEN rows, those whose inode is listed
    apart."""
    inodes: set[str] = set()
    rows: list[list[str]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "inode":
            inodes.add(fields[1])
        elif len(fields) >= 10 and ":" in fields[1]:
            rows.append(fields)
    found = Listening()
    for fields in rows:
        if fields[3] != LISTEN:
            continue
        try:
            port = int(fields[1].rsplit(":", 1)[1], 16)
        except ValueError:
            continue
        found.host.add(port)
        if fields[9] in inodes:
            found.tree.add(port)
    return found
