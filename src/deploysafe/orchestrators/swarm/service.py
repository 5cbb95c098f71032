"""One Docker Swarm service, driven through the ``docker service`` command line of the daemon ``DOCKER_HOST``
names: inspect it, create it, update its image, roll it back, list its tasks, read a task's logs.

Every rollout is ``--detach`` (deploysafe follows it itself, :mod:`.rollout`) and ``--no-resolve-image`` (the
image is loaded into the daemon, no registry is asked for its digest). The update policy is always
start-first with the engine's own rollback on failure, so a new task must be healthy (the image's
``HEALTHCHECK``) before an old one stops, and a task that fails within ``--update-monitor`` makes the engine
put the previous spec back. Any command that fails raises :class:`SwarmError` with its last lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from deploysafe.image import engine as engines
from deploysafe.image.engine import ImageError

VERSION_LABEL = "org.opencontainers.image.version"
HASH_LABEL = "io.deploysafe.content-sha256"
ID_LABEL = "io.deploysafe.id"


class SwarmError(ImageError):
    """The swarm or the service could not be read or changed (docker failed, or this node is no manager)."""


@dataclass(frozen=True)
class Task:
    """One row of ``docker service ps``: a task of the service and what became of it."""

    id: str
    slot: str  # web.1
    image: str
    desired: str  # Running | Shutdown
    state: str  # "Running 5 seconds ago", "Failed 2 seconds ago", ...
    error: str

    @property
    def status(self) -> str:
        """The state's first word, lower case: running, starting, failed, shutdown, rejected, ..."""
        return (self.state.split() or ["unknown"])[0].lower()

    def line(self) -> str:
        error = f" ({self.error})" if self.error else ""
        return f"{self.slot} {self.id[:12]} {self.image}: {self.status} (desired {self.desired.lower()}){error}"


@dataclass(frozen=True)
class Service:
    """What ``docker service inspect`` says of the service: its image now and before, the rollout's state."""

    name: str
    image: str
    previous_image: str | None
    update_state: str | None  # updating | completed | paused | rollback_started | rollback_completed | ...
    update_message: str
    update_started: str  # when the last update or rollback began ("" before the first)
    replicas: int | None


def docker(args: list[str], *, what: str, timeout: float = 120.0) -> engines.Completed:
    try:
        return engines.run(["docker", *args], timeout=timeout, check=what)
    except ImageError as err:
        raise SwarmError(str(err)) from err


def inspect(name: str) -> Service | None:
    """The service, or None when the swarm has none of that name."""
    done = engines.run(["docker", "service", "inspect", name], timeout=60)
    if not done.ok:
        if "no such service" in (done.stderr + done.stdout).lower():
            return None
        raise SwarmError(f"`docker service inspect {name}` exited {done.code}: {done.tail()}")
    try:
        data: dict[str, Any] = json.loads(done.stdout)[0]
    except (ValueError, IndexError, KeyError) as err:
        raise SwarmError(f"`docker service inspect {name}` printed no service") from err
    spec = data.get("Spec") or {}
    previous = data.get("PreviousSpec") or {}
    status = data.get("UpdateStatus") or {}
    mode = (spec.get("Mode") or {}).get("Replicated") or {}
    return Service(
        name=name,
        image=_image(spec),
        previous_image=_image(previous) or None,
        update_state=status.get("State"),
        update_message=str(status.get("Message") or ""),
        update_started=str(status.get("StartedAt") or ""),
        replicas=mode.get("Replicas"),
    )


def _image(spec: dict[str, Any]) -> str:
    return str(((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image") or "")


def _policy(monitor: float) -> list[str]:
    return [
        "--update-order",
        "start-first",
        "--update-failure-action",
        "rollback",
        "--update-monitor",
        f"{monitor:g}s",
        "--update-max-failure-ratio",
        "0",
        "--rollback-order",
        "start-first",
    ]


def create(name: str, image: str, *, replicas: int, monitor: float, networks: tuple[str, ...] = ()) -> None:
    """The service, new: DNS round robin (no ingress needed: no IPVS here), no published port, on ``networks``
    (where its clients reach it by its name)."""
    docker(
        [
            "service",
            "create",
            "--detach",
            "--no-resolve-image",
            "--name",
            name,
            "--endpoint-mode",
            "dnsrr",
            "--replicas",
            str(replicas),
            *[option for network in networks for option in ("--network", network)],
            *_policy(monitor),
            image,
        ],
        what=f"creating the swarm service {name}",
    )


def update(name: str, image: str, *, monitor: float) -> None:
    """Roll the service out to ``image``, start-first, rolled back by the engine on failure."""
    docker(
        ["service", "update", "--detach", "--no-resolve-image", *_policy(monitor), "--image", image, name],
        what=f"updating the swarm service {name}",
    )


def rollback(name: str) -> None:
    """Ask the engine to put the service's previous spec back."""
    docker(["service", "rollback", "--detach", name], what=f"rolling back the swarm service {name}")


def tasks(name: str) -> list[Task]:
    """Every task the swarm remembers for the service, newest first per slot."""
    done = docker(["service", "ps", "--no-trunc", "--format", "{{json .}}", name], what=f"listing the tasks of {name}")
    out = []
    for line in done.stdout.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        slot = str(row.get("Name") or "").strip().lstrip("\\_ ").strip()
        out.append(
            Task(
                id=str(row.get("ID") or ""),
                slot=slot,
                image=str(row.get("Image") or ""),
                desired=str(row.get("DesiredState") or ""),
                state=str(row.get("CurrentState") or ""),
                error=str(row.get("Error") or "").strip('"'),
            )
        )
    return out


def logs(task_id: str, lines: int = 30) -> list[str]:
    """The last lines a task wrote (stdout and stderr); [] when docker cannot read them."""
    done = engines.run(["docker", "service", "logs", "--raw", "--tail", str(lines), task_id], timeout=60)
    text = (done.stdout + done.stderr) if done.ok else ""
    return [line for line in text.splitlines() if line.strip()][-lines:]


def image_labels(image: str) -> dict[str, str]:
    """The image's labels in the daemon ({} when it is not there)."""
    done = engines.run(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", image], timeout=60)
    if not done.ok:
        return {}
    try:
        labels = json.loads(done.stdout.strip() or "null")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
