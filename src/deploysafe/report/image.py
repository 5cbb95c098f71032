"""Image results for people: what ``pack --format oci`` wrote, and an image ``verify`` read."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from deploysafe.artifact import oci
from deploysafe.image.build import ImageResult
from deploysafe.report.pack import size


def render_image(result: ImageResult, console: Console) -> None:
    """The layers (reused or written), the labels that tie the image to the artifact, and how to load it."""
    for layer in result.layers:
        state = "reused" if layer.reused else "written"
        count = f", {layer.files} files" if layer.files else ""
        console.print(f"layer  {layer.what:<12} {layer.digest[:19]}  {size(layer.size):>9}  {state}{count}")
    labels = result.image.labels
    console.print(
        f"labels content-sha256 {labels.get('io.deploysafe.content-sha256', '')[:16]}… · "
        f"version {labels.get('org.opencontainers.image.version', '')} · entry {labels.get('io.deploysafe.entry', '')}"
    )
    config = result.image.config.get("config", {})
    check = "HEALTHCHECK " + ("on" if config.get("Healthcheck") else "none (no health setting)")
    ports = ", ".join(config.get("ExposedPorts") or {}) or "none"
    console.print(f"runs   as {config.get('User')} under /deploysafe/init (tini) · EXPOSE {ports} · {check}")
    if result.path.suffix == ".tar":
        console.print(f"load   podman load -i {escape(str(result.path))}  (or skopeo copy oci-archive:… to any engine)")
    else:
        source = f"oci:{result.path}:{result.reference}"
        console.print(f"load   skopeo copy {escape(source)} containers-storage:{escape(result.reference)}")
    console.print(
        f"[bold]IMAGE[/bold] {escape(result.reference)} {result.digest[:19]} → {escape(str(result.path))} "
        f"({size(result.size)}, base {escape(result.base)}) · {result.seconds:.2f} s"
    )


def render_image_verify(image: oci.Image, console: Console) -> None:
    labels = image.labels
    console.print(f"layers {len(image.layers)} match their digests (image {image.digest[:19]})")
    console.print(
        f"IMAGE  {labels.get('io.deploysafe.id', '(not built by deploysafe)')} · content sha256 "
        f"{labels.get('io.deploysafe.content-sha256', '?')[:16]}…"
    )
