"""Blue/green behind a reverse proxy: which port the proxy sends traffic to, and how it is changed.

deploysafe owns one small file the proxy includes (``proxy_include``, default ``.deploysafe/upstream.conf``
under the target's root) naming the one server that takes traffic, and runs the proxy's graceful reload
(``proxy_reload``) after rewriting it. The proxy's own configuration stays the user's: nginx includes the
file inside its ``upstream`` block::

    upstream api { include /srv/api/.deploysafe/upstream.conf; keepalive 16; }

A :class:`Proxy` knows the file's text and the reload; :mod:`.nginx` is the first. Caddy or HAProxy follow
by one module each (their include text and reload command) and one line in :data:`PROXIES`.
"""

from __future__ import annotations

import posixpath
import time
from typing import Protocol

from deploysafe.errors import ConfigError
from deploysafe.hosts.base import Host, run_configured
from deploysafe.release.proxy import nginx
from deploysafe.release.run import StepFailed
from deploysafe.release.spec import TargetSpec
from deploysafe.report.failure import format_report


class Proxy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def reload(self) -> str:
        """The default graceful reload (checking the configuration first)."""
        ...

    def upstream(self, host: str, port: int, note: str) -> bytes:
        """The include file's text routing all traffic to ``host:port``."""
        ...

    def routed(self, text: bytes) -> int | None:
        """The port an include file of this proxy routes to (None: none, or not written by deploysafe)."""
        ...

    @property
    def workers_command(self) -> str:
        """A shell command listing the host's processes, for :meth:`accepting`."""
        ...

    def accepting(self, listing: str) -> dict[int, int]:
        """The proxy's processes that take new connections (pid → master pid) in that listing."""
        ...


RELOAD_SETTLE = 10.0  # seconds a reload may take to reach the proxy's workers before the run goes on


PROXIES: dict[str, Proxy] = {"nginx": nginx.NGINX}


def of(spec: TargetSpec) -> Proxy:
    proxy = PROXIES.get(spec.proxy or "")
    if proxy is None:
        raise ConfigError(f"unknown proxy {spec.proxy!r} (known: {', '.join(PROXIES)})")
    return proxy


def include_path(spec: TargetSpec) -> str:
    path = spec.proxy_include
    return path if path.startswith("/") else posixpath.join(spec.layout.root, path)


def reload_command(spec: TargetSpec) -> str:
    return spec.proxy_reload or of(spec).reload


def routed_port(target: Host, spec: TargetSpec) -> int | None:
    """The port the include file sends traffic to now (None when there is no file yet)."""
    data = target.read_file(include_path(spec))
    return of(spec).routed(data) if data else None


def route(target: Host, spec: TargetSpec, host: str, port: int, note: str) -> None:
    """Rewrite the include file (one rename) to ``host:port``, reload the proxy gracefully and wait until
    the reload has reached its workers (:func:`_settle`); a reload that fails puts the file back as it was,
    so that the next reload cannot switch by surprise."""
    path = include_path(spec)
    before = target.read_file(path)
    target.mkdir(posixpath.dirname(path))
    target.write_file(path, of(spec).upstream(host, port, note))
    command = reload_command(spec)
    workers = _accepting(target, spec)
    done = run_configured(target, command, cwd=spec.layout.root, env=dict(spec.env), timeout=spec.restart_timeout)
    if done.ok:
        _settle(target, spec, workers)
        return
    if before is not None:
        target.write_file(path, before)
    else:
        target.remove(path)
    raise StepFailed(
        f"proxy reload failed (exit {done.returncode}): {done.tail(1)}",
        format_report(f"`{command}`", [("output", done.tail(15))]),
    )


def _accepting(target: Host, spec: TargetSpec) -> dict[int, int]:
    done = target.run(["sh", "-c", of(spec).workers_command], timeout=30)
    return of(spec).accepting(done.stdout) if done.ok else {}


def _settle(target: Host, spec: TargetSpec, before: dict[int, int]) -> None:
    """Wait until the reload has reached the proxy: a master that started new workers has none of its
    old ones still accepting (they would send new connections to the old upstream). Bounded by
    :data:`RELOAD_SETTLE`; with no worker visible (no /proc, another user's processes) it returns."""
    if not before:
        return
    deadline = time.monotonic() + RELOAD_SETTLE
    while time.monotonic() < deadline:
        now = _accepting(target, spec)
        reloaded = {master for pid, master in now.items() if pid not in before}
        old = [pid for pid, master in before.items() if master in reloaded and pid in now]
        if reloaded and not old:
            return
        time.sleep(0.05)
