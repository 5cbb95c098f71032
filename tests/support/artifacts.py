"""Hand-written release archives, for the artifact reader's malformed-input tests only.

Real artifacts come from ``deploysafe.pack.pack`` (see tests/release/apps.py). ``write_tar`` lays out
any manifest and members the docs/artifact.md way (manifest first, sorted members, mtime 0, uid/gid 0,
no gzip timestamp), so a test can make one thing wrong at a time.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path


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
