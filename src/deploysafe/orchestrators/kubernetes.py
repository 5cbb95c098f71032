"""``deploysafe manifest --for kubernetes``: a Deployment and a Service for the image.

The Deployment rolls out one new pod at a time and never takes a ready one away first (``maxSurge: 1``,
``maxUnavailable: 0``), gives up after ``progressDeadlineSeconds``, and judges pods with the image's
health settings: a startup probe that allows the boot deadline, then readiness and liveness probes with
the target's interval, timeout and passes. Pods run as the image's non-root user. The target's shared
files (``shared = [".env"]``) come from a Secret mounted file by file into ``/app``; shared folders need a
volume of the user's choosing and are named in the warnings. Resources are set only when configured.

:func:`validate` checks the documents against the Kubernetes OpenAPI schema (strict: unknown fields are
errors) with the ``kubernetes-validate`` package, offline.
"""

from __future__ import annotations

import math
from typing import Any

from deploysafe.config.tables import KubernetesTable
from deploysafe.errors import ConfigError
from deploysafe.image.settings import ImageSettings

APP = "/app"
PORT_NAME = "http"
KUBERNETES_VERSION = "1.30"  # the schema the documents are written for and validated against


def documents(
    name: str, image: str, settings: ImageSettings, table: KubernetesTable, *, version: str | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """(the Deployment and the Service, warnings about what could not be expressed)."""
    if not settings.port:
        raise ConfigError(
            "a Kubernetes Service needs the port the service listens on: set [image] port or a target's health URL"
        )
    warnings: list[str] = []
    labels = {"app.kubernetes.io/name": name}
    meta: dict[str, Any] = {"name": name, "labels": {**labels, "app.kubernetes.io/managed-by": "deploysafe"}}
    if version:
        meta["labels"]["app.kubernetes.io/version"] = version
    if table.namespace:
        meta["namespace"] = table.namespace
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "ports": [{"name": PORT_NAME, "containerPort": settings.port, "protocol": "TCP"}],
    }
    container.update(_probes(settings))
    if table.cpu or table.memory:
        amounts = {k: v for k, v in (("cpu", table.cpu), ("memory", table.memory)) if v}
        container["resources"] = {"requests": dict(amounts), "limits": dict(amounts)}
    uid, _, gid = settings.user.partition(":")
    security: dict[str, Any] = {"runAsNonRoot": True}
    if uid.isdigit():
        security["runAsUser"] = int(uid)
    if gid.isdigit():
        security["runAsGroup"] = int(gid)
    pod: dict[str, Any] = {"securityContext": security, "containers": [container]}
    files = [item for item in settings.shared if not item.endswith("/")]
    folders = [item for item in settings.shared if item.endswith("/")]
    if files:
        secret = table.secret or f"{name}-shared"
        pod["volumes"] = [{"name": "shared", "secret": {"secretName": secret}}]
        container["volumeMounts"] = [
            {"name": "shared", "mountPath": f"{APP}/{item}", "subPath": item.replace("/", "-"), "readOnly": True}
            for item in files
        ]
        keys = ", ".join(f"--from-file={item.replace('/', '-')}={item}" for item in files)
        warnings.append(f"shared files come from the Secret {secret!r}: kubectl create secret generic {secret} {keys}")
    for item in folders:
        warnings.append(f"shared folder {item!r} is not mapped: give it a volume (a PersistentVolumeClaim) yourself")
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": table.replicas,
            "progressDeadlineSeconds": table.progress_deadline,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }
    service_meta = {k: v for k, v in meta.items()}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": service_meta,
        "spec": {
            "selector": labels,
            "ports": [{"name": PORT_NAME, "port": settings.port, "targetPort": PORT_NAME, "protocol": "TCP"}],
        },
    }
    return [deployment, service], warnings


def _probes(settings: ImageSettings) -> dict[str, Any]:
    probe = settings.probe
    if probe is None:
        return {}
    if probe.kind == "http":
        action: dict[str, Any] = {"httpGet": {"path": settings.path, "port": PORT_NAME}}
        if probe.url.startswith("https://"):
            action["httpGet"]["scheme"] = "HTTPS"
    elif probe.kind == "tcp":
        action = {"tcpSocket": {"port": PORT_NAME}}
    else:
        action = {"exec": {"command": ["sh", "-c", probe.command]}}
    period = max(1, round(settings.interval))
    timing = {"periodSeconds": period, "timeoutSeconds": max(1, math.ceil(settings.timeout))}
    out = {
        "startupProbe": {**action, **timing, "failureThreshold": max(1, math.ceil(settings.start_period / period))},
        "readinessProbe": {**action, **timing, "failureThreshold": settings.retries, "successThreshold": 1},
        "livenessProbe": {**action, **timing, "failureThreshold": settings.retries},
    }
    if probe.expect:
        # Kubernetes judges HTTP probes by status only; the image's own HEALTHCHECK also matches the body.
        out["readinessProbe"] = {
            "exec": {"command": list(settings.healthcheck()["Test"][1:])},  # type: ignore[index]
            **timing,
            "failureThreshold": settings.retries,
            "successThreshold": 1,
        }
    return out


def validate(docs: list[dict[str, Any]], version: str = KUBERNETES_VERSION) -> list[str]:
    """Problems the Kubernetes OpenAPI schema (strict) finds in ``docs``; empty when they are valid."""
    import kubernetes_validate

    problems = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            where = "/".join(str(p) for p in err.path)
            problems.append(f"{doc.get('kind')} {where}: {err.message}")
    return problems
