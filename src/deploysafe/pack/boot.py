"""``pack --boot`` / ``verify --boot``: the artifact is proven to start, before any host is involved.

unpack (every member checked, :mod:`deploysafe.artifact`)
  ->  production dependencies from the packed lockfile: the project's installed ``node_modules`` linked in
      by hard links when the project's npm lockfile is byte for byte the packed one, then ``npm prune
      --omit=dev`` (npm unlinks, never writes into, the linked files), else the host's install command (``npm ci --omit=dev``, see :func:`deploysafe.pack.verify.install_command`)
  ->  the deploy's boot test (:mod:`deploysafe.release.boot`, :mod:`deploysafe.release.health`): the
      start command (the manifest's, else ``node <entry>``) from the unpacked folder with a spare PORT;
      with a health URL it passes when the probe aimed at that port passes once, without one when the
      process is still up after ``hold`` seconds.

Services that ignore PORT: before probing, the boot test waits until the booted process tree listens
(:mod:`deploysafe.release.listening`). When it does not listen on the spare PORT but on exactly one other
port, the probe goes there and the result says so ("the service listens on 3000, not on PORT=41234;
probed there"). A fixed port already taken on the machine fails the boot naming the port, with the
service's own EADDRINUSE line as its first error.

A boot that fails names the first error line of the process's output. The unpacked tree is removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploysafe import artifact as artifacts
from deploysafe.errors import ConfigError
from deploysafe.hosts.local import LocalHost
from deploysafe.pack.errors import PackError
from deploysafe.pack.verify import install_production
from deploysafe.release import boot, health, listening

HOLD = 3.0  # seconds a service without a health URL must stay up
DEADLINE = 30.0  # seconds the health probe may take to pass
_INSTALL_TIMEOUT = 900.0
_THROWN = re.compile(r"^(\w*Error|Error)\b")  # what node prints for an uncaught error: `Error [CODE]: ...`
_ERROR_LINE = re.compile(r"(Error\b|ERR_|error:|Cannot find|ENOENT)")
_IN_USE = re.compile(r"EADDRINUSE\b.*?(\d+)\s*$")  # node: `listen EADDRINUSE: address already in use :::3000`
_SETTLE = 0.5  # seconds to wait for PORT after the tree first listens elsewhere


@dataclass
class BootResult:
    ok: bool
    command: str
    port: int
    installed: str  # how production dependencies came: "hard links from …" or the install command
    detail: str  # what passed, or why not
    first_error: str = ""  # the first error line of the output of a boot that failed
    seconds: float = 0.0
    listens: list[int] = field(default_factory=list)  # ports the booted process tree listened on
    note: str = ""  # where the probe went when the service ignores PORT

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "command": self.command,
            "port": self.port,
            "installed": self.installed,
            "detail": self.detail,
            "first_error": self.first_error,
            "seconds": round(self.seconds, 3),
            "listens": self.listens,
        }

    def line(self) -> str:
        """One line for a report."""
        note = f"{self.note}; " if self.note else ""
        if self.ok:
            return f"`{self.command}` with PORT={self.port}: {note}{self.detail} ({self.installed})"
        label = "first error" if reads_as_error(self.first_error) else "last output"
        first = f"; {label}: {self.first_error}" if self.first_error else ""
        return f"`{self.command}` with PORT={self.port}: {note}{self.detail}{first}"


def boot_artifact(
    path: str | os.PathLike[str],
    *,
    health_url: str | None = None,
    probe: health.Probe | None = None,
    project: str | os.PathLike[str] | None = None,
    hold: float = HOLD,
    deadline: float = DEADLINE,
) -> BootResult:
    """Unpack, install and start the artifact at ``path``; ``project`` offers its ``node_modules``. The
    health check is ``probe`` (a target's, with its expected body), else ``health_url``, else none."""
    started = time.perf_counter()
    if probe is None and health_url:
        probe = health.parse_probe(health_url)
    work = Path(tempfile.mkdtemp(prefix="deploysafe-boot-"))
    try:
        manifest = artifacts.extract(path, work)
        command = manifest.start or (f"node {shlex.quote(manifest.entries[0])}" if manifest.entries else "")
        if not command:
            raise ConfigError(f"{path}: the manifest names no start command and no entry to boot")
        installed = _install(work, manifest, Path(project) if project else None)
        result = _run(LocalHost(work), str(work), command, probe, hold, deadline)
        result.installed = installed
        result.seconds = time.perf_counter() - started
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _install(work: Path, manifest: artifacts.Manifest, project: Path | None) -> str:
    if manifest.file("package.json") is None or any(f.path.startswith("node_modules/") for f in manifest.files):
        return "packed node_modules" if manifest.file("package.json") else "nothing to install"
    if project is not None and manifest.lockfile and _same_lockfile(project, manifest):
        source = project / "node_modules"
        if source.is_dir() and manifest.lockfile in ("package-lock.json", "npm-shrinkwrap.json"):
            if _hard_link_tree(source, work / "node_modules") and _prune_dev(work):
                return f"hard links from {source} (same {manifest.lockfile}), dev dependencies pruned"
            shutil.rmtree(work / "node_modules", ignore_errors=True)
    command, problem = install_production(work, manifest)
    if problem:
        raise PackError(f"boot test: {problem}")
    return command


def _same_lockfile(project: Path, manifest: artifacts.Manifest) -> bool:
    assert manifest.lockfile is not None
    try:
        data = (project / manifest.lockfile).read_bytes()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == manifest.lockfile_sha256


def _hard_link_tree(source: Path, dest: Path) -> bool:
    """``cp -al``: the tree again, every file a hard link (False when links cannot be made here)."""
    done = subprocess.run(
        ["cp", "-al", "--", str(source.resolve()), str(dest)], capture_output=True, stdin=subprocess.DEVNULL
    )
    return done.returncode == 0


def _prune_dev(work: Path) -> bool:
    """Remove what production does not install from the linked tree (the project's has dev dependencies).
    npm rewrites ``node_modules/.package-lock.json``: it becomes a copy first, never the project's file."""
    hidden = work / "node_modules" / ".package-lock.json"
    if hidden.is_file():
        data = hidden.read_bytes()
        hidden.unlink()
        hidden.write_bytes(data)
    done = subprocess.run(
        ["npm", "prune", "--omit=dev", "--no-audit", "--no-fund"],
        cwd=work,
        capture_output=True,
        timeout=_INSTALL_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode == 0


def _run(
    host: LocalHost, cwd: str, command: str, probe: health.Probe | None, hold: float, deadline: float
) -> BootResult:
    port = boot.free_port(host)
    env = {"PORT": str(port), "NODE_ENV": "production"}
    log = os.path.join(cwd, ".deploysafe-boot.log")
    pidfile = os.path.join(cwd, ".deploysafe-boot.pid")
    pid = boot.launch(host, command, cwd=cwd, env=env, log=log, pidfile=pidfile)
    note, ports = "", set()
    try:
        if probe is not None:

            def gone() -> str | None:
                return None if boot.alive(host, pid) else f"`{command}` exited during the boot test"

            waited = time.monotonic()
            ports = _await_listening(host, pid, port, deadline) if probe.kind in ("http", "tcp") else set()
            aimed_port, note = aim(port, ports)
            aimed = probe.with_port(aimed_port)
            left = round(max(deadline - (time.monotonic() - waited), 1.0), 1)
            with health.session(host, aimed, cwd=cwd, env=env) as session:
                verdict = health.window(session, passes=1, interval=0.1, poll=0.15, deadline=left, alive=gone)
            ok, detail = verdict.ok, (f"{aimed.describe()} passed" if verdict.ok else _why(verdict))
        else:
            ok, detail = _stays_up(host, pid, hold), f"still up after {hold:g} s (no health URL)"
            ports = listening.ports(host, pid).tree if ok else set()
            if not ok:
                detail = f"`{command}` exited within {hold:g} s"
    finally:
        boot.stop(host, pid, pidfile=pidfile)
    output = Path(log).read_text(encoding="utf-8", errors="replace") if os.path.exists(log) else ""
    first = "" if ok else first_error_line(output)
    taken = _IN_USE.search(first)
    if taken:
        detail = f"port {taken.group(1)}, which the service listens on whatever PORT says, is already in use here"
    return BootResult(ok, command, port, "", detail, first, listens=sorted(ports), note=note)


def _why(verdict: health.Verdict) -> str:
    """A failed window's reason with what its last probe saw (``HTTP 500``), when the reason lacks it."""
    last = verdict.results[-1] if verdict.results else None
    if last is None or last.ok or last.detail in verdict.reason or " lacks " in verdict.reason:
        return verdict.reason
    return f"{verdict.reason} (last probe: {last.detail[:200]})"


def _await_listening(host: LocalHost, pid: int, port: int, deadline: float) -> set[int]:
    """The ports the tree of ``pid`` listens on, once it listens on any or something listens on PORT
    (empty when it exits first, or nothing listens within ``deadline``). A tree that listens elsewhere gets
    :data:`_SETTLE` seconds more to open PORT too."""
    end = time.monotonic() + deadline
    while time.monotonic() < end and boot.alive(host, pid):
        seen = listening.ports(host, pid)
        if port in seen.host:
            return seen.tree | {port}  # PORT is held, maybe by a process the start command handed it to
        if seen.tree:
            time.sleep(_SETTLE)
            again = listening.ports(host, pid)
            return (again.tree | ({port} & again.host)) or seen.tree
        time.sleep(0.2)
    return set()


def aim(port: int, ports: set[int]) -> tuple[int, str]:
    """Where the probe goes and the line saying why: the spare ``port`` unless the service listens on
    exactly one other port (and not on ``port``)."""
    if port in ports or not ports:
        return port, ""
    if len(ports) == 1:
        [other] = ports
        return other, f"the service listens on {other}, not on PORT={port}; probed there"
    listed = ", ".join(str(p) for p in sorted(ports))
    return port, f"the service listens on {listed}, not on PORT={port}; probed PORT"


def _stays_up(host: LocalHost, pid: int, hold: float) -> bool:
    end = time.monotonic() + hold
    while time.monotonic() < end:
        if not boot.alive(host, pid):
            return False
        time.sleep(0.2)
    return boot.alive(host, pid)


def reads_as_error(line: str) -> bool:
    """The line reads as an error (what :func:`first_error_line` looks for first)."""
    return bool(_THROWN.search(line) or _ERROR_LINE.search(line))


def first_error_line(output: str) -> str:
    """The first line of ``output`` that reads as an error (else its last non-empty line)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for pattern in (_THROWN, _ERROR_LINE):
        for line in lines:
            if pattern.search(line) and not line.startswith("at "):
                return line[:300]
    return lines[-1][:300] if lines else ""
