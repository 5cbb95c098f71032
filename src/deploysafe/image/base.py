"""The base image named in ``[image] base``, copied with skopeo into a cached OCI layout.

A reference with a transport (``docker://``, ``containers-storage:``, ``docker-daemon:``, ``oci:``,
``oci-archive:``, ``docker-archive:``) is taken as written. A bare name (``node:20.20.2-bookworm-slim``)
is taken from the local engine's storage when it has it, else from its registry (``docker://``). The
default is the official Node image of the version the check settled on.

The base's layers are reused byte for byte (their digests are the base's); only its config is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from deploysafe.artifact import oci
from deploysafe.errors import ArtifactError
from deploysafe.image.engine import Engine, skopeo

TRANSPORTS = ("docker://", "containers-storage:", "docker-daemon:", "oci:", "oci-archive:", "docker-archive:")
_TAG = "base"


@dataclass(frozen=True)
class Base:
    ref: str  # as the user named it
    source: str  # with its skopeo transport
    image: oci.Image  # in the cache's layout
    engine_ref: str | None  # the name the local engine runs it by, when it holds it already


def default_base(node_version: str) -> str:
    """The official Node image of ``node_version`` (Debian slim)."""
    return f"docker.io/library/node:{node_version}-bookworm-slim"


def fetch(ref: str, engine: Engine | None, cache: Path) -> Base:
    """``ref`` as an OCI layout under ``cache``. A base the local engine holds is copied once per image id
    (skopeo compresses its layers on the way out, which dominates a warm build); any other is copied
    again each time, so a moved tag is seen."""
    source, engine_ref = _source(ref, engine)
    image_id = _engine_image_id(engine, engine_ref) if engine is not None and engine_ref else None
    key = f"{source}@{image_id}" if image_id else source
    layout = cache / "bases" / hashlib.sha256(key.encode()).hexdigest()[:16]
    if image_id and (layout / "index.json").is_file():
        try:
            return Base(ref, source, oci.read_layout(layout, _TAG), engine_ref)
        except ArtifactError:
            pass  # a damaged cache entry: copy again
    layout.mkdir(parents=True, exist_ok=True)
    daemon = engine.daemon_option("src") if engine is not None and source.startswith("docker-daemon:") else []
    skopeo(["copy", "--quiet", *daemon, source, f"oci:{layout}:{_TAG}"], what=f"copying the base image {ref}")
    return Base(ref, source, oci.read_layout(layout, _TAG), engine_ref)


def _engine_image_id(engine: Engine, ref: str) -> str | None:
    done = engine.run(["image", "inspect", "--format", "{{.Id}}", ref], timeout=60)
    return done.stdout.strip() or None if done.ok else None


def _source(ref: str, engine: Engine | None) -> tuple[str, str | None]:
    if ref.startswith(TRANSPORTS):
        if engine is not None and ref.startswith(engine.transport + ":"):
            return ref, ref.split(":", 1)[1]
        return ref, None
    if engine is not None and engine.has_image(ref):
        return f"{engine.transport}:{ref}", ref
    return f"docker://{ref}", None
