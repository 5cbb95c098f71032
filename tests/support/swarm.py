"""A single-node Docker Swarm on loopback for the tests and bench/bench_swarm.py, and a bounded client that
counts failed requests to a service from inside the swarm (nothing is published on the host).

:func:`start_swarm` starts dockerd (tests/support/dockerd.py), runs ``docker swarm init`` on a spare
127.0.0.1 port (not 2377: another swarm on this machine may hold it) and creates the attachable overlay
network ``clients`` the service and the client share, with a random VXLAN id and subnet: two swarms on one
machine that pick the same id (each starts at 4096) fail to join their tasks ("error creating vxlan
interface: file exists"). It is ``--internal``: its containers get no leg on the host's docker_gwbridge,
which every dockerd on the machine shares. One swarm at a time per machine (a lock in /tmp): with two up,
the overlay network of the one started second carried no request (measured: every request timed out).
"""

from __future__ import annotations

import fcntl
import json
import secrets
import socket
from typing import IO

from tests.support.dockerd import Dockerd, start_dockerd

NETWORK = "clients"
LOCK = "/tmp/deploysafe-test-swarm.lock"
_LOCKS: dict[str, IO[str]] = {}


def start_swarm() -> Dockerd:
    """A swarm of its own; waits while another one (another test run, the bench) holds the machine's lock:
    with two swarms up, the second one's overlay network carries no traffic (every request times out)."""
    lock = open(LOCK, "a")  # noqa: SIM115 - held until stop_swarm
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        daemon = start_dockerd()
    except BaseException:
        lock.close()
        raise
    _LOCKS[str(daemon.folder)] = lock
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            address = f"127.0.0.1:{probe.getsockname()[1]}"
        init = daemon.docker("swarm", "init", "--advertise-addr", address, "--listen-addr", address)
        assert init.returncode == 0, init.stderr
        vni = f"com.docker.network.driver.overlay.vxlanid_list={secrets.randbelow(1 << 23) + 8192}"
        subnet = f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(256)}.0/24"
        made = daemon.docker(
            "network",
            "create",
            "--driver",
            "overlay",
            "--attachable",
            "--internal",
            "--subnet",
            subnet,
            "--opt",
            vni,
            NETWORK,
        )
        assert made.returncode == 0, made.stderr
    except BaseException:
        stop_swarm(daemon)
        raise
    return daemon


def stop_swarm(daemon: Dockerd) -> None:
    try:
        daemon.docker("swarm", "leave", "--force", timeout=60)  # its tasks go with it: dockerd then stops at once
        daemon.stop()
    finally:
        lock = _LOCKS.pop(str(daemon.folder), None)
        if lock is not None:
            lock.close()


# A bounded client: 20 requests a second to the service's name (DNS round robin over its running tasks, looked
# up per request), each with a 2 s timeout, until SIGTERM; then the counts as one JSON line.
LOAD = """
const http = require('http');
let ok = 0, failed = 0, stop = false; const errors = {};
const agent = new http.Agent({ keepAlive: false });
function one() {
  const q = http.get({ host: process.argv[1], port: 3000, path: '/health', agent, timeout: 2000 }, (r) => {
    r.resume(); r.on('end', () => { if (r.statusCode === 200) ok++; else { failed++; errors[r.statusCode] = 1; } });
  });
  q.on('timeout', () => q.destroy(new Error('timeout')));
  q.on('error', (e) => { failed++; errors[e.code || e.message] = (errors[e.code || e.message] || 0) + 1; });
}
const timer = setInterval(() => { if (!stop) one(); }, 50);
const finish = () => { stop = true; clearInterval(timer); setTimeout(() => { console.log(JSON.stringify({ ok, failed, errors })); process.exit(0); }, 2500); };
process.on('SIGTERM', finish);
setTimeout(finish, 300000);
"""


class Load:
    """The client, in a container on the service's overlay network (nothing is published on the host)."""

    def __init__(self, daemon: Dockerd, image: str, service: str) -> None:
        self.daemon = daemon
        started = daemon.docker(
            "run", "-d", "--network", NETWORK, "--entrypoint", "node", image, "-e", LOAD, service, timeout=120
        )
        assert started.returncode == 0, started.stderr
        self.container = started.stdout.strip()

    def stop(self) -> dict:
        self.daemon.docker("stop", "--time", "20", self.container, timeout=60)
        out = self.daemon.docker("logs", self.container).stdout.strip().splitlines()
        self.daemon.docker("rm", "--force", self.container)
        return json.loads(out[-1])
