"""Processes the engine starts on the host: the boot test's throwaway service, and a spare port for it.

The spare port is one the kernel hands out for port 0 on 127.0.0.1 when the host is this machine (asked
from Python). Over SSH, :func:`launch_on_a_free_port` picks it in the launch command itself: a random port
that no socket in ``/proc/net/tcp``/``tcp6`` holds, else (no ``/proc``) the kernel's pick through the host's
``node``.

The boot process runs in its own session (``setsid``) so the whole group can be stopped, and its pid is
recorded in ``.deploysafe/boot.pid`` so that a run killed mid-test leaves nothing the next run cannot
find and stop. A process counts as alive only if it exists and is not a zombie (some hosts' pid 1 never
reaps orphans).
"""

from __future__ import annotations

import socket
from collections.abc import Mapping

from deploysafe.errors import TargetError
from deploysafe.hosts.base import Host
from deploysafe.hosts.local import LocalHost

_LAUNCH = 'setsid sh -c "$1" </dev/null >"$2" 2>&1 & echo $! >"$3"; echo $!'

# Succeeds while any non-zombie process is in process group $1.
_GROUP_ALIVE = r"""
group_alive() {
  for f in /proc/[0-9]*/stat; do
    read -r line <"$f" 2>/dev/null || continue
    rest=${line##*) }
    set -- $rest
    [ "$1" != Z ] && [ "$3" = "$PG" ] && return 0
  done
  return 1
}
"""

_STOP = (
    _GROUP_ALIVE
    + r"""
PG=$1
kill -s TERM -- "-$PG" 2>/dev/null || true
i=0
while group_alive && [ "$i" -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
if group_alive; then kill -s KILL -- "-$PG" 2>/dev/null || true; fi
[ -n "$3" ] && rm -f -- "$3"
exit 0
"""
)

_FREE_PORT_JS = (
    "const s=require('net').createServer();"
    "s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
)


# Prints a random port in 30000-49999 that no TCP socket holds now (by /proc/net/tcp and tcp6); fails without /proc.
_PICK_PORT = r"""
pick_port() {
  used=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'NR > 1 { n = split($2, a, ":"); print a[n] }') || return 1
  [ -n "$used" ] || return 1
  used=" $(echo $used) "
  tries=0
  while [ "$tries" -lt 50 ]; do
    p=$(( $(od -An -N2 -tu2 /dev/urandom) % 20000 + 30000 ))
    case "$used" in *" $(printf '%04X' "$p") "*) ;; *) echo "$p"; return 0 ;; esac
    tries=$((tries + 1))
  done
  return 1
}
"""

_LAUNCH_ON_A_FREE_PORT = (
    _PICK_PORT
    + r"""
PORT=$(pick_port) || PORT=$(node -e "$4") || exit 3
export PORT
setsid sh -c "$1" </dev/null >"$2" 2>&1 & echo $! >"$3"; echo "$PORT $!"
"""
)


def launch_on_a_free_port(
    target: Host, command: str, *, cwd: str, env: Mapping[str, str], log: str, pidfile: str
) -> tuple[int, int]:
    """:func:`launch` with ``PORT`` a port free on the host now; its pid and that port. On this machine
    the port comes from Python; over SSH the launch command picks it (no extra command, no node start)."""
    if isinstance(target, LocalHost):
        port = free_port(target)
        return launch(target, command, cwd=cwd, env={**env, "PORT": str(port)}, log=log, pidfile=pidfile), port
    argv = ["sh", "-c", _LAUNCH_ON_A_FREE_PORT, "deploysafe-boot", command, log, pidfile, _FREE_PORT_JS]
    done = target.run(argv, cwd=cwd, env=env, timeout=30)
    done.check("starting the boot test on a free port")
    try:
        port, pid = (int(word) for word in done.stdout.strip().splitlines()[-1].split())
    except (ValueError, IndexError) as err:
        raise TargetError(f"starting the boot test printed no port and pid: {done.tail(2)!r}") from err
    return pid, port


def launch(target: Host, command: str, *, cwd: str, env: Mapping[str, str], log: str, pidfile: str) -> int:
    done = target.run(["sh", "-c", _LAUNCH, "deploysafe-boot", command, log, pidfile], cwd=cwd, env=env, timeout=30)
    done.check("starting the boot test")
    try:
        return int(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as err:
        raise TargetError(f"starting the boot test printed no pid: {done.tail(2)!r}") from err


def alive(target: Host, pid: int) -> bool:
    done = target.run(["cat", f"/proc/{pid}/stat"], timeout=15)
    if not done.ok:
        return False
    rest = done.stdout.rsplit(")", 1)[-1].split()
    return bool(rest) and rest[0] != "Z"


def stop(target: Host, pid: int, *, pidfile: str = "", grace: float = 5.0) -> None:
    """TERM the process group, KILL it after ``grace`` seconds, remove the pidfile."""
    ticks = str(max(int(grace * 10), 1))
    target.run(["sh", "-c", _STOP, "deploysafe-stop", str(pid), ticks, pidfile], timeout=grace + 15)


def stop_leftover(target: Host, pidfile: str) -> int | None:
    """Stop a boot process a killed run left behind; return its pid if there was one."""
    data = target.read_file(pidfile)
    if not data:
        return None
    try:
        pid = int(data.decode().strip())
    except ValueError:
        target.remove(pidfile)
        return None
    stop(target, pid, pidfile=pidfile, grace=2.0)
    return pid


def free_port(target: Host) -> int:
    """A port free on the host's 127.0.0.1 now (no process starts for a local host)."""
    if isinstance(target, LocalHost):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    done = target.run(["node", "-e", _FREE_PORT_JS], timeout=30).check("finding a free port with node")
    try:
        return int(done.stdout.strip())
    except ValueError as err:
        raise TargetError(f"node printed no port: {done.tail(1)!r}") from err
