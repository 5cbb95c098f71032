"""What the artifact of the bundled example holds, what it leaves out, and its manifest per docs/artifact.md."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from deploysafe import artifact
from deploysafe.pack import pack
from tests.pack.conftest import FIXED, copy_example


def members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path) as archive:
        return archive.getmembers()


def test_reachable_modules_manifests_and_the_literal_path_sql_are_packed(fixed: Path, out: Path) -> None:
    result = pack(fixed, output=out)
    files = {f["path"] for f in result.files}

    assert {
        "package.json",
        "package-lock.json",
        "ecosystem.config.cjs",
        "src/index.js",
        "src/workers/email-worker.js",
        "src/routes/voice.js",
        "src/jobs/nightly.js",  # loaded by a dynamic import()
        "src/db/schema.sql",  # read by new URL('./schema.sql', import.meta.url)
    } <= files
    assert result.manifest["assets"] == [{"path": "src/db/schema.sql", "read_by": "src/db/connection.js:4"}]
    assert result.manifest["lockfile"] == "package-lock.json"


def test_dormant_files_are_left_out_and_listed(fixed: Path, out: Path) -> None:
    result = pack(fixed, output=out)
    names = {m.name for m in members(result.path)}

    assert not any(name.startswith("src/legacy") for name in names)
    assert result.manifest["dormant"] == ["src/legacy/public-signup.js", "src/legacy/system-status.js"]


def test_env_file_next_to_the_code_is_absent_and_listed_as_excluded(fixed: Path, out: Path) -> None:
    result = pack(fixed, output=out)

    assert ".env" not in {m.name for m in members(result.path)}
    assert {"path": ".env", "reason": "secret (.env*)"} in result.manifest["excluded"]


def test_node_modules_is_not_packed_by_default(tmp_path: Path, out: Path) -> None:
    project = copy_example(FIXED, tmp_path / "app", node_modules=True)
    result = pack(project, output=out)
    assert not any(f["path"].startswith("node_modules/") for f in result.files)


def test_manifest_follows_the_artifact_contract(fixed: Path, out: Path) -> None:
    result = pack(fixed, output=out)
    listed = members(result.path)
    manifest = artifact.read_manifest(result.path)  # the deploy engine's reader accepts it

    assert listed[0].name == ".deploysafe/manifest.json"
    assert manifest.id == result.id == f"seed-api-1.4.0-{manifest.content_sha256[:8]}"
    assert result.path.name == f"{result.id}.tar.gz"
    assert manifest.entries == ("src/index.js", "src/workers/email-worker.js")
    assert manifest.start == "node src/index.js"
    raw = json.loads(result.manifest_bytes)
    assert raw == result.manifest
    assert raw["tool"]["name"] == "deploysafe"
    assert raw["node"]["version"].count(".") == 2
    assert raw["check"] == {"summary": result.report.summary(), "forced": False}
    assert [f["path"] for f in raw["files"]] == sorted(f["path"] for f in raw["files"])
    file_members = {m.name: m for m in listed[1:] if m.isfile()}
    assert set(file_members) == {f["path"] for f in raw["files"]}
    for entry in raw["files"]:
        assert file_members[entry["path"]].size == entry["size"]
    assert artifact.verify_archive(result.path).content_sha256 == manifest.content_sha256


def test_members_are_sorted_owned_by_root_with_fixed_mtime_and_normalised_modes(fixed: Path, out: Path) -> None:
    (fixed / "src" / "index.js").chmod(0o775)
    (fixed / "src" / "version.js").chmod(0o600)
    result = pack(fixed, output=out)
    listed = members(result.path)[1:]

    assert [m.name for m in listed] == sorted(m.name for m in listed)
    for member in listed:
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
        assert member.isfile() or member.isdir()
        if member.isdir():
            assert member.mode == 0o755
    modes = {m.name: m.mode for m in listed}
    assert modes["src/index.js"] == 0o755
    assert modes["src/version.js"] == 0o644
    raw = result.path.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0"  # gzip with no timestamp


def test_pack_verifies_what_it_wrote(fixed: Path, out: Path) -> None:
    result = pack(fixed, output=out)

    assert result.verification is not None
    assert result.verification.self_contained
    assert result.verification.awaiting_install == ["@hono/node-server", "hono"]


def test_default_output_is_the_projects_artifacts_folder(fixed: Path) -> None:
    result = pack(fixed)
    assert result.path == fixed / ".deploysafe" / "artifacts" / f"{result.id}.tar.gz"
    # and packing again does not pick the artifact up
    assert pack(fixed).path.read_bytes() == result.path.read_bytes()


def test_output_may_name_the_artifact_file(fixed: Path, out: Path) -> None:
    result = pack(fixed, output=out / "release.tar.gz")
    assert result.path == out / "release.tar.gz"
    assert artifact.read_manifest(result.path).id == result.id
