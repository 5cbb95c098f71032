"""The two colours of a blue/green target: which release runs on which port, started and stopped.

Each colour has its port (``blue_port``, ``green_port``). ``.deploysafe/colours.json`` records what was
started on each (the release, the pm2 app names or the pid), written before a start and after a stop, so
a run killed at any point leaves a record the next run can act on. A release runs from its own
directory (``releases/<id>``), never through ``current``:

- with ``pm2``: the release's process file is wrapped (``.deploysafe/pm2-<colour>.config.cjs``) so that
  each app is named ``<app>-<colour>``, runs in the release and gets ``PORT`` = the colour's port;
- otherwise the ``start`` command (the artifact's ``start`` by default) runs in its own session with
  ``PORT`` set, its pid in ``.deploysafe/<colour>.pid`` and its output in ``.deploysafe/<colour>.log``.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import asdict, dataclass, field

from deploysafe import safejson
from deploysafe.errors import ConfigError
from deploysafe.hosts.base import Host
from deploysafe.release import boot, pm2, service
from deploysafe.release.layout import Layout
from deploysafe.release.spec import TargetSpec

COLOURS = ("blue", "green")

# Node evaluates the release's process file as pm2 would, then renames and re-homes its apps for a colour.
_WRAPPER_JS = """// written by deploysafe: the apps of {file} in {release}, as the {colour} colour on port {port}
const fs = require('fs'), path = require('path');
const release = {release_json};
const loaded = require(path.join(release, {file_json}));
const apps = Array.isArray(loaded) ? loaded : (loaded.apps || [loaded]);
module.exports = {{ apps: apps.filter(Boolean).map((app) => {{
  const script = String(app.script || '');
  const name = app.name || path.basename(script, path.extname(script));
  const inside = path.resolve(release, script);
  return {{ ...app, name: name + '-{colour}', cwd: release, script: fs.existsSync(inside) ? inside : script,
    env: {{ ...(app.env || {{}}), PORT: '{port}', DEPLOYSAFE_COLOUR: '{colour}' }} }};
}}) }};
"""


@dataclass
class Slot:
    """What runs on one colour: ``release`` (None: nothing), its pm2 ``apps`` or its ``pid``."""

    colour: str
    port: int
    release: str | None = None
    apps: list[str] = field(default_factory=list)
    pid: int | None = None
    logs: list[str] = field(default_factory=list)  # its pm2 log files, once seen (kept after a stop)

    def describe(self) -> str:
        what = f"pm2 {', '.join(self.apps)}" if self.apps else f"pid {self.pid}" if self.pid else "stopped"
        return f"{self.colour} :{self.port} {self.release or '(nothing)'} ({what})"


def ports(spec: TargetSpec) -> dict[str, int]:
    """The colours' ports; a ConfigError when they are missing or equal."""
    found = {"blue": spec.blue_port, "green": spec.green_port}
    if not all(found.values()) or spec.blue_port == spec.green_port:
        raise ConfigError(
            f"proxy = {spec.proxy!r} needs blue_port and green_port, two different ports the releases take turns on "
            f"(have {spec.blue_port or 'none'} and {spec.green_port or 'none'})"
        )
    return found


def _record(layout: Layout) -> str:
    return posixpath.join(layout.meta, "colours.json")


def read(target: Host, spec: TargetSpec) -> dict[str, Slot]:
    data = target.read_file(_record(spec.layout))
    try:
        raw = safejson.loads(data) if data else {}
    except ValueError:
        raw = {}
    slots = {}
    for colour, port in ports(spec).items():
        item = raw.get(colour) if isinstance(raw, dict) else None
        item = item if isinstance(item, dict) else {}
        pid = item.get("pid")
        slots[colour] = Slot(
            colour,
            port,
            release=item.get("release") if isinstance(item.get("release"), str) else None,
            apps=[str(a) for a in item.get("apps", []) if isinstance(a, str)]
            if isinstance(item.get("apps"), list)
            else [],
            pid=pid if isinstance(pid, int) else None,
            logs=[str(a) for a in item.get("logs", []) if isinstance(a, str)]
            if isinstance(item.get("logs"), list)
            else [],
        )
    return slots


