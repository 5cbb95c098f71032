"""The OCI image layout (image-spec v1.1), written and read in one place: content-addressed blobs, layers,
the image config, the manifest and ``index.json``.

Everything written is deterministic: a layer is a tar of sorted members owned by 0:0 with mtime 0 and
empty owner names, gzip'd with no name and no timestamp (level 6), so the same files give the same layer
digest; JSON documents are written with sorted keys and no spaces; the config's dates are the epoch.
A layout directory is written beside its destination and renamed into place; ``tar_layout`` packs one
into the single-file form ``podman load``, ``skopeo copy oci-archive:`` and ``docker load`` (25+) read.

This module knows the format only: what goes into an image is :mod:`deploysafe.image.build`'s business.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from deploysafe.errors import ArtifactError

LAYOUT_VERSION = "1.0.0"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
EPOCH = "1970-01-01T00:00:00Z"
_CHUNK = 1 << 20
MAX_DOCUMENT = 4 << 20  # an index, manifest or config larger than this is refused
_DOCKER_MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


@dataclass(frozen=True)
class Descriptor:
    """A content-addressed blob: its media type, ``sha256:`` digest and size."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.annotations:
            out["annotations"] = dict(sorted(self.annotations.items()))
        return out

    @classmethod
    def from_json(cls, data: Any) -> Descriptor:
        if not isinstance(data, dict) or not isinstance(data.get("digest"), str):
            raise ArtifactError(f"malformed OCI descriptor: {str(data)[:120]}")
        return cls(
            str(data.get("mediaType", "")), data["digest"], int(data.get("size", 0)), data.get("annotations") or {}
        )


@dataclass(frozen=True)
class LayerFile:
    """One member of a layer: ``path`` inside the image (no leading ``/``), from a file on disk
    (``source``) or from bytes (``data``); ``link`` makes it a symbolic link instead."""

    path: str
    source: str | None = None
    data: bytes | None = None
    mode: int = 0o644
    link: str | None = None


@dataclass(frozen=True)
class Layer:
    """A layer written to a layout's blobs: its descriptor (compressed), its diff id (uncompressed) and
    the line its history entry shows."""

    descriptor: Descriptor
    diff_id: str
    created_by: str


@dataclass(frozen=True)
class Image:
    """An image in a layout: its manifest descriptor (from ``index.json``), manifest and config."""

    layout: Path
    descriptor: Descriptor
    manifest: dict[str, Any]
    config: dict[str, Any]

    @property
    def layers(self) -> list[Descriptor]:
        return [Descriptor.from_json(item) for item in self.manifest.get("layers", [])]

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids", []))

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config.get("config", {}).get("Labels") or {})

    @property
    def digest(self) -> str:
        return self.descriptor.digest

    def blob(self, digest: str) -> Path:
        return blob_path(self.layout, digest)


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    if algorithm != "sha256" or len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
        raise ArtifactError(f"{layout}: unsupported or malformed blob digest {digest!r}")
    return layout / "blobs" / "sha256" / hexdigest


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes a JSON document is stored as: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_blob(layout: Path, data: bytes, media_type: str) -> Descriptor:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, data)
    return Descriptor(media_type, digest, len(data))


def copy_blob(source: Path, layout: Path, descriptor: Descriptor) -> None:
    """A blob of another layout into ``layout`` (a hard link when the file system allows)."""
    src, dest = blob_path(source, descriptor.digest), blob_path(layout, descriptor.digest)
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


class _Digesting(io.RawIOBase):
    """A write-only stream that hashes and counts what goes through (the uncompressed tar) and passes it
    on deflated to ``sink`` while hashing the compressed bytes too."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.raw_hash = hashlib.sha256()
        self.gz_hash = hashlib.sha256()
        self.size = 0
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip wrapper: mtime 0, no name

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        self.raw_hash.update(view)
        self._out(self.deflate.compress(view))
        return len(view)

    def finish(self) -> None:
        self._out(self.deflate.flush())

    def _out(self, data: bytes) -> None:
        if data:
            self.gz_hash.update(data)
            self.size += len(data)
            self.sink.write(data)


def _tarinfo(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.linkname = link
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_layer(layout: Path, files: Iterable[LayerFile], created_by: str) -> Layer:
    """Write the tar.gz layer of ``files`` (parent folders added, 0755) into ``layout``'s blobs."""
    by_path: dict[str, LayerFile | None] = {}
    for item in files:
        parts = item.path.strip("/").split("/")
        for i in range(1, len(parts)):
            by_path.setdefault("/".join(parts[:i]), None)
        by_path["/".join(parts)] = item
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=blobs, prefix=".layer-")
    try:
        with os.fdopen(handle, "wb") as sink:
            stream = _Digesting(sink)
            with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
                for name, member in sorted(by_path.items()):
                    _add(tar, name, member)
            stream.finish()
        digest = "sha256:" + stream.gz_hash.hexdigest()
        os.replace(temp, blob_path(layout, digest))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return Layer(Descriptor(LAYER_TYPE, digest, stream.size), "sha256:" + stream.raw_hash.hexdigest(), created_by)


