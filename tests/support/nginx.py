"""A real nginx (Debian's package) for tests: its own prefix in a temp dir, listening on 127.0.0.1 only,
proxying to the upstream servers a deploysafe include file names. Stopped (``nginx -s quit``) after."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

_CONF = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/tmp/body;
  proxy_temp_path {prefix}/tmp/proxy;
  fastcgi_temp_path {prefix}/tmp/fastcgi;
  uwsgi_temp_path {prefix}/tmp/uwsgi;
  scgi_temp_path {prefix}/tmp/scgi;
  upstream app {{ include {include}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


def nginx_missing() -> str | None:
    return None if Path(NGINX).exists() else "nginx is not installed (scripts/system-deps installs it)"


@dataclass
class Nginx:
    prefix: Path
    port: int
    include: Path

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    def command(self, *args: str) -> list[str]:
        return [NGINX, "-p", str(self.prefix), "-c", str(self.conf), *args]

    @property
    def reload(self) -> str:
        """The graceful reload deploysafe runs: check the configuration, then signal the master."""
        return f"{shlex.join(self.command('-t', '-q'))} && {shlex.join(self.command('-s', 'reload'))}"

    def route_by_hand(self, port: int) -> None:
        """Point the upstream at ``port`` as an operator would before deploysafe owns the include, and return
        once every worker that read the old include is gone: ``nginx -s reload`` returns before the master
        has replaced its workers, and an old one would still send a request to the old upstream."""
        old = self.workers()
        self.include.write_text(f"server 127.0.0.1:{port};\n")
        subprocess.run(self.reload, shell=True, check=True, timeout=30)
        deadline = time.monotonic() + 30
        while self.workers() & old:
            assert time.monotonic() < deadline, f"nginx's old workers {sorted(old)} never went away"
            time.sleep(0.05)

    def workers(self) -> set[int]:
        """The pids of the master's children now, from /proc."""
        master = (self.prefix / "nginx.pid").read_text().strip()
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if stat[stat.rindex(")") + 2 :].split()[1] == master:
                found.add(int(entry.name))
        return found

    def stop(self) -> None:
        subprocess.run(self.command("-s", "quit"), capture_output=True, timeout=30)
        pidfile = self.prefix / "nginx.pid"
        deadline = time.monotonic() + 10
        while pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def start_nginx(prefix: Path, port: int, include: Path) -> Nginx:
    """nginx on 127.0.0.1:``port``; until the first deploy writes ``include``, a placeholder stands in."""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    include.parent.mkdir(parents=True, exist_ok=True)
    if not include.exists():
        include.write_text("server 127.0.0.1:9 down;  # placeholder until the first deploy\n")
    server = Nginx(prefix, port, include)
    server.conf.write_text(_CONF.format(prefix=prefix, include=include, port=port))
    subprocess.run(server.command(), check=True, capture_output=True, timeout=30)
    return server
