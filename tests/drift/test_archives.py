"""drift against an archive of production: the same classes as against the directory, nothing
extracted, and archives that are broken or unsafe refused in one line."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from deploysafe.drift import drift, inventory_archive, inventory_directory
from tests.drift.conftest import EXPECTED, classes, make_tar, make_zip
from tests.support.projects import run_cli


@pytest.mark.parametrize(
    ("name", "top"),
    [("prod.tar.gz", None), ("prod.tgz", "prod-2025-11-03"), ("prod.zip", None)],
)
def test_an_archive_of_production_gives_the_same_classes_as_the_directory(local, prod, tmp_path, name, top):
    archive = tmp_path / name
    make_zip(prod, archive) if name.endswith(".zip") else make_tar(prod, archive, top=top)
    report = drift(local, str(archive))
    assert classes(report) == EXPECTED
    assert report.source.kind == "archive"
    assert report.source_closure is not None and report.source_closure.complete is True
    assert report.source_closure.packages == "root"  # node_modules never come out of an archive
    assert not list(tmp_path.glob("**/deploysafe-drift-*"))  # scratch trees are gone


def test_archive_inventory_equals_the_directory_inventory_and_skips_node_modules(prod, tmp_path):
    expected = inventory_directory(prod).files
    assert inventory_archive(str(make_tar(prod, tmp_path / "p.tar.gz"))).files == expected
    assert inventory_archive(str(make_zip(prod, tmp_path / "p.zip"))).files == expected
    assert not any("node_modules" in path for path in expected)


def test_pull_needed_from_an_archive_copies_the_files_and_check_passes(local, prod, tmp_path):
    archive = make_tar(prod, tmp_path / "prod.tar.gz", top="prod")
    done = run_cli("drift", str(local), "--against", str(archive), "--pull-needed")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (local / "src/services/freeswitch.js").read_bytes() == (prod / "src/services/freeswitch.js").read_bytes()


def test_links_inside_a_tar_take_the_content_they_name(tmp_path):
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        data = b"export const x = 1;\n"
        info = tarfile.TarInfo("src/a.js")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        hard = tarfile.TarInfo("src/hard.js")
        hard.type, hard.linkname = tarfile.LNKTYPE, "src/a.js"
        tar.addfile(hard)
        soft = tarfile.TarInfo("src/soft.js")
        soft.type, soft.linkname = tarfile.SYMTYPE, "a.js"
        tar.addfile(soft)
        away = tarfile.TarInfo("src/away.js")
        away.type, away.linkname = tarfile.SYMTYPE, "../../etc/passwd"
        tar.addfile(away)
    found = inventory_archive(str(archive))
    assert found.files["src/hard.js"].sha256 == found.files["src/a.js"].sha256 == found.files["src/soft.js"].sha256
    assert "src/away.js" not in found.files
    assert [(p.path, p.message) for p in found.problems] == [
        ("src/away.js", "link points outside the archive; not compared")
    ]


@pytest.mark.parametrize("member", ["../evil.js", "src/../../evil.js", "/etc/cron.d/evil"])
def test_an_archive_member_outside_the_archive_is_refused_in_one_line(local, prod, tmp_path, member):
    archive = make_tar(prod, tmp_path / "evil.tar.gz", extra={member: b"boom"})
    done = run_cli("drift", str(local), "--against", str(archive))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "points outside the archive" in done.stderr and member in done.stderr


def test_a_zip_member_climbing_out_is_refused(local, prod, tmp_path):
    archive = make_zip(prod, tmp_path / "evil.zip", extra={"../../evil.js": b"boom"})
    done = run_cli("drift", str(local), "--against", str(archive))
    assert done.returncode == 2 and "points outside the archive" in done.stderr


def test_a_truncated_or_fake_archive_is_one_clear_line(local, prod, tmp_path):
    whole = make_tar(prod, tmp_path / "whole.tar.gz").read_bytes()
    (tmp_path / "cut.tar.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "fake.zip").write_bytes(b"this is not a zip file\n")
    for name in ("cut.tar.gz", "fake.zip"):
        done = run_cli("drift", str(local), "--against", str(tmp_path / name))
        assert done.returncode == 2, done.stdout
        assert done.stderr.startswith(f"deploysafe: error: {tmp_path / name}: not a readable archive")
        assert done.stderr.count("\n") == 1


def test_an_encrypted_zip_member_is_named(local, tmp_path):
    archive = tmp_path / "locked.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.js", b"x")
    raw = bytearray(archive.read_bytes())
    # set the "encrypted" flag bit in the local header and the central directory entry
    raw[6] |= 1
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 8] |= 1
    archive.write_bytes(bytes(raw))
    done = run_cli("drift", str(local), "--against", str(archive))
    assert done.returncode == 2
    assert done.stderr == f"deploysafe: error: {archive}: a.js is encrypted; cannot hash it\n"
