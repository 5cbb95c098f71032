"""deploysafe manifest --for kubernetes|fly: the orchestrator's manifests carry the image's health settings,
and the Kubernetes documents pass the Kubernetes OpenAPI schema (strict, offline: kubernetes-validate)."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import kubernetes_validate
import yaml

from deploysafe.image.settings import image_settings
from deploysafe.orchestrators.kubernetes import KUBERNETES_VERSION, validate
from tests.support.projects import run_cli, write_tree

CONFIG = """\
[targets.web]
path = "/srv/api"
health = "http://127.0.0.1:8080/healthz"
health_expect = "ok"
health_interval = 10
health_timeout = 3
health_passes = 4
boot_deadline = 45
shared = [".env", "uploads/"]

[kubernetes]
namespace = "shop"
replicas = 3
progress_deadline = 300
cpu = "250m"
memory = "256Mi"
"""
IMAGE = "registry.example.com/shop/api:2.1.0-3f88961c"


def project(root: Path, config: str = CONFIG) -> Path:
    return write_tree(
        root,
        {"package.json": {"name": "@shop/api", "version": "2.1.0"}, "index.js": "", "deploysafe.toml": config},
    )


def test_kubernetes_deployment_rolls_out_one_pod_at_a_time_gated_on_the_images_health(tmp_path):
    root = project(tmp_path)
    done = run_cli("manifest", str(root), "--for", "kubernetes", "--image", IMAGE)
    assert done.returncode == 0, done.stderr
    deployment, service = yaml.safe_load_all(done.stdout)
    for doc in (deployment, service):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises on any schema error
    assert f"validated against the Kubernetes {KUBERNETES_VERSION} OpenAPI schema" in done.stderr
    spec = deployment["spec"]
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert spec["progressDeadlineSeconds"] == 300 and spec["replicas"] == 3
    assert deployment["metadata"]["name"] == "shop-api" and deployment["metadata"]["namespace"] == "shop"
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == IMAGE and container["ports"][0]["containerPort"] == 8080
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000}
    check = image_settings(root).healthcheck()  # the image's own HEALTHCHECK: the same settings
    assert check is not None
    ready, live, start = container["readinessProbe"], container["livenessProbe"], container["startupProbe"]
    assert ready["exec"]["command"] == check["Test"][1:]  # status and body ("ok"), as the image checks itself
    assert live["httpGet"] == {"path": "/healthz", "port": "http"} and start["httpGet"] == live["httpGet"]
    assert ready["periodSeconds"] * 10**9 == check["Interval"] == 10 * 10**9
    assert ready["timeoutSeconds"] == 3 and ready["failureThreshold"] == live["failureThreshold"] == 4
    assert start["failureThreshold"] * start["periodSeconds"] >= 45  # the boot deadline
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "250m", "memory": "256Mi"},
    }
    assert container["volumeMounts"] == [
        {"name": "shared", "mountPath": "/app/.env", "subPath": ".env", "readOnly": True}
    ]
    assert pod["volumes"] == [{"name": "shared", "secret": {"secretName": "shop-api-shared"}}]
    assert "kubectl create secret generic shop-api-shared --from-file=.env=.env" in done.stderr
    assert "shared folder 'uploads/' is not mapped" in done.stderr
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert service["spec"]["selector"] == spec["selector"]["matchLabels"]


def test_the_schema_check_refuses_a_misspelt_field_and_a_wrong_type(tmp_path):
    done = run_cli("manifest", str(project(tmp_path)), "--for", "kubernetes", "--image", IMAGE)
    deployment = next(yaml.safe_load_all(done.stdout))
    typo = copy.deepcopy(deployment)
    container = typo["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    wrong = copy.deepcopy(deployment)
    wrong["spec"]["replicas"] = "three"
    assert validate([deployment]) == []
    assert any("readinesProbe" in problem for problem in validate([typo]))
    assert any("replicas" in problem for problem in validate([wrong]))


def test_fly_toml_checks_are_the_images_health_settings(tmp_path):
    out = tmp_path / "fly.toml"
    done = run_cli("manifest", str(project(tmp_path / "api")), "--for", "fly", "--image", IMAGE, "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "[[http_service.checks]]" in text
    fly = tomllib.loads(text)
    assert fly["app"] == "shop-api" and fly["build"]["image"] == IMAGE
    assert fly["http_service"]["internal_port"] == 8080 and fly["env"]["PORT"] == "8080"
    assert fly["http_service"]["checks"] == [
        {"grace_period": "45s", "interval": "10s", "timeout": "3s", "method": "GET", "path": "/healthz"}
    ]
    assert "the body match 'ok' is not checked" in done.stderr


def test_a_manifest_without_a_port_to_route_to_is_a_one_line_usage_error(tmp_path):
    done = run_cli("manifest", str(project(tmp_path, "")), "--for", "kubernetes", "--image", IMAGE)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("deploysafe: error: a Kubernetes Service needs the port")
