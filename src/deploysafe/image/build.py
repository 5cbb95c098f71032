"""``pack --format oci``: the OCI image of exactly what a release artifact ships, in named steps.

find the engine  ->  copy the base image (:mod:`.base`)  ->  unpack the artifact (every member checked)
->  the production dependency layer, installed inside the base and reused while the lockfile is unchanged
(:mod:`.dependencies`)  ->  the closure layer (the artifact's files, its manifest included, at ``/app``)
->  the init layer (a static ``tini`` at ``/deploysafe/init``)  ->  the config (non-root user, entry under
the init, ``PORT``, ``EXPOSE``, ``HEALTHCHECK`` from the target's health settings, labels with the
manifest's content hash, version and entries)  ->  the layout (or its tar).

The closure layer is built from the artifact, not from the tree, so the image holds what the tar.gz holds
and nothing else: dormant files and secrets stay out exactly as there. The same artifact and base give the
same digests.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploysafe import artifact as artifacts
from deploysafe.artifact import oci
from deploysafe.check.cache import default_cache_dir
from deploysafe.image import base as bases
from deploysafe.image import dependencies
from deploysafe.image.engine import Engine, ImageError, find_engine
from deploysafe.image.settings import ImageSettings
from deploysafe.pack.verify import install_command

INIT_PATH = "deploysafe/init"
INIT_CANDIDATES = ("/usr/bin/tini-static", "/usr/local/bin/tini-static", "/sbin/tini-static")
LABEL_PREFIX = "io.deploysafe."
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_NAME_UNSAFE = re.compile(r"[^a-z0-9._/-]+")


@dataclass(frozen=True)
class LayerReport:
    what: str  # "base", "dependencies", "closure", "init"
    digest: str
    size: int
    reused: bool = False
    files: int = 0


@dataclass
class ImageResult:
    path: Path  # the layout directory, or the tar written
    image: oci.Image
    name: str  # repository, e.g. localhost/seed-api
    tag: str  # <version>-<content hash prefix>
    base: str
    engine: str
    layers: list[LayerReport] = field(default_factory=list)
    seconds: float = 0.0
    size: int = 0  # bytes of every blob (compressed layers + documents)

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def digest(self) -> str:
        return self.image.digest

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "path": str(self.path),
            "reference": self.reference,
            "digest": self.digest,
            "config_digest": self.image.manifest["config"]["digest"],
            "base": self.base,
            "engine": self.engine,
            "layers": [vars(layer) for layer in self.layers],
            "labels": self.image.labels,
            "size": self.size,
            "seconds": round(self.seconds, 3),
        }


def build_image(
    artifact: str | os.PathLike[str],
    output: str | os.PathLike[str],
    settings: ImageSettings,
    *,
    engine: Engine | None = None,
    cache: Path | None = None,
) -> ImageResult:
    """Write the image of ``artifact`` to ``output`` (an OCI layout directory, or a ``.tar`` of one)."""
    started = time.perf_counter()
    engine = engine or find_engine()
    cache = cache or default_cache_dir() / "images"
    out = Path(output)
    as_tar = out.suffix == ".tar"
    out.parent.mkdir(parents=True, exist_ok=True)
    layout = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    unpacked = Path(tempfile.mkdtemp(prefix="deploysafe-image-"))
    try:
        manifest = artifacts.extract(artifact, unpacked)
        node = manifest.raw.get("node")
        version = node.get("version") if isinstance(node, dict) else None
        base_ref = settings.base or bases.default_base(str(version or "20"))
        base = bases.fetch(base_ref, engine, cache)
        reports = [LayerReport("base", d.digest, d.size, reused=True) for d in base.image.layers]
        layers: list[oci.Layer] = []
        if _needs_install(unpacked, manifest):
            engine_ref = base.engine_ref or _load_base(engine, base)
            deps, reused = dependencies.layer(
                layout, unpacked, install_command(manifest), base.image.digest, engine_ref, engine, cache
            )
            layers.append(deps)
            reports.append(LayerReport("dependencies", deps.descriptor.digest, deps.descriptor.size, reused))
        closure_files = _closure(unpacked)
        closure = oci.write_layer(layout, closure_files, f"deploysafe pack: {manifest.id}")
        layers.append(closure)
        reports.append(
            LayerReport("closure", closure.descriptor.digest, closure.descriptor.size, files=len(manifest.files) + 1)
        )
        init = oci.write_layer(
            layout, [oci.LayerFile(INIT_PATH, source=_init_binary(settings), mode=0o755)], "deploysafe init (tini)"
        )
        layers.append(init)
        reports.append(LayerReport("init", init.descriptor.digest, init.descriptor.size, files=1))
        tag = _TAG_UNSAFE.sub("-", f"{manifest.version}-{manifest.content_sha256[:8]}")[:128]
        name = settings.name or "localhost/" + (_NAME_UNSAFE.sub("-", manifest.name.lower()).strip("-/") or "app")
        config = image_config(base.image, manifest, settings)
        image = oci.write_image(layout, base.image, layers, config, f"{name}:{tag}")  # podman load names it so
        size = sum(p.stat().st_size for p in (layout / "blobs" / "sha256").iterdir())
        path = _place(layout, out, as_tar)
        if not as_tar:
            image = oci.read_layout(path)
        result = ImageResult(path, image, name, tag, base_ref, engine.name, reports, size=size)
        result.seconds = time.perf_counter() - started
        return result
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)
        shutil.rmtree(layout, ignore_errors=True)


def _needs_install(unpacked: Path, manifest: artifacts.Manifest) -> bool:
    if manifest.file("package.json") is None or any(f.path.startswith("node_modules/") for f in manifest.files):
        return False
    return manifest.lockfile is not None or _declares_dependencies(unpacked / "package.json")


def _declares_dependencies(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get("dependencies"))


def _load_base(engine: Engine, base: bases.Base) -> str:
    ref = f"localhost/deploysafe-base:{base.image.digest.split(':', 1)[1][:16]}"
    if not engine.has_image(ref):
        engine.load(base.image.layout, "base", ref)
    return ref


def _closure(unpacked: Path) -> list[oci.LayerFile]:
    files: list[oci.LayerFile] = []
    for folder, dirs, names in os.walk(unpacked):
        dirs.sort()
        relative = os.path.relpath(folder, unpacked).replace(os.sep, "/")
        prefix = dependencies.APP if relative == "." else f"{dependencies.APP}/{relative}"
        for name in names:
            path = os.path.join(folder, name)
            mode = 0o755 if os.stat(path).st_mode & 0o111 else 0o644
            files.append(oci.LayerFile(f"{prefix}/{name}", source=path, mode=mode))
    return files


def _init_binary(settings: ImageSettings) -> str:
    candidates = (settings.init,) if settings.init else INIT_CANDIDATES
    for candidate in candidates:
        if candidate and os.path.isfile(candidate):
            return candidate
    if settings.init:
        raise ImageError(f"[image] init {settings.init!r}: no such file")
    raise ImageError("the image's init is tini-static, which is not installed here (apt-get install tini)")


def image_config(base: oci.Image, manifest: artifacts.Manifest, settings: ImageSettings) -> dict[str, Any]:
    """The ``config`` object of the image: the base's environment, then the service's run settings."""
    inherited = base.config.get("config") or {}
    env = [item for item in inherited.get("Env") or [] if not item.startswith(("NODE_ENV=", "PORT="))]
    env.append("NODE_ENV=production")
    if settings.port:
        env.append(f"PORT={settings.port}")
    command = (
        settings.command or manifest.start or (f"node {shlex.quote(manifest.entries[0])}" if manifest.entries else "")
    )
    if not command:
        raise ImageError("the manifest names no start command and no entry: set [image] command")
    labels = {
        "org.opencontainers.image.title": manifest.name,
        "org.opencontainers.image.version": manifest.version,
        LABEL_PREFIX + "id": manifest.id,
        LABEL_PREFIX + "content-sha256": manifest.content_sha256,
        LABEL_PREFIX + "entry": " ".join(manifest.entries),
        LABEL_PREFIX + "start": command,
    }
    config: dict[str, Any] = {
        "Env": env,
        "User": settings.user,
        "WorkingDir": f"/{dependencies.APP}",
        "Entrypoint": [f"/{INIT_PATH}", "--"],
        "Cmd": shlex.split(command),
        "Labels": labels,
        "StopSignal": "SIGTERM",
    }
    if settings.port:
        config["ExposedPorts"] = {f"{settings.port}/tcp": {}}
    healthcheck = settings.healthcheck()
    if healthcheck:
        config["Healthcheck"] = healthcheck
    return config


def _place(layout: Path, out: Path, as_tar: bool) -> Path:
    if as_tar:
        oci.tar_layout(layout, out)
        return out
    if out.exists():
        if not (out / "oci-layout").is_file():
            raise ImageError(f"{out} exists and is not an OCI image layout: not replacing it")
        shutil.rmtree(out)
    os.replace(layout, out)
    return out
