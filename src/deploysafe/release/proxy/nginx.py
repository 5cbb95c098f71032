"""nginx: the include file holds one ``server host:port;`` line inside the user's ``upstream`` block, and
``nginx -t -q && nginx -s reload`` checks the configuration, then reloads it gracefully (new workers take
new connections, old ones finish the requests they have)."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


NGINX = Nginx()