def _add(tar: tarfile.TarFile, name: str, item: LayerFile | None) -> None:
    if item is None:
        tar.addfile(_tarinfo(name + "/", tarfile.DIRTYPE, 0o755))
    elif item.link is not None:
        tar.addfile(_tarinfo(name, tarfile.SYMTYPE, 0o777, link=item.link))
    elif item.data is not None:
        tar.addfile(_tarinfo(name, tarfile.REGTYPE, item.mode, len(item.data)), io.BytesIO(item.data))
    elif item.source is not None:
        with open(item.source, "rb") as source:
            size = os.fstat(source.fileno()).st_size
            tar.addfile(_tarinfo(name, tarfile.REGTYPE, item.mode, size), source)
    else:
        tar.addfile(_tarinfo(name + "/", tarfile.DIRTYPE, item.mode))


def write_image(
    layout: Path, base: Image | None, layers: Sequence[Layer], config: dict[str, Any], ref_name: str
) -> Image:
    """Finish ``layout``: base blobs copied in, the config (``config`` is the ``config`` object of the image
    config, the base's rootfs and history extended by ``layers``), the manifest and ``index.json``."""
    base_layers = base.layers if base else []
    if base is not None:
        for descriptor in base_layers:
            copy_blob(base.layout, layout, descriptor)
    history = list(base.config.get("history", [])) if base else []
    history += [{"created": EPOCH, "created_by": layer.created_by} for layer in layers]
    document = {
        "architecture": base.config.get("architecture", "amd64") if base else "amd64",
        "os": base.config.get("os", "linux") if base else "linux",
        "created": EPOCH,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": (base.diff_ids if base else []) + [x.diff_id for x in layers]},
        "history": history,
    }
    if base is not None and base.config.get("variant"):
        document["variant"] = base.config["variant"]
    config_descriptor = write_blob(layout, canonical(document), CONFIG_TYPE)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": config_descriptor.to_json(),
        "layers": [_as_oci_layer(d).to_json() for d in base_layers] + [x.descriptor.to_json() for x in layers],
    }
    manifest_descriptor = write_blob(layout, canonical(manifest), MANIFEST_TYPE)
    tagged = Descriptor(MANIFEST_TYPE, manifest_descriptor.digest, manifest_descriptor.size, {REF_NAME: ref_name})
    index = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [tagged.to_json()]}
    _atomic_write(layout / "index.json", canonical(index))
    _atomic_write(layout / "oci-layout", canonical({"imageLayoutVersion": LAYOUT_VERSION}))
    return Image(layout, tagged, manifest, document)


def _as_oci_layer(descriptor: Descriptor) -> Descriptor:
    """A base layer a Docker manifest described, under its OCI media type (the bytes are the same)."""
    kind = descriptor.media_type
    if kind.startswith("application/vnd.docker.image.rootfs.diff.tar"):
        kind = LAYER_TYPE if kind.endswith("gzip") else "application/vnd.oci.image.layer.v1.tar"
    return Descriptor(kind, descriptor.digest, descriptor.size, descriptor.annotations)


