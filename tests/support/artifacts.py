"""Hand-made release archives, for tests of what readers do with artifacts ``deploysafe pack`` would never
write: an archive of a tree check blocks, a member that lies, a manifest out of order.

Real artifacts in tests come from ``deploysafe.pack.pack`` (see tests/release/apps.py). Both functions
here follow docs/artifact.md's layout (manifest first, members sorted, mtime 0, uid/gid 0, empty owner
names, 0644/0755, no gzip timestamp) so that a test can make exactly one thing wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

SKIP_DIRS = {"node_modules", ".git", ".deploysafe"}


def _files(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in filenames:
            full = Path(dirpath) / name
            if full.is_file() and not full.is_symlink() and not name.startswith(".env"):
                out.append(full.relative_to(root).as_posix())
    return sorted(out)


def build_artifact(
    root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    version: str | None = None,
    extra: dict[str, bytes] | None = None,
    manifest_overrides: dict[str, Any] | None = None,
) -> Path:
    """Archive ``root`` (plus ``extra`` files, path -> bytes) as ``out_dir/<id>.tar.gz``, unchecked."""
    root = Path(root)
    pkg = json.loads((root / "package.json").read_text())
    name = pkg.get("name", root.name)
    version = version or pkg.get("version", "0.0.0")
    contents: dict[str, tuple[bytes, int]] = {}
    for rel in _files(root):
        data = (root / rel).read_bytes()
        mode = 0o755 if os.access(root / rel, os.X_OK) else 0o644
        contents[rel] = (data, mode)
    if "package.json" in contents:
        pkg["version"] = version
        contents["package.json"] = ((json.dumps(pkg, indent=2) + "\n").encode(), 0o644)
    for rel, data in (extra or {}).items():
        contents[rel] = (data, 0o644)
    files = [
        {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "mode": mode}
        for rel, (data, mode) in sorted(contents.items())
    ]
    digest = hashlib.sha256("".join(f"{f['sha256']}  {f['path']}\n" for f in files).encode()).hexdigest()
    manifest: dict[str, Any] = {
        "format": 1,
        "tool": {"name": "deploysafe", "version": "0.1.0"},
        "name": name,
        "version": version,
        "id": f"{name}-{version}-{digest[:8]}",
        "content_sha256": digest,
        "entries": [pkg.get("main", "index.js")],
        "node": {"version": "20", "source": "test"},
        "start": f"node {pkg.get('main', 'index.js')}",
        "lockfile": "package-lock.json" if "package-lock.json" in contents else None,
        "files": files,
        "dormant": [],
        "excluded": [],
        "check": {"summary": {}, "forced": False},
    }
    manifest.update(manifest_overrides or {})
    out = Path(out_dir) / f"{manifest['id']}.tar.gz"
    write_tar(out, json.dumps(manifest, indent=2).encode(), contents)
    return out


def _info(name: str, size: int, mode: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.type = size, mode, 0, kind
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def write_tar(out: Path, manifest: bytes, contents: dict[str, tuple[bytes, int]]) -> None:
    """The archive: manifest first, then parent directories and files sorted by path."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info(".deploysafe/manifest.json", len(manifest), 0o644), io.BytesIO(manifest))
        dirs_done: set[str] = set()
        for rel in sorted(contents):
            parts = rel.split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs_done:
                    dirs_done.add(d)
                    tar.addfile(_info(d, 0, 0o755, tarfile.DIRTYPE))
            data, mode = contents[rel]
            tar.addfile(_info(rel, len(data), mode), io.BytesIO(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
