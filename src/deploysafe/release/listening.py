"""The TCP ports a started process tree listens on, read from the host's /proc (Linux).

The boot test starts a service in its own session (:mod:`deploysafe.release.boot`) and gives it a spare
``PORT``; many services ignore it and listen on a port of their own. To learn which port the booted
service really holds, one shell call on the host lists

- the processes whose session or process group is the boot process's pid (``/proc/<pid>/stat``),
- their socket inodes (``/proc/<pid>/fd/*`` links that read ``socket:[<inode>]``),
- the kernel's TCP tables (``/proc/net/tcp``, ``/proc/net/tcp6``),

and :func:`ports` keeps the local ports of LISTEN entries whose inode belongs to the tree. A host without
/proc, or processes whose fds cannot be read, give an empty set: the caller then knows nothing, not "none".
"""

from __future__ import annotations

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


def ports(target: Host, pid: int) -> set[int]:
    """The ports the processes of session/group ``pid`` listen on (empty when /proc cannot tell)."""
    done = target.run(["sh", "-c", _SCRIPT, "deploysafe-listening", str(pid)], timeout=15)
    return listening_ports(done.stdout) if done.ok else set()


def listening_ports(text: str) -> set[int]:
    """From the script's output: local ports of LISTEN rows of the TCP tables whose inode is listed."""
    inodes: set[str] = set()
    found: set[int] = set()
    rows: list[list[str]] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] == "inode":
            inodes.add(fields[1])
        elif len(fields) >= 10 and ":" in fields[1]:
            rows.append(fields)
    for fields in rows:
        if fields[3] != LISTEN or fields[9] not in inodes:
            continue
        try:
            found.add(int(fields[1].rsplit(":", 1)[1], 16))
        except ValueError:
            continue
    return found