def read_empty(spec: TargetSpec) -> dict[str, Slot]:
    """The colours of a target with nothing deployed yet."""
    return {colour: Slot(colour, port) for colour, port in ports(spec).items()}


def write(target: Host, spec: TargetSpec, slots: dict[str, Slot]) -> None:
    data = {
        colour: {k: v for k, v in asdict(slot).items() if k not in ("colour", "port")} for colour, slot in slots.items()
    }
    target.write_file(_record(spec.layout), json.dumps(data, indent=1).encode())


def colour_of(slots: dict[str, Slot], port: int | None) -> str | None:
    return next((s.colour for s in slots.values() if s.port == port), None) if port else None


def other(colour: str | None) -> str:
    return "green" if colour == "blue" else "blue"


def env_for(spec: TargetSpec, slot: Slot, release: str) -> dict[str, str]:
    env = service.command_env(spec, release)
    env.update({"PORT": str(slot.port), "DEPLOYSAFE_COLOUR": slot.colour})
    return env


def start(target: Host, spec: TargetSpec, slot: Slot, release: str, command: str | None) -> str:
    """Start ``release`` on ``slot`` (recorded first); returns how."""
    layout = spec.layout
    where = layout.release(release)
    env = env_for(spec, slot, release)
    if spec.pm2:
        wrapper = posixpath.join(layout.meta, f"pm2-{slot.colour}.config.cjs")
        text = _WRAPPER_JS.format(
            file=spec.pm2,
            release=where,
            colour=slot.colour,
            port=slot.port,
            release_json=json.dumps(where),
            file_json=json.dumps(spec.pm2),
        )
        target.write_file(wrapper, text.encode())
        found = target.run(pm2.app_names_command(wrapper), cwd=where, env=env, timeout=60)
        found.check(f"reading the apps of {spec.pm2} in {release}")
        slot.release, slot.apps, slot.pid = release, sorted(pm2.parse_app_names(found.stdout)), None
        write(target, spec, {**read(target, spec), slot.colour: slot})  # a run killed now: the next one stops them
        target.run([*pm2_start(spec, wrapper)], cwd=where, env=env, timeout=spec.restart_timeout).check(
            f"pm2 start of {release} as {slot.colour}"
        )
        return f"pm2 {', '.join(slot.apps)} on port {slot.port}"
    if not command:
        raise ConfigError("proxy mode needs pm2 or a start command (start, or the artifact's start) to run a release")
    slot.release, slot.apps, slot.pid = release, [], None
    write(target, spec, {**read(target, spec), slot.colour: slot})
    slot.pid = boot.launch(
        target, command, cwd=where, env=env, log=log_path(layout, slot.colour), pidfile=pid_path(layout, slot.colour)
    )
    write(target, spec, {**read(target, spec), slot.colour: slot})
    return f"`{command}` on port {slot.port}, pid {slot.pid}"


def pm2_start(spec: TargetSpec, wrapper: str) -> list[str]:
    return [*shlex.split(spec.pm2_bin), "start", wrapper, "--update-env"]


def stop(target: Host, spec: TargetSpec, slot: Slot, grace: float = 5.0) -> None:
    """Stop what runs on ``slot`` and record the colour empty."""
    layout = spec.layout
    if slot.apps:
        target.run(pm2.delete_command(spec.pm2_bin, slot.apps), env=dict(spec.env), timeout=60)
    pid = slot.pid
    if pid is None:
        data = target.read_file(pid_path(layout, slot.colour))
        pid = int(data) if data and data.strip().isdigit() else None
    if pid:
        boot.stop(target, pid, pidfile=pid_path(layout, slot.colour), grace=grace)
    slot.release, slot.apps, slot.pid = None, [], None
    write(target, spec, {**read(target, spec), slot.colour: slot})  # its logs stay named


def alive(target: Host, slot: Slot) -> bool:
    """Whether a started (not pm2) release still runs; pm2 apps are judged from pm2's list."""
    return bool(slot.pid) and boot.alive(target, slot.pid or 0)


def pid_path(layout: Layout, colour: str) -> str:
    return posixpath.join(layout.meta, f"{colour}.pid")


def log_path(layout: Layout, colour: str) -> str:
    return posixpath.join(layout.meta, f"{colour}.log")
