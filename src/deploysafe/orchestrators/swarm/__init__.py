"""Docker Swarm as a deploy target: ``[targets.NAME] swarm = "service"``.

``deploy`` loads the image ``pack --format oci`` wrote into the daemon ``DOCKER_HOST`` names (``skopeo copy``
to ``docker-daemon:``), then creates the service or updates its image, start-first, with the engine's own
rollback on failure (:mod:`.service`), and follows the rollout to its end (:mod:`.rollout`). A rollout the
engine rolled back is a failed deploy with the failing task's logs. ``releases`` and ``status`` read the
service (its spec, its previous spec, the labels of their images: version and the manifest's content hash),
and ``rollback`` asks the engine for the previous spec, or rolls out an earlier image still in the daemon.

The engine gates the rollout on the image's ``HEALTHCHECK`` (written from the target's health settings),
so the health deploysafe proved with ``verify --boot`` is what swarm waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploysafe.config.targets import TargetTable
from deploysafe.errors import ConfigError
from deploysafe.image import boot
from deploysafe.image.engine import Engine
from deploysafe.orchestrators.swarm import service as services
from deploysafe.orchestrators.swarm.rollout import Outcome, Say, follow
from deploysafe.orchestrators.swarm.service import HASH_LABEL, ID_LABEL, VERSION_LABEL, Service, SwarmError

__all__ = ["Release", "Status", "SwarmError", "deploy", "releases", "rollback", "status"]


@dataclass(frozen=True)
class Release:
    """An image the service runs or ran, with what its labels say."""

    image: str
    role: str  # current | previous | available
    version: str
    release_id: str
    content_sha256: str

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Status:
    service: str
    image: str
    image_version: str  # the image's org.opencontainers.image.version label
    update_state: str | None
    update_message: str
    running: int
    replicas: int | None
    tasks: list[str]

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def deploy(image_path: str | Path, name: str, target: TargetTable, *, say: Say, dry_run: bool = False) -> Outcome:
    """Roll the image at ``image_path`` (an OCI layout or its tar) out to the target's service."""
    path = Path(image_path)
    if not boot.is_image(path) and not (dry_run and path.is_dir()):
        raise ConfigError(
            f"{path}: not an OCI image; the swarm target {name} deploys a project tree or the image of "
            "`deploysafe pack --format oci`"
        )
    service_name = _service(name, target)
    before = services.inspect(service_name)
    if dry_run:
        action = f"update {service_name} (now {before.image})" if before else f"create {service_name}"
        say({"event": "plan", "line": f"would load {path} into docker and {action}, start-first, rollback on failure"})
        return Outcome(True, "dry-run", "nothing changed", before.image if before else "", 0.0)
    ref, _ = boot.load(Engine("docker"), path)
    say({"event": "loaded", "image": ref, "line": f"loaded {ref} into docker"})
    if before is None:
        services.create(
            service_name,
            ref,
            replicas=target.swarm_replicas,
            monitor=target.swarm_monitor,
            networks=target.swarm_networks,
        )
        say({"event": "created", "service": service_name, "line": f"created the service {service_name}"})
    else:
        services.update(service_name, ref, monitor=target.swarm_monitor)
        say({"event": "updating", "service": service_name, "line": f"updating {service_name}: {before.image} -> {ref}"})
    return follow(
        service_name,
        image=ref,
        before=before,
        deadline=target.swarm_deadline,
        say=say,
        replicas=target.swarm_replicas,
    )


def rollback(name: str, target: TargetTable, *, say: Say, release: str | None = None) -> Outcome:
    """The engine's rollback to the previous spec; with ``release`` (an id, version or image of
    :func:`releases`) a rollout of that image."""
    service_name = _service(name, target)
    before = _existing(service_name)
    if release is None:
        if not before.previous_image:
            raise SwarmError(f"the swarm service {service_name} has no previous spec to roll back to")
        services.rollback(service_name)
        say({"event": "rolling-back", "line": f"rolling {service_name} back to {before.previous_image}"})
        return follow(
            service_name,
            image=before.previous_image,
            before=before,
            deadline=target.swarm_deadline,
            say=say,
            rollback=True,
        )
    chosen = next((r for r in releases(name, target) if release in (r.release_id, r.version, r.image)), None)
    if chosen is None:
        raise ConfigError(f"no release {release!r} of {service_name} (see `deploysafe releases --to {name}`)")
    services.update(service_name, chosen.image, monitor=target.swarm_monitor)
    say({"event": "updating", "line": f"updating {service_name}: {before.image} -> {chosen.image}"})
    return follow(service_name, image=chosen.image, before=before, deadline=target.swarm_deadline, say=say)


def releases(name: str, target: TargetTable) -> list[Release]:
    """The service's image now, the one before (its previous spec), then the other images of the same
    repository still in the daemon, newest first."""
    current = _existing(_service(name, target))
    out = [_release(current.image, "current")]
    if current.previous_image and current.previous_image != current.image:
        out.append(_release(current.previous_image, "previous"))
    known = {r.image for r in out}
    repository = current.image.rsplit(":", 1)[0]
    listed = services.docker(
        ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository], what="listing the service's images"
    )
    for line in listed.stdout.split():
        if line not in known and not line.endswith(":<none>"):
            known.add(line)
            out.append(_release(line, "available"))
    return out


def status(name: str, target: TargetTable) -> Status:
    current = _existing(_service(name, target))
    rows = services.tasks(current.name)
    live = [t for t in rows if t.desired == "Running"]
    labels = services.image_labels(current.image)
    return Status(
        service=current.name,
        image=current.image,
        image_version=labels.get(VERSION_LABEL, ""),
        update_state=current.update_state,
        update_message=current.update_message,
        running=sum(1 for t in live if t.status == "running"),
        replicas=current.replicas,
        tasks=[t.line() for t in live],
    )


def _release(image: str, role: str) -> Release:
    labels = services.image_labels(image)
    return Release(image, role, labels.get(VERSION_LABEL, ""), labels.get(ID_LABEL, ""), labels.get(HASH_LABEL, ""))


def _service(name: str, target: TargetTable) -> str:
    if not target.swarm:
        raise ConfigError(f"target {name} is not a swarm service")
    return target.swarm


def _existing(service_name: str) -> Service:
    found = services.inspect(service_name)
    if found is None:
        raise SwarmError(f"no swarm service {service_name}: deploy an image to create it")
    return found
