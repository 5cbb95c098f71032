"""Check a release tree *on the host* against its manifest: every file's sha256, nothing extra."""

from __future__ import annotations

from deploysafe.artifact import MANIFEST_PATH, Manifest
from deploysafe.errors import ArtifactError
from deploysafe.hosts.base import Host


def _sha256sum_line(digest: str, path: str) -> str:
    if "\\" in path or "\n" in path:
        return "\\" + digest + "  " + path.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
    return f"{digest}  {path}\n"


def listing(target: Host, directory: str) -> list[tuple[str, str]]:
    """(find type letter, relative path) for everything under ``directory``."""
    done = target.run(["find", ".", "-mindepth", "1", "-printf", "%y %P\\0"], cwd=directory, timeout=300)
    done.check(f"listing {directory}")
    out = []
    for item in done.stdout.split("\0"):
        if item:
            kind, _, path = item.partition(" ")
            out.append((kind, path))
    return out


def match_manifest(target: Host, directory: str, manifest: Manifest, *, strict: bool) -> int:
    """Raise ArtifactError unless ``directory`` holds the manifest's files with their hashes.

    ``strict``: also refuse anything the manifest does not list (a fresh upload). Returns files checked.
    """
    if strict:
        expected = {f.path for f in manifest.files} | {MANIFEST_PATH}
        found: set[str] = set()
        for kind, path in listing(target, directory):
            if kind == "d":
                continue
            if kind != "f":
                raise ArtifactError(f"{directory}/{path}: not a regular file on the host after unpacking")
            if path not in expected:
                raise ArtifactError(f"{directory}/{path}: not listed in the manifest")
            found.add(path)
        missing = sorted(expected - found)
        if missing:
            raise ArtifactError(f"{directory}/{missing[0]}: missing on the host after unpacking")
    lines = [_sha256sum_line(f.sha256, f.path) for f in manifest.files]
    if manifest.manifest_sha256:
        lines.append(_sha256sum_line(manifest.manifest_sha256, MANIFEST_PATH))
    done = target.run(
        ["sha256sum", "--check", "--strict", "--quiet", "-"],
        cwd=directory,
        input="".join(lines).encode(),
        timeout=600,
    )
    if not done.ok:
        bad = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
        raise ArtifactError(f"{directory}: hash check failed on the host: {bad[0] if bad else done.returncode}")
    return len(lines)
