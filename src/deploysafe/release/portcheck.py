"""Before anything changes: the port a release's pm2 process file gives its apps (``env.PORT``) against
the port the health probe asks. A process file that sets ``PORT`` on its apps and none of them on the
health port runs the service where the probe never looks: the deploy would switch, wait and roll back.

The file is read from the artifact and evaluated by the local ``node`` as pm2 evaluates it, with the
target's ``env``. A file node cannot evaluate here (it requires files beside it), or no local node, is not
judged: pm2 on the host will say.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from deploysafe import artifact
from deploysafe.errors import ConfigError
from deploysafe.release.spec import TargetSpec

_PORTS_JS = (
    "const c=require(process.argv[1]);const apps=Array.isArray(c)?c:(c.apps||[c]);"
    "process.stdout.write(JSON.stringify(apps.filter(Boolean).map(a=>[String(a.name||a.script||'?'),"
    "a.env&&a.env.PORT!==undefined?String(a.env.PORT):null])))"
)


def app_ports(artifact_path: Path, spec: TargetSpec) -> list[tuple[str, str | None]] | None:
    """Each app of the artifact's pm2 file with its ``env.PORT`` (None: unset); None when not judged."""
    node = shutil.which("node")
    if not spec.pm2 or node is None:
        return None
    data = artifact.read_member(artifact_path, spec.pm2.removeprefix("./"))
    if data is None:
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


def check(artifact_path: Path, spec: TargetSpec) -> None:
    """Refuse a pm2 file whose apps set ``PORT`` and none to the health probe's port (in place only)."""
    probe = spec.probe()
    if spec.proxy or probe is None or probe.kind not in ("http", "tcp") or not spec.pm2:
        return
    apps = app_ports(artifact_path, spec)
    ports = [(name, port) for name, port in apps or [] if port is not None]
    if not ports or any(port == str(probe.port) for _, port in ports):
        return
    said = ", ".join(f"{name} PORT={port}" for name, port in ports)
    raise ConfigError(
        f"{spec.pm2} sets env PORT for its apps ({said}) but health probes port {probe.port} "
        f"({spec.health}): pm2 would run the service where the health probe never looks; fix PORT in "
        f"{spec.pm2} or the port of health"
    )
