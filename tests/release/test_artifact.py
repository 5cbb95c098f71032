"""The artifact reader refuses anything docs/artifact.md forbids, and unpacks without following links."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from deploysafe import artifact
from deploysafe.errors import ArtifactError
from deploysafe.pack import pack
from tests.support.artifacts import write_tar


def _manifest(files: dict[str, bytes], **extra: object) -> bytes:
    entries = [
        {"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d), "mode": 0o644}
        for p, d in sorted(files.items())
    ]
    digest = hashlib.sha256("".join(f"{e['sha256']}  {e['path']}\n" for e in entries).encode()).hexdigest()
    data = {
        "format": 1,
        "name": "x",
        "version": "1.0.0",
        "id": f"x-1.0.0-{digest[:8]}",
        "content_sha256": digest,
        "files": entries,
        **extra,
    }
    return json.dumps(data).encode()


def _raw_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_a_well_formed_artifact_verifies_and_unpacks_with_modes(tmp_path):
    src = tmp_path / "app"
    (src / "bin").mkdir(parents=True)
    (src / "package.json").write_text('{"name": "app", "version": "1.0.0", "main": "index.js"}')
    (src / "index.js").write_text("console.log('up');\n")
    (src / "bin" / "run.sh").write_text("#!/bin/sh\n")
    (src / "bin" / "run.sh").chmod(0o755)
    path = pack(src, output=tmp_path / "dist", include=["bin/**"]).path

    manifest = artifact.verify_archive(path)
    dest = tmp_path / "out"
    artifact.extract(path, dest)

    assert manifest.id.startswith("app-1.0.0-")
    assert os.access(dest / "bin" / "run.sh", os.X_OK)
    assert (dest / ".deploysafe" / "manifest.json").exists()
    assert artifact.read_manifest(path) == manifest


@pytest.mark.parametrize(
    ("name", "why"),
    [("/etc/passwd", "absolute"), ("../evil.js", r"'\.\.' segment"), ("a/../../b.js", r"'\.\.' segment")],
)
def test_members_with_unsafe_names_are_refused(tmp_path, name, why):
    body = b"x"
    manifest = _manifest({"ok.js": body})
    path = _raw_tar(tmp_path / "a.tar.gz", [_file(".deploysafe/manifest.json", manifest), _file(name, body)])
    with pytest.raises(ArtifactError, match=why):
        artifact.verify_archive(path)


def test_a_symlink_member_is_refused(tmp_path):
    manifest = _manifest({})
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc"
    path = _raw_tar(tmp_path / "a.tar.gz", [_file(".deploysafe/manifest.json", manifest), (link, None)])
    with pytest.raises(ArtifactError, match="not a regular file"):
        artifact.verify_archive(path)


def test_an_unlisted_member_is_refused(tmp_path):
    manifest = _manifest({"a.js": b"a"})
    path = _raw_tar(
        tmp_path / "a.tar.gz",
        [_file(".deploysafe/manifest.json", manifest), _file("a.js", b"a"), _file("extra.js", b"e")],
    )
    with pytest.raises(ArtifactError, match=r"extra\.js.*not listed"):
        artifact.verify_archive(path)


def test_a_file_whose_bytes_differ_from_the_manifest_is_refused(tmp_path):
    manifest = _manifest({"a.js": b"good"})
    path = _raw_tar(tmp_path / "a.tar.gz", [_file(".deploysafe/manifest.json", manifest), _file("a.js", b"evil")])
    with pytest.raises(ArtifactError, match=r"a\.js.*sha256"):
        artifact.verify_archive(path)


def test_a_file_the_manifest_lists_but_the_archive_lacks_is_refused(tmp_path):
    manifest = _manifest({"a.js": b"a", "b.js": b"b"})
    path = _raw_tar(tmp_path / "a.tar.gz", [_file(".deploysafe/manifest.json", manifest), _file("a.js", b"a")])
    with pytest.raises(ArtifactError, match=r"missing .b\.js."):
        artifact.verify_archive(path)


def test_the_manifest_must_be_the_first_member(tmp_path):
    manifest = _manifest({"a.js": b"a"})
    path = _raw_tar(tmp_path / "a.tar.gz", [_file("a.js", b"a"), _file(".deploysafe/manifest.json", manifest)])
    with pytest.raises(ArtifactError, match="first member"):
        artifact.read_manifest(path)


def test_a_manifest_whose_content_hash_lies_is_refused(tmp_path):
    data = json.loads(_manifest({"a.js": b"a"}))
    data["content_sha256"] = "0" * 64
    out = tmp_path / "a.tar.gz"
    write_tar(out, json.dumps(data).encode(), {"a.js": (b"a", 0o644)})
    with pytest.raises(ArtifactError, match="content_sha256"):
        artifact.verify_archive(out)


def test_unpacking_never_follows_a_symlink_already_in_the_destination(tmp_path):
    manifest = _manifest({"lib/a.js": b"a"})
    path = tmp_path / "a.tar.gz"
    write_tar(path, manifest, {"lib/a.js": (b"a", 0o644)})
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "lib").symlink_to(outside)

    with pytest.raises(ArtifactError, match="not a plain directory"):
        artifact.extract(path, dest)
    assert list(outside.iterdir()) == []


def test_a_truncated_archive_is_refused_in_one_line(tmp_path, make_artifact):
    path = make_artifact("1.0.0")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ArtifactError) as err:
        artifact.verify_archive(cut)
    assert "\n" not in str(err.value)
