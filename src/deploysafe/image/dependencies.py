"""The image's production dependency layer: the packed lockfile installed inside the base image.

The install runs where the service will run — ``npm ci --omit=dev`` (or the lockfile's yarn/pnpm
command) in a throwaway container of the base, with the packed ``package.json``, lockfile and token-free
``.npmrc`` mounted at ``/app``, the host's npm cache shared, and the host's proxy settings and extra CA
certificates (``NODE_EXTRA_CA_CERTS``) passed on — so native addons are built against the
base's libc, not the host's. The installed ``node_modules`` becomes a deterministic layer at
``/app/node_modules``.

The layer is cached under a key of the base's config digest, the bytes of the files the install reads
and the command: while the lockfile is unchanged the next image reuses the same blob (same digest) and
nothing is installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

from deploysafe.artifact import oci
from deploysafe.image.engine import Engine, ImageError

APP = "app"
INSTALL_INPUTS = ("package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", ".npmrc")
_INSTALL_TIMEOUT = 900.0
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


def layer(
    layout: Path,
    unpacked: Path,
    command: list[str],
    base_digest: str,
    base_ref: str,
    engine: Engine,
    cache: Path,
) -> tuple[oci.Layer, bool]:
    """The dependency layer in ``layout`` from the unpacked artifact; (layer, True when it was reused)."""
    inputs = [name for name in INSTALL_INPUTS if (unpacked / name).is_file()]
    key = hashlib.sha256()
    for part in (base_digest, " ".join(command), *inputs):
        key.update(part.encode() + b"\0")
    for name in inputs:
        key.update(hashlib.sha256((unpacked / name).read_bytes()).digest())
    record = cache / "layers" / f"{key.hexdigest()}.json"
    reused = _cached(record, layout)
    if reused is not None:
        return reused, True
    work = Path(tempfile.mkdtemp(prefix="deploysafe-image-install-"))
    try:
        for name in inputs:
            shutil.copyfile(unpacked / name, work / name)
        _install(engine, base_ref, work, command)
        built = oci.write_layer(layout, _tree(work / "node_modules", f"{APP}/node_modules"), " ".join(command))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _remember(record, layout, built)
    return built, False


def _install(engine: Engine, base_ref: str, work: Path, command: list[str]) -> None:
    mounts = ["-v", f"{work}:/app"]
    npm_cache = Path(os.path.expanduser("~/.npm"))
    if npm_cache.is_dir():
        mounts += ["-v", f"{npm_cache}:/deploysafe-npm-cache", "-e", "npm_config_cache=/deploysafe-npm-cache"]
    extra_ca = os.environ.get("NODE_EXTRA_CA_CERTS", "")
    if extra_ca and os.path.isfile(extra_ca):  # a TLS-intercepting proxy's CA, trusted here, trusted there
        mounts += ["-v", f"{extra_ca}:/deploysafe-ca.crt:ro", "-e", "NODE_EXTRA_CA_CERTS=/deploysafe-ca.crt"]
    for name in _PROXY_VARIABLES:
        if os.environ.get(name):
            mounts += ["-e", name]
    args = ["run", "--rm", "--network", "host", "--user", "0", *mounts, "-w", "/app", "-e", "NODE_ENV=production"]
    done = engine.run([*args, base_ref, *command], timeout=_INSTALL_TIMEOUT)
    if not done.ok:
        raise ImageError(
            f"`{' '.join(command)}` inside the base image {base_ref} failed (exit {done.code}): {done.tail()}"
        )
    if not (work / "node_modules").is_dir():
        (work / "node_modules").mkdir()


def _tree(root: Path, prefix: str) -> list[oci.LayerFile]:
    """Every file, folder and symbolic link under ``root`` as layer members under ``prefix``."""
    found = [oci.LayerFile(prefix, mode=0o755)]
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        relative = os.path.relpath(folder, root)
        base = prefix if relative == "." else f"{prefix}/{relative.replace(os.sep, '/')}"
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            member = f"{base}/{name}"
            if stat.S_ISLNK(info.st_mode):
                found.append(oci.LayerFile(member, link=os.readlink(path)))
            elif stat.S_ISDIR(info.st_mode):
                found.append(oci.LayerFile(member, mode=0o755))
            elif stat.S_ISREG(info.st_mode):
                found.append(oci.LayerFile(member, source=path, mode=0o755 if info.st_mode & 0o111 else 0o644))
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    return found


def _cached(record: Path, layout: Path) -> oci.Layer | None:
    try:
        data = json.loads(record.read_text())
        descriptor = oci.Descriptor.from_json(data["descriptor"])
        blob = record.parent / "blobs" / descriptor.digest.split(":", 1)[1]
        if blob.stat().st_size != descriptor.size:
            return None
        target = oci.blob_path(layout, descriptor.digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(blob, target)
            except OSError:
                shutil.copyfile(blob, target)
        return oci.Layer(descriptor, str(data["diff_id"]), str(data["created_by"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(record: Path, layout: Path, built: oci.Layer) -> None:
    blobs = record.parent / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    blob = blobs / built.descriptor.digest.split(":", 1)[1]
    if not blob.exists():
        try:
            os.link(oci.blob_path(layout, built.descriptor.digest), blob)
        except OSError:
            shutil.copyfile(oci.blob_path(layout, built.descriptor.digest), blob)
    data = {"descriptor": built.descriptor.to_json(), "diff_id": built.diff_id, "created_by": built.created_by}
    temp = record.with_suffix(".tmp")
    temp.write_text(json.dumps(data))
    os.replace(temp, record)
