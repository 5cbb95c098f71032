"""`deploysafe manifest --for kubernetes|fly`: the orchestrator's manifest for the service's image, with the
health settings the image's HEALTHCHECK and the boot test use."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from deploysafe.cli.app import main
from deploysafe.config import load
from deploysafe.errors import ConfigError
from deploysafe.image.settings import image_settings
from deploysafe.orchestrators import fly, kubernetes, service_name


@main.command()
@click.argument("root", default=".", type=click.Path(path_type=Path))
@click.option("--for", "platform", type=click.Choice(("kubernetes", "fly")), required=True, help="The orchestrator.")
@click.option("--image", "image", required=True, metavar="REF", help="The image as the orchestrator pulls it.")
@click.option("--to", "target", metavar="TARGET", help="The target whose health settings and shared files apply.")
@click.option("--output", "-o", metavar="FILE", help="Write here instead of stdout.")
def manifest(root: Path, platform: str, image: str, target: str | None, output: str | None) -> None:
    """Write the orchestrator's manifest for IMAGE (built by pack --format oci and pushed).

    \b
    kubernetes: a Deployment (maxSurge 1, maxUnavailable 0, progressDeadlineSeconds, startup, readiness
                and liveness probes from the health settings, non-root, the shared files from a Secret,
                resources from [kubernetes] cpu/memory) and a Service, as YAML; validated against the
                Kubernetes OpenAPI schema when kubernetes-validate is installed.
    fly:        fly.toml with [[http_service.checks]] from the same health settings.

    \b
    Exit codes: 0 written, 1 the schema refuses the documents, 2 usage or configuration error.

    \b
    Examples:
      deploysafe manifest --for kubernetes --image registry.example.com/api:1.4.0-3f88961c -o k8s.yaml
      kubectl apply -f k8s.yaml && kubectl rollout status deployment/seed-api
      deploysafe manifest --for fly --image registry.fly.io/seed-api:1.4.0-3f88961c -o fly.toml
    """
    if not root.is_dir():
        raise ConfigError(f"{root}: no such directory")
    config = load(root)
    settings = image_settings(root, target, config)
    name = service_name(root)
    if platform == "kubernetes":
        import yaml

        docs, warnings = kubernetes.documents(name, image, settings, config.kubernetes, version=_version(root))
        problems = _validated(docs)
        if problems:
            for problem in problems:
                click.echo(f"deploysafe: error: {problem}", err=True)
            sys.exit(1)
        text = yaml.dump_all(docs, Dumper=_plain_dumper(), sort_keys=False, default_flow_style=False)
    else:
        table, warnings = fly.document(name, image, settings)
        text = fly.dumps(table)
    for warning in warnings:
        click.echo(f"note: {warning}", err=True)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.write(text)


def _plain_dumper() -> type:
    import yaml

    class PlainDumper(yaml.SafeDumper):
        """Every mapping written out where it is used: no ``&id001`` anchors for shared label tables."""

        def ignore_aliases(self, data: object) -> bool:
            return True

    return PlainDumper


def _validated(docs: list[dict[str, object]]) -> list[str]:
    try:
        problems = kubernetes.validate(docs)
    except ImportError:
        click.echo("note: not validated (pip install 'deploysafe[kubernetes]' adds the Kubernetes schema)", err=True)
        return []
    click.echo(f"validated against the Kubernetes {kubernetes.KUBERNETES_VERSION} OpenAPI schema (strict)", err=True)
    return problems


def _version(root: Path) -> str | None:
    try:
        data = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None
