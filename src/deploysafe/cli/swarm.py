"""``deploy``/``rollback``/``releases``/``status`` when ``--to`` names a ``[targets.NAME] swarm`` target:
a thin shell over :mod:`deploysafe.orchestrators.swarm`. Text output is one line per event on stderr and a
closing line on stdout; ``--format json`` prints each event as a JSON line on stdout, then a ``result``
(docs/schemas/swarm.schema.json, as are the releases and status documents).
A rollout that failed (the engine rolled it back, paused it, or it ran out of time) exits 1 with the
failing task's logs.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from deploysafe.cli.project import project_root
from deploysafe.config import Config
from deploysafe.config.targets import TargetTable
from deploysafe.errors import ConfigError, DeployFailed
from deploysafe.image.boot import is_image
from deploysafe.image.build import build_image
from deploysafe.image.engine import find_engine
from deploysafe.image.settings import image_settings
from deploysafe.orchestrators import swarm
from deploysafe.orchestrators.swarm.rollout import Outcome
from deploysafe.pack import pack as run_pack
from deploysafe.report.contract import now

SWARM_COMMANDS = ("deploy", "rollback", "releases", "status")


def swarm_target(config: Config, to: tuple[str, ...], command: str) -> tuple[str, TargetTable] | None:
    """The swarm target ``--to`` names, or None when it names something else."""
    found = [(name, config.targets[name]) for name in to if name in config.targets and config.targets[name].swarm]
    if not found:
        return None
    if len(to) > 1:
        raise ConfigError(f"--to {found[0][0]} is a swarm service: give it alone (the swarm rolls out its tasks)")
    if command not in SWARM_COMMANDS:
        raise ConfigError(
            f"--to {found[0][0]} is a swarm service: {command} works on hosts (deploy, rollback, releases and status work here)"
        )
    return found[0]


class _Say:
    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.started = time.monotonic()

    def __call__(self, event: dict[str, Any]) -> None:
        if self.fmt == "json":
            line = {"version": 1, "time": now(), "seconds": round(time.monotonic() - self.started, 3), **event}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
        else:
            click.echo(f"  {time.monotonic() - self.started:6.1f}s  {event.get('line', event.get('event'))}", err=True)


def _finish(fmt: str, what: str, target: str, outcome: Outcome) -> None:
    failed = outcome.failed_task
    result = {
        "event": "result",
        "ok": outcome.ok,
        "target": target,
        "state": outcome.state,
        "message": outcome.message,
        "image": outcome.image,
        "rolled_back": outcome.rolled_back,
        "seconds": round(outcome.seconds, 3),
        "failed_task": None if failed is None else {"id": failed.id, "slot": failed.slot, "error": failed.error},
        "logs": outcome.logs,
    }
    if fmt == "json":
        sys.stdout.write(json.dumps({"version": 1, "time": now(), **result}) + "\n")
    elif outcome.ok:
        click.echo(f"{what} {target}: {outcome.image} ({outcome.message}) in {outcome.seconds:.1f} s")
    else:
        click.echo(f"{what} {target} FAILED: {outcome.state}: {outcome.message}", err=True)
        click.echo(f"the service runs {outcome.image}", err=True)
        if failed is not None:
            click.echo(f"failing task: {failed.line()}", err=True)
            for line in outcome.logs:
                click.echo(f"  | {line}", err=True)
    if not outcome.ok:
        state = "rolled back by the engine" if outcome.rolled_back else outcome.state
        raise DeployFailed(f"{what} {target} failed ({state}): {outcome.message}")


def deploy(fmt: str, source: str, name: str, target: TargetTable, *, dry_run: bool) -> None:
    """Deploy the image at ``source``; a project tree is packed into an image first (pack --format oci)."""
    say = _Say(fmt)
    with tempfile.TemporaryDirectory(prefix="deploysafe-swarm-") as work:
        tree = Path(source).is_dir() and not is_image(source)
        image = _image_of(source, name, target, Path(work), say) if tree and not dry_run else source
        outcome = swarm.deploy(image, name, target, say=say, dry_run=dry_run)
    _finish(fmt, "deploy", name, outcome)


def _image_of(source: str, name: str, target: TargetTable, work: Path, say: _Say) -> Path:
    """``pack --format oci`` of the project at ``source``: the artifact, then its image (a tar in ``work``)."""
    found = project_root(source)
    root = found.path if found else Path(source)
    settings = image_settings(root, name if target.health else None)  # else the one target with health
    engine = find_engine()
    packed = run_pack(root, output=work / "dist")
    say({"event": "packed", "artifact": str(packed.path), "line": f"packed {packed.id}"})
    built = build_image(packed.path, work / "image.tar", settings, engine=engine)
    say({"event": "image", "image": built.reference, "line": f"built the image {built.reference}"})
    return built.path


def rollback(fmt: str, name: str, target: TargetTable, release: str | None) -> None:
    say = _Say(fmt)
    outcome = swarm.rollback(name, target, say=say, release=release)
    _finish(fmt, "rollback", name, outcome)


def releases(fmt: str, name: str, target: TargetTable) -> None:
    items = swarm.releases(name, target)
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "target": name, "releases": [r.to_json() for r in items]}, indent=2))
        return
    for item in items:
        click.echo(f"{item.role:<10} {item.version or '?':<12} {item.content_sha256[:12] or '?':<12} {item.image}")


def status(fmt: str, name: str, target: TargetTable) -> None:
    info = swarm.status(name, target)
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "target": name, **info.to_json()}, indent=2))
        return
    replicas = "?" if info.replicas is None else info.replicas
    click.echo(f"{name}: swarm service {info.service}, {info.running}/{replicas} running {info.image}")
    if info.update_state:
        click.echo(f"last rollout: {info.update_state} ({info.update_message})")
    for line in info.tasks:
        click.echo(f"  {line}")
