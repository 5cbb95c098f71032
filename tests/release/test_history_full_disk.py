"""history.jsonl on a full disk: records land whole or not at all, a torn line never swallows the next one.

The disk is a real tmpfs of a few pages, filled to many levels with a filler file; the history is written
through the real LocalHost the deploy engine uses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploysafe.errors import TargetError
from deploysafe.hosts.base import Host
from deploysafe.hosts.local import LocalHost
from deploysafe.hosts.ssh import SshHost, parse_ssh_url
from deploysafe.release import history, status, target
from deploysafe.release.layout import Layout
from deploysafe.release.state import previous_good
from tests.support.disks import small_tmpfs

DISK_BYTES = 64 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", str(DISK_BYTES)) as disk:
        yield disk


def record(release: str, status_: str = history.GOOD, pad: int = 0) -> dict:
    return {"kind": "deploy", "run": f"run-{release}", "release": release, "status": status_, "note": "x" * pad}


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk until about ``leave`` bytes are free (tmpfs counts whole pages)."""
    filler = disk / "filler"
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    with open(filler, "wb") as handle:
        try:
            handle.write(b"\0" * max(free - leave, 0))
            handle.flush()
        except OSError:
            pass
    return filler


def make_layout(disk: Path) -> tuple[LocalHost, Layout]:
    layout = Layout(str(disk / "app"))
    os.makedirs(layout.meta, exist_ok=True)
    return LocalHost(str(disk / "app")), layout


@pytest.mark.parametrize("pad", [300, 3000, 9000])
def test_records_on_a_full_disk_are_whole_or_absent_at_every_fill_level(small_disk: Path, pad: int) -> None:
    outcomes = set()
    for leave in range(0, 20_000, 1_500):
        for child in small_disk.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        tgt, layout = make_layout(small_disk)
        history.append(tgt, layout, record("r1"))
        filler = fill(small_disk, leave)
        written = ["r1"]
        for n in range(2, 20):
            try:
                history.append(tgt, layout, record(f"r{n}", pad=pad))
                written.append(f"r{n}")
                outcomes.add("written")
            except TargetError as err:
                assert "No space left on device" in str(err)
                outcomes.add("refused")
        data = Path(layout.history).read_bytes()
        records, torn = history.parse(data)
        assert torn == [], f"leave={leave}: torn lines {torn!r}"
        assert [r["release"] for r in records] == written
        filler.unlink()
        history.append(tgt, layout, record("after"))
        assert [r["release"] for r in history.read(tgt, layout)] == [*written, "after"]
    assert outcomes == {"written", "refused"}


@pytest.mark.parametrize("over", ["local", "ssh"])
def test_a_torn_line_is_set_aside_and_the_next_record_stays_readable(tmp_path: Path, request, over: str) -> None:
    """On this machine and over SSH, where only the file's last byte is read to find a torn tail."""
    local, layout = make_layout(tmp_path)
    tgt: Host = local
    if over == "ssh":
        sshd = request.getfixturevalue("sshd")
        tgt = SshHost(parse_ssh_url(sshd.url(layout.root)), known_hosts=str(sshd.known_hosts), identity=str(sshd.key))
        request.addfinalizer(tgt.close)
    history.append(tgt, layout, record("good-1"))
    history.append(tgt, layout, record("good-2"))
    whole = json.dumps(record("good-3"))
    with open(layout.history, "ab") as handle:
        handle.write(whole[: len(whole) // 2].encode())  # a host crash mid-write of an older version
    history.append(tgt, layout, record("bad-4", history.ROLLED_BACK))
    records, torn = history.parse(Path(layout.history).read_bytes())
    assert [r["release"] for r in records] == ["good-1", "good-2", "bad-4"]
    assert torn == [whole[: len(whole) // 2].encode()]
    assert history.good_order(records) == ["good-2", "good-1"]


def test_rollback_target_is_the_live_good_release_after_a_full_disk_refused_a_record(small_disk: Path) -> None:
    tgt, layout = make_layout(small_disk)
    for release in ("r1", "r2"):
        os.makedirs(os.path.join(layout.releases, release))
        history.append(tgt, layout, record(release))
    tgt.replace_symlink(layout.current, layout.current_link_value("r2"))
    filler = fill(small_disk, 0)
    with pytest.raises(TargetError):
        history.append(tgt, layout, record("r3", history.FAILED, pad=20_000))
    filler.unlink()
    records = history.read(tgt, layout)
    assert previous_good(tgt, layout, records, exclude="r3") == "r2"


def test_status_reads_the_record_of_the_run_that_switched_to_the_live_release(tmp_path: Path) -> None:
    root = tmp_path / "host"
    tgt, layout = make_layout(root)
    for release in ("r1", "r2"):
        os.makedirs(os.path.join(layout.releases, release))
    history.append(tgt, layout, record("r1"))
    history.append(tgt, layout, record("r2"))
    history.append(tgt, layout, record("r1", history.GOOD) | {"kind": "rollback"})
    # A second deploy of r2 was killed after its switch: its record is still in run.json.
    dead = subprocess.Popen(["true"])
    dead.wait()
    pending = record("r2", "running") | {"pid": dead.pid, "run": "run-again"}
    Path(layout.run_file).write_text(json.dumps(pending))
    tgt.replace_symlink(layout.current, layout.current_link_value("r2"))
    info = status(target(layout.root, config={}), probe=False)
    assert info.current == "r2"
    assert info.current_status == history.INTERRUPTED


def test_the_live_release_whose_record_a_full_disk_refused_is_still_the_fallback(small_disk: Path) -> None:
    tgt, layout = make_layout(small_disk)
    for release in ("r1", "r2"):
        os.makedirs(os.path.join(layout.releases, release))
    history.append(tgt, layout, record("r1"))
    history.mark_last_good(tgt, layout, "r1")
    tgt.replace_symlink(layout.current, layout.current_link_value("r2"))
    filler = fill(small_disk, 0)
    # r2 passed its health gate on a full disk: its record cannot be written, the marker can
    with pytest.raises(TargetError):
        history.append(tgt, layout, record("r2", pad=20_000))
    history.mark_last_good(tgt, layout, "r2")
    filler.unlink()
    records = history.read(tgt, layout)
    assert [r["release"] for r in records] == ["r1"]
    assert previous_good(tgt, layout, records, exclude="r3") == "r2"
    # a release history judged bad is never revived by the marker
    history.append(tgt, layout, record("r2", history.ROLLED_BACK))
    assert previous_good(tgt, layout, history.read(tgt, layout), exclude="r3") == "r1"


def test_a_real_deploy_marks_its_release_last_good(make_artifact, local_spec) -> None:
    from deploysafe import release

    result = release.deploy(make_artifact("1.0.0"), local_spec)
    assert result.status == history.GOOD
    layout = local_spec.layout
    assert history.last_good(LocalHost(layout.root), layout) == result.release
