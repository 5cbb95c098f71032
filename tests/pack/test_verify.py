"""`verify` unpacks safely, checks every hash, re-runs check on the unpacked tree, and refuses bad input
with a clear one-line error. The malicious archives are built here with Python's tarfile."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from deploysafe.errors import ArtifactError
from deploysafe.pack import pack, verify
from tests.support.artifacts import build_artifact
from tests.support.projects import run_cli, write_tree

INDEX = b"console.log('loaded');\n"


def manifest_for(files: dict[str, bytes]) -> bytes:
    entries = [
        {"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d), "mode": 0o644}
        for p, d in sorted(files.items())
    ]
    digest = hashlib.sha256("".join(f"{e['sha256']}  {e['path']}\n" for e in entries).encode()).hexdigest()
    return json.dumps(
        {
            "format": 1,
            "name": "evil",
            "version": "1.0.0",
            "id": f"evil-1.0.0-{digest[:8]}",
            "content_sha256": digest,
            "entries": ["index.js"],
            "files": entries,
        }
    ).encode()


def craft(path: Path, listed: dict[str, bytes], members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    """An archive whose manifest lists ``listed`` but whose members are exactly ``members``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in [
            (regular(".deploysafe/manifest.json", manifest_for(listed)), manifest_for(listed)),
            *members,
        ]:
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path


def regular(name: str, data: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info


def symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


GOOD = {"index.js": INDEX}
TAMPERED = b"console.log('OWNED!');\n"  # same size, other bytes


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([(regular("index.js", INDEX), INDEX), (regular("../evil.js", b"x"), b"x")], "'../evil.js' has a '..' segment"),
        ([(regular("index.js", INDEX), INDEX), (regular("/tmp/evil.js", b"x"), b"x")], "has an absolute path"),
        (
            [(regular("index.js", INDEX), INDEX), (symlink("escape", "/etc"), b"")],
            "'escape' is not a regular file or directory",
        ),
        (
            [(regular("index.js", INDEX), INDEX), (symlink("lib.js", "../../../../etc/passwd"), b"")],
            "'lib.js' is not a regular file or directory",
        ),
        (
            [(regular("index.js", TAMPERED), TAMPERED)],
            "does not match its sha256",
        ),
        ([(regular("index.js", INDEX + b"//"), INDEX + b"//")], "is 25 bytes, the manifest says 23"),
        (
            [(regular("index.js", INDEX), INDEX), (regular("extra.js", b"x"), b"x")],
            "'extra.js' is not listed in the manifest",
        ),
    ],
    ids=[
        "dotdot",
        "absolute",
        "symlink-to-dir-outside",
        "symlink-to-file-outside",
        "hash-mismatch",
        "size-mismatch",
        "unlisted",
    ],
)
def test_verify_rejects_unsafe_or_tampered_archives(tmp_path: Path, members: list, message: str) -> None:
    bad = craft(tmp_path / "bad.tar.gz", GOOD, members)

    with pytest.raises(ArtifactError, match=re.escape(message)):
        verify(bad, into=tmp_path / "unpacked")
    assert not (tmp_path / "evil.js").exists()
    assert not (tmp_path / "unpacked" / "escape").exists()


def test_cli_rejection_is_one_line_with_exit_1(tmp_path: Path) -> None:
    bad = craft(
        tmp_path / "bad.tar.gz", GOOD, [(regular("index.js", INDEX), INDEX), (regular("../evil.js", b"x"), b"x")]
    )
    done = run_cli("verify", str(bad))

    assert done.returncode == 1
    assert done.stderr == "deploysafe: error: artifact member '../evil.js' has a '..' segment\n"


def test_a_well_formed_archive_that_is_not_a_deploysafe_artifact_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.addfile(regular("index.js", INDEX), io.BytesIO(INDEX))
    (tmp_path / "plain.tar.gz").write_bytes(gzip.compress(buffer.getvalue()))
    with pytest.raises(ArtifactError, match=re.escape("expected .deploysafe/manifest.json")):
        verify(tmp_path / "plain.tar.gz")


def test_an_intact_artifact_missing_an_imported_file_is_not_self_contained(tmp_path: Path) -> None:
    app = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "type": "module", "main": "index.js"},
            "index.js": "import { x } from './lib.js';\nconsole.log(x);\n",
        },
    )
    broken = build_artifact(app, tmp_path / "artifacts")
    result = verify(broken)
    done = run_cli("verify", str(broken))

    assert not result.self_contained
    assert result.report is not None
    assert [(f.rule, f.file) for f in result.report.errors] == [("unresolved-import", "index.js")]
    assert done.returncode == 1
    assert "NOT SELF-CONTAINED" in done.stdout
    assert "index.js:1:19 unresolved-import" in done.stdout


@pytest.mark.slow
def test_verify_install_installs_production_dependencies_and_checks_them(fixed: Path, out: Path) -> None:
    packed = pack(fixed, output=out)
    result = verify(packed.path, install=True)

    assert result.self_contained
    assert result.installed == "npm ci --omit=dev --no-audit --no-fund"
    assert result.awaiting_install == []
    assert result.report is not None and result.report.unverified == []


def test_verify_into_leaves_the_unpacked_tree(fixed: Path, out: Path, tmp_path: Path) -> None:
    packed = pack(fixed, output=out)
    done = run_cli("verify", str(packed.path), "--into", str(tmp_path / "tree"), "--format", "json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["self_contained"] is True and report["id"] == packed.id
    assert (tmp_path / "tree" / "src" / "db" / "schema.sql").is_file()
    assert (tmp_path / "tree" / ".deploysafe" / "manifest.json").is_file()
