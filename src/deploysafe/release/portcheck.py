"""Before anything changes: the port a release's pm2 process file gives its apps (``env.PORT``) against
the port the health probe asks. A process file that sets ``PORT`` on its apps and none of them on the
health port runs the service where the probe never looks: the deploy would switch, wait and roll back.

Health may deliberately look elsewhere (through a proxy in front, at an admin port), so the mismatch alone
proves nothing. It is refused only when the health port is known to be the apps' own port: the target's
``env`` sets ``PORT`` to it, or the live release's process file gave an app that port (the new file moved
it). Otherwise the health gate judges.

The file is read from the artifact (and the live one from ``current``) and evaluated by the local
``node`` as pm2 evaluates it, with the target's ``env``. A file node cannot evaluate here (it requires
files beside it), or no local node, is not judged: pm2 on the host will say.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
import tempfile
from pathlib import Path

from deploysafe import artifact
from deploysafe.errors import ConfigError
from deploysafe.hosts.base import Host
from deploysafe.release.spec import TargetSpec

# Each app's name as pm2 gives it (an unnamed app is named after its script) and its env.PORT.
_PORTS_JS = (
    "const path=require('path');const c=require(process.argv[1]);const apps=Array.isArray(c)?c:(c.apps||[c]);"
    "const named=a=>String(a.name||path.basename(String(a.script||'?'),path.extname(String(a.script||''))));"
    "process.stdout.write(JSON.stringify(apps.filter(Boolean).map(a=>[named(a),"
    "a.env&&a.env.PORT!==undefined?String(a.env.PORT):null])))"
)


def app_ports(artifact_path: Path, spec: TargetSpec) -> list[tuple[str, str | None]] | None:
    """Each app of the artifact's pm2 file with its ``env.PORT`` (None: unset); None when not judged."""
    if not spec.pm2:
        return None
    return file_ports(artifact.read_member(artifact_path, spec.pm2.removeprefix("./")), spec)


def file_ports(data: bytes | None, spec: TargetSpec) -> list[tuple[str, str | None]] | None:
    """Each app of a pm2 file's text with its ``env.PORT`` (None: unset); None when not judged."""
    node = shutil.which("node")
    if not spec.pm2 or node is None or data is None:
        return None
    with tempfile.TemporaryDirectory(prefix="deploysafe-pm2-") as tmp:
        file = Path(tmp) / Path(spec.pm2).name
        file.write_bytes(data)
        try:
            done = subprocess.run(
                [node, "-e", _PORTS_JS, str(file)],
                env={**os.environ, **spec.env},
                capture_output=True,
                text=True,
                timeout=20,
                cwd=tmp,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    try:
        found = json.loads(done.stdout) if done.returncode == 0 else None
    except json.JSONDecodeError:
        return None
    return [(str(n), p) for n, p in found] if isinstance(found, list) else None


def check(apps: list[tuple[str, str | None]] | None, spec: TargetSpec, target: Host) -> None:
    """Refuse a pm2 file whose ``apps`` (:func:`app_ports`) set ``PORT`` and none to the health probe's
    port, when that port is known to be the apps' own (in place only; behind a proxy each colour gets its
    port)."""
    probe = spec.probe()
    if spec.proxy or probe is None or probe.kind not in ("http", "tcp") or not spec.pm2:
        return
    ports = [(name, port) for name, port in apps or [] if port is not None]
    health = str(probe.port)
    if not ports or any(port == health for _, port in ports):
        return
    evidence = _health_is_the_apps_port(spec, target, health)
    if evidence is None:
        return
    said = ", ".join(f"{name} PORT={port}" for name, port in ports)
    raise ConfigError(
        f"{spec.pm2} sets env PORT for its apps ({said}) but health probes port {probe.port} ({spec.health}), "
        f"which {evidence}: pm2 would run the service where the health probe never looks; fix PORT in "
        f"{spec.pm2} or the port of health"
    )


def _health_is_the_apps_port(spec: TargetSpec, target: Host, health: str) -> str | None:
    """Why the health port is the apps' own port (None: nothing says so; health may look elsewhere)."""
    if spec.env.get("PORT") == health:
        return "the target's env gives as PORT"
    live = posixpath.join(spec.layout.current, spec.pm2 or "")
    for name, port in file_ports(target.read_file(live), spec) or []:
        if port == health:
            return f"the live release's {spec.pm2} gives {name} as PORT"
    return None