def read_layout(layout: str | os.PathLike[str], ref_name: str | None = None) -> Image:
    """The image of a layout directory: the manifest ``ref_name`` tags, else the only one."""
    root = Path(layout)
    try:
        version = json.loads((root / "oci-layout").read_bytes()).get("imageLayoutVersion")
        index = json.loads((root / "index.json").read_bytes())
    except (OSError, ValueError, AttributeError) as err:
        raise ArtifactError(f"{root}: not an OCI image layout ({err})") from err
    if not isinstance(version, str):
        raise ArtifactError(f"{root}: oci-layout names no imageLayoutVersion")
    found = [Descriptor.from_json(item) for item in index.get("manifests", [])]
    if ref_name is not None:
        found = [d for d in found if d.annotations.get(REF_NAME) == ref_name] or found
    if len(found) != 1:
        raise ArtifactError(f"{root}: expected one image in index.json, found {len(found)}")
    descriptor = found[0]
    manifest = _json_blob(root, descriptor)
    if manifest.get("mediaType") in (INDEX_TYPE, _DOCKER_MANIFEST_TYPES[1]) or "manifests" in manifest:
        raise ArtifactError(f"{root}: {descriptor.digest} is a multi-platform index; copy one platform")
    config = _json_blob(root, Descriptor.from_json(manifest.get("config")))
    return Image(root, descriptor, manifest, config)


def read_archive(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any]]:
    """The reference (``ref.name``, "" when none) and config document of the one image in a tar of a layout, read in place."""
    try:
        with tarfile.open(path, "r:") as archive:

            def member(name: str) -> bytes:
                found = archive.extractfile(name) or archive.extractfile("./" + name)
                if found is None:
                    raise ArtifactError(f"{path}: {name} is not a file")
                return found.read(MAX_DOCUMENT + 1)[:MAX_DOCUMENT]

            index = json.loads(member("index.json"))
            descriptors = [Descriptor.from_json(item) for item in index.get("manifests", [])]
            if len(descriptors) != 1:
                raise ArtifactError(f"{path}: expected one image in index.json, found {len(descriptors)}")
            manifest = json.loads(member(blob_name(descriptors[0].digest)))
            config = json.loads(member(blob_name(Descriptor.from_json(manifest.get("config")).digest)))
    except (OSError, KeyError, ValueError, tarfile.TarError) as err:
        raise ArtifactError(f"{path}: not a tar of an OCI image layout ({err})") from err
    if not isinstance(config, dict):
        raise ArtifactError(f"{path}: the image config is not a JSON object")
    return descriptors[0].annotations.get(REF_NAME, ""), config


def blob_name(digest: str) -> str:
    """A blob's member name in a layout (``blobs/sha256/<hex>``), checked."""
    return blob_path(Path("."), digest).as_posix()


def _json_blob(layout: Path, descriptor: Descriptor) -> dict[str, Any]:
    path = blob_path(layout, descriptor.digest)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ArtifactError(f"{layout}: blob {descriptor.digest} is missing") from err
    if "sha256:" + hashlib.sha256(data).hexdigest() != descriptor.digest:
        raise ArtifactError(f"{layout}: blob {descriptor.digest} does not match its digest")
    try:
        document = json.loads(data)
    except ValueError as err:
        raise ArtifactError(f"{layout}: blob {descriptor.digest} is not JSON") from err
    if not isinstance(document, dict):
        raise ArtifactError(f"{layout}: blob {descriptor.digest} is not a JSON object")
    return document


def verify_blobs(image: Image) -> None:
    """Every layer blob of ``image`` is present with its size and digest."""
    for descriptor in image.layers:
        path = image.blob(descriptor.digest)
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    digest.update(chunk)
        except OSError as err:
            raise ArtifactError(f"{image.layout}: layer {descriptor.digest} is missing") from err
        if "sha256:" + digest.hexdigest() != descriptor.digest or path.stat().st_size != descriptor.size:
            raise ArtifactError(f"{image.layout}: layer {descriptor.digest} does not match its digest")


def tar_layout(layout: Path, output: Path) -> int:
    """The layout as one deterministic tar (``oci-layout``, ``index.json``, then the blobs); its size."""
    names = [
        "oci-layout",
        "index.json",
        *sorted(
            f"blobs/sha256/{p.name}" for p in (layout / "blobs" / "sha256").iterdir() if not p.name.startswith(".")
        ),
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    try:
        with os.fdopen(handle, "wb") as sink, tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for folder in ("blobs/", "blobs/sha256/"):
                tar.addfile(_tarinfo(folder, tarfile.DIRTYPE, 0o755))
            for name in names:
                with open(layout / name, "rb") as source:
                    size = os.fstat(source.fileno()).st_size
                    tar.addfile(_tarinfo(name, tarfile.REGTYPE, 0o644, size), source)
        os.replace(temp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return output.stat().st_size


def _atomic_write(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
