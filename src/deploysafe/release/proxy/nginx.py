"""nginx: the include file holds one ``server host:port;`` line inside the user's ``upstream`` block, and
``nginx -t -q && nginx -s reload`` checks the configuration, then reloads it gracefully (new workers take
new connections, old ones finish the requests they have).

``nginx -s reload`` only signals the master and returns; the master reads the configuration and starts
new workers when it gets to it, and until then the old workers accept connections with the old upstream.
A reload has taken effect once every worker that ran before it is gone or retitled "worker process is
shutting down" (nginx retitles a worker when it stops accepting): :data:`WORKERS` lists the workers that
still accept, from their titles in /proc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# pid, parent pid and title of every process on the host, one per line: ps where it is installed, else /proc
WORKERS = (
    "ps -eo pid=,ppid=,args= 2>/dev/null || for d in /proc/[0-9]*; do "
    "read -r _ _ _ pp _ < \"$d/stat\" 2>/dev/null && t=$(tr '\\000' ' ' < \"$d/cmdline\" 2>/dev/null) && "
    'echo "${d#/proc/} $pp $t"; done'
)

_SERVER = re.compile(rb"^\s*server\s+[^\s;]+:(\d+)\s*;", re.MULTILINE)


@dataclass(frozen=True)
class Nginx:
    name: str = "nginx"
    reload: str = "nginx -t -q && nginx -s reload"

    def upstream(self, host: str, port: int, note: str) -> bytes:
        return f"# written by deploysafe at every switch: {note}\nserver {host}:{port};\n".encode()

    def routed(self, text: bytes) -> int | None:
        found = _SERVER.findall(text)
        return int(found[0]) if len(found) == 1 else None

    @property
    def workers_command(self) -> str:
        return WORKERS

    def accepting(self, listing: str) -> dict[int, int]:
        """Workers that still take new connections, in :data:`WORKERS` output: pid → its master's pid."""
        workers = {}
        for line in listing.splitlines():
            fields = line.split(None, 2)
            worker = len(fields) == 3 and fields[2].strip() == "nginx: worker process"
            if worker and fields[0].isdigit() and fields[1].isdigit():
                workers[int(fields[0])] = int(fields[1])
        return workers


NGINX = Nginx()
