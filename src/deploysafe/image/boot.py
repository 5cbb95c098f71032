"""``verify --boot`` on an OCI image: the deploy's boot test, run in the local engine before anything
reaches an orchestrator.

load (skopeo into podman's or docker's storage)  ->  run it detached with the image's exposed port
published on a spare port of 127.0.0.1 only  ->  the health probe (``--health URL``, else the URL of the
image's own ``HEALTHCHECK``) aimed at that port must pass while the container runs; without one, the
container must still run after ``hold`` seconds  ->  stop (SIGTERM through the init, then KILL) and
remove the container and the image loaded for it. A boot that fails names the first error line of the container's log.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import tarfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from deploysafe.artifact import oci
from deploysafe.errors import ConfigError
from deploysafe.hosts.local import LocalHost
from deploysafe.image.engine import Engine, ImageError, find_engine
from deploysafe.image.settings import HTTP_CHECK_JS
from deploysafe.pack.boot import BootResult, first_error_line
from deploysafe.release import health

HOLD = 3.0
DEADLINE = 30.0
_NAME_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def is_image(path: str | os.PathLike[str]) -> bool:
    """An OCI image layout directory, or a tar of one."""
    target = Path(path)
    if target.is_dir():
        return (target / "oci-layout").is_file()
    if not target.is_file() or not tarfile.is_tarfile(target):
        return False
    try:
        with tarfile.open(target, "r:") as archive:
            for _, member in zip(range(8), archive, strict=False):
                if member.name.lstrip("./") == "oci-layout":
                    return True
    except (tarfile.TarError, OSError):
        return False
    return False


def load(engine: Engine, path: Path) -> tuple[str, dict[str, object]]:
    """Load the image at ``path`` into ``engine``; (its reference there, its config's ``config``)."""
    if path.is_dir():
        image = oci.read_layout(path)
        named = image.descriptor.annotations.get(oci.REF_NAME, "")
        source = f"oci:{path}:{named}" if named else f"oci:{path}"
        config = image.config.get("config") or {}
        title = str((config.get("Labels") or {}).get("org.opencontainers.image.title") or "image")
    else:
        source = f"oci-archive:{path}"
        named, document = oci.read_archive(path)
        config = document.get("config") or {}
        title = str((config.get("Labels") or {}).get("org.opencontainers.image.title") or "image")
    ref = (
        named
        if "/" in named and ":" in named
        else f"localhost/{_NAME_UNSAFE.sub('-', title.lower()).strip('-') or 'image'}:{named or 'latest'}"
    )
    engine.copy_in(source, ref)
    return ref, config


def boot_image(
    path: str | os.PathLike[str],
    *,
    health_url: str | None = None,
    engine: Engine | None = None,
    hold: float = HOLD,
    deadline: float = DEADLINE,
) -> BootResult:
    started = time.perf_counter()
    engine = engine or find_engine()
    ref, config = load(engine, Path(path))
    try:
        return _boot(engine, ref, config, path, health_url, hold, deadline, started)
    finally:
        engine.remove_image(ref)  # a boot test leaves nothing behind; load it for keeps with podman load


def _boot(
    engine: Engine,
    ref: str,
    config: dict[str, object],
    path: str | os.PathLike[str],
    health_url: str | None,
    hold: float,
    deadline: float,
    started: float,
) -> BootResult:
    port = _container_port(config)
    probe = health.parse_probe(health_url) if health_url else _own_probe(config)
    if probe is not None and port is None:
        port = probe.port or None
    if probe is not None and port is None:
        raise ConfigError(f"{path}: the image exposes no port to probe; give --health with the port it listens on")
    host_port = _free_port()
    name = f"deploysafe-boot-{secrets.token_hex(4)}"
    args = ["run", "-d", "--name", name]
    if port is not None:
        args += ["-p", f"127.0.0.1:{host_port}:{port}"]
    engine.run([*args, ref], timeout=120, check=f"starting {ref}")
    command = f"{engine.name} run {ref}" + (f" (port {port} on 127.0.0.1:{host_port})" if port else "")
    try:
        ok, detail = _judge(engine, name, probe, host_port, hold, deadline)
        still_running = _running(engine, name)
        logs = engine.run(["logs", name], timeout=60)
    finally:
        engine.run(["stop", "-t", "10", name], timeout=60)
        engine.run(["rm", "-f", name], timeout=60)
    output = logs.stdout + logs.stderr
    if not ok and still_running and probe is not None:
        detail += (
            f"; the container ran but nothing answered on its port {port}: a service listening on 127.0.0.1 "
            "cannot be reached from outside its container (listen on 0.0.0.0)"
        )
    result = BootResult(ok, command, port or 0, f"image {ref}", detail, "" if ok else first_error_line(output))
    result.seconds = time.perf_counter() - started
    return result


def _judge(
    engine: Engine, name: str, probe: health.Probe | None, host_port: int, hold: float, deadline: float
) -> tuple[bool, str]:
    def running() -> bool:
        return _running(engine, name)

    if probe is None:
        end = time.monotonic() + hold
        while time.monotonic() < end:
            if not running():
                return False, f"the container exited within {hold:g} s"
            time.sleep(0.3)
        return (True, f"still up after {hold:g} s (no health URL)") if running() else (False, "the container exited")
    aimed = probe.with_port(host_port)
    if aimed.kind == "http":
        aimed = _on_loopback(aimed)

    def gone() -> str | None:
        return None if running() else "the container exited during the boot test"

    with health.session(LocalHost(os.getcwd()), aimed, cwd=os.getcwd(), env={}) as session:
        verdict = health.window(session, passes=1, interval=0.2, poll=0.3, deadline=deadline, alive=gone)
    return verdict.ok, (f"{aimed.describe()} passed" if verdict.ok else verdict.reason)


def _running(engine: Engine, name: str) -> bool:
    done = engine.run(["inspect", "--format", "{{.State.Running}}", name], timeout=30)
    return done.ok and done.stdout.strip() == "true"


def _on_loopback(probe: health.Probe) -> health.Probe:
    parts = urlsplit(probe.url)
    url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{probe.port}"))
    return replace(probe, url=url, host="127.0.0.1")


def _container_port(config: dict[str, object]) -> int | None:
    exposed = config.get("ExposedPorts") or {}
    for key in sorted(exposed) if isinstance(exposed, dict) else []:
        number, _, proto = str(key).partition("/")
        if proto in ("", "tcp") and number.isdigit():
            return int(number)
    return None


def _own_probe(config: dict[str, object]) -> health.Probe | None:
    """The probe of a HEALTHCHECK deploysafe wrote (``node -e <check> URL EXPECT``), else None."""
    check = config.get("Healthcheck") or {}
    test = check.get("Test") if isinstance(check, dict) else None
    if isinstance(test, list) and len(test) == 6 and test[:4] == ["CMD", "node", "-e", HTTP_CHECK_JS]:
        return health.parse_probe(str(test[4]), str(test[5]) or None)
    return None


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


__all__ = ["ImageError", "boot_image", "is_image"]
