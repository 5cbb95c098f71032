"""The Node version a target really runs, recorded on the host after each good deploy
(``.deploysafe/node.json``: the version `node --version` prints there, the release and the time) and read
back when checking or packing for that target, so the verdict is for the Node production has rather than the
local one or the engines lower bound.

Recording is best effort (a host whose node cannot be asked keeps the record it had); reading gives None
when there is no record or it cannot be read, and the check then assumes as it would without a target.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deploysafe import safejson
from deploysafe.check.ecosystem import RuntimeChoice
from deploysafe.errors import DeploysafeError
from deploysafe.hosts import Host
from deploysafe.release.layout import Layout

if TYPE_CHECKING:
    from deploysafe.release.spec import TargetSpec

RECORD = "node.json"
_VERSION = re.compile(r"v?(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class TargetNode:
    version: str  # "20.11.1"
    release: str  # the release that was running on it
    recorded: str  # ISO time of the record


def record(target: Host, layout: Layout, release: str, env: dict[str, str] | None = None, seen: str = "") -> str | None:
    """Record the host's node version: ``seen`` when a command of the run already printed it (a pm2
    snapshot's ``process.version``), else ask ``node --version``; the version, or None when node did not
    answer."""
    with contextlib.suppress(DeploysafeError, OSError):
        if seen:
            text = seen
        else:
            done = target.run(["node", "--version"], env=env, timeout=30)
            text = done.stdout.strip() if done.ok and isinstance(done.stdout, str) else ""
        match = _VERSION.fullmatch(text.strip())
        if match is None:
            return None
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        data = {"version": match[1], "release": release, "recorded": stamp}
        target.write_file(posixpath.join(layout.meta, RECORD), (json.dumps(data) + "\n").encode())
        return match[1]
    return None


def read(target: Host, layout: Layout) -> TargetNode | None:
    """The recorded Node version of the target, or None."""
    try:
        data = target.read_file(posixpath.join(layout.meta, RECORD))
        raw = safejson.loads(data) if data else None
    except (DeploysafeError, OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("version"), str):
        return None
    if not _VERSION.fullmatch(raw["version"]):
        return None
    return TargetNode(raw["version"], str(raw.get("release") or "?"), str(raw.get("recorded") or "?"))


def target_runtime(root: str | os.PathLike[str], to: str) -> tuple[RuntimeChoice | None, str]:
    """The Node version to check ``root`` against for the target ``to`` (a [targets] name, ssh:// URL or
    directory), and a line saying where it came from or why there is none."""
    from deploysafe.config import load
    from deploysafe.release.spec import resolve

    return runtime_for(resolve(to, load(Path(root))))


def runtime_for(spec: TargetSpec) -> tuple[RuntimeChoice | None, str]:
    """The target's recorded Node version as the check's runtime, and where it came from (or why none)."""
    from deploysafe.release.spec import open_target

    name = spec.name or spec.url
    host = open_target(spec)
    try:
        found = read(host, spec.layout)
    finally:
        host.close()
    if found is None:
        return None, f"target {name} has no recorded Node version yet (each good deploy records it)"
    source = f"target {name}'s node --version, recorded after the deploy of {found.release} at {found.recorded}"
    return RuntimeChoice(found.version, source), source
