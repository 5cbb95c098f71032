"""Artifacts built to hurt: a manifest bomb, absurd sizes, a killed verify, a full disk, a symlink to a device.
Each is refused in one line, within bounded memory, and leaves nothing behind."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploysafe.artifact import MANIFEST_PATH
from deploysafe.artifact.manifest import (
    MAX_FILE_BYTES,
    MAX_MANIFEST_BYTES,
    FileRecord,
    content_sha256,
    parse_manifest,
)
from deploysafe.errors import ArtifactError
from tests.support.disks import small_tmpfs
from tests.support.projects import run_cli, write_tree

PACKAGE = {"name": "app", "version": "1.0.0", "main": "index.js"}


def one_line_error(done: subprocess.CompletedProcess, code: int = 1) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("deploysafe: error: "), done.stderr
    assert done.returncode == code, done.stderr
    return lines[0]


def manifest_json(files: list[dict], name: str = "app") -> bytes:
    records = [FileRecord(f["path"], f["sha256"], f["size"]) for f in files]
    digest = content_sha256(records)
    return json.dumps(
        {"format": 1, "id": f"{name}-1.0.0-{digest[:8]}", "name": name, "version": "1.0.0", "content_sha256": digest}
        | {"files": files, "entries": ["index.js"]}
    ).encode()


def test_a_manifest_bomb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    size = MAX_MANIFEST_BYTES + 1
    with gzip.open(bomb, "wb", compresslevel=9) as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
        info = tarfile.TarInfo(MANIFEST_PATH)
        info.size = size
        with open("/dev/zero", "rb") as zeros:
            tar.addfile(info, zeros)
    assert bomb.stat().st_size < 200_000

    started = time.monotonic()
    for command in ("verify", "drift"):
        args = ["verify", str(bomb)] if command == "verify" else ["drift", str(tmp_path), "--against", str(bomb)]
        done = run_cli(*args)
        assert "Traceback" not in done.stderr, done.stderr
        assert "over the 64 MiB a manifest may hold" in done.stderr or command == "drift", done.stderr
    assert time.monotonic() - started < 30


def test_reading_a_manifest_bomb_stays_small_in_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    size = 1 << 30  # 1 GiB of zero bytes: about 1 MiB of gzip
    with gzip.open(bomb, "wb", compresslevel=9) as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
        info = tarfile.TarInfo(MANIFEST_PATH)
        info.size = size
        with open("/dev/zero", "rb") as zeros:
            tar.addfile(info, zeros)
    code = (
        "import sys\n"
        "from deploysafe.artifact import read_manifest\n"
        "from deploysafe.errors import ArtifactError\n"
        "try:\n    read_manifest(sys.argv[1])\nexcept ArtifactError as err:\n    print(err)\n"
        # VmHWM is this program's own peak: ru_maxrss keeps the forking pytest's peak across exec on Linux.
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, timeout=60)
    message, peak_kib = done.stdout.splitlines()
    assert "over the 64 MiB a manifest may hold" in message
    assert int(peak_kib) < 200 * 1024, f"peak {int(peak_kib) >> 10} MiB"


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ([{"path": "big.bin", "sha256": "0" * 64, "size": MAX_FILE_BYTES + 1}], "a packed file may hold"),
        (
            [{"path": f"part{i}.bin", "sha256": "0" * 64, "size": MAX_FILE_BYTES} for i in range(17)],
            "an artifact may hold",
        ),
        ([{"path": "a.js", "sha256": "0" * 64, "size": 1.5}], "has no valid size"),
        ([{"path": "../escape.js", "sha256": "0" * 64, "size": 1}], "'..' segment"),
    ],
)
def test_absurd_manifest_entries_are_refused_by_name(files: list[dict], says: str) -> None:
    with pytest.raises(ArtifactError, match=says):
        parse_manifest(manifest_json(files))


def test_a_manifest_nested_too_deeply_is_refused_in_one_line(tmp_path: Path) -> None:
    body = b'{"format": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ArtifactError, match="nested too deeply"):
        parse_manifest(body)
    artifact = tmp_path / "deep.tar.gz"
    with tarfile.open(artifact, "w:gz") as tar:
        info = tarfile.TarInfo(MANIFEST_PATH)
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    assert "nested too deeply" in one_line_error(run_cli("verify", str(artifact)))


@pytest.fixture
def many_files(tmp_path: Path) -> Path:
    root = write_tree(tmp_path / "app", {"package.json": PACKAGE, "index.js": "console.log('loaded');\n"})
    for i in range(3000):
        folder = root / "data" / f"d{i % 30}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.txt").write_text("x" * 2000 + str(i))
    done = run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/", "--include", "data/**")
    assert done.returncode == 0, done.stderr
    return next((tmp_path / "out").glob("*.tar.gz"))


def test_a_killed_verify_leaves_its_tree_and_the_next_verify_removes_it(many_files: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-m", "deploysafe", "verify", str(many_files)], env=env)
    deadline = time.monotonic() + 60
    while not any(scratch.glob("deploysafe-verify-*/data")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    left = list(scratch.glob("deploysafe-verify-*"))
    assert left, "verify was killed after its cleanup; nothing to prove"

    done = run_cli("verify", str(many_files), env={"TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    assert list(scratch.glob("deploysafe-verify-*")) == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "1m") as disk:
        yield disk


def test_a_full_disk_during_verify_is_named_as_such(many_files: Path, small_disk: Path) -> None:
    done = run_cli("verify", str(many_files), env={"TMPDIR": str(small_disk)})
    message = one_line_error(done)
    assert "no space left on device" in message and "truncated or corrupt" not in message
    assert list(small_disk.glob("deploysafe-verify-*")) == []


def test_a_symlink_to_a_device_is_named_as_such(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "app", {"package.json": PACKAGE, "index.js": "console.log('loaded');\n"})
    (root / "zero.js").symlink_to("/dev/zero")
    (root / "gone.js").symlink_to(root / "missing.js")
    done = run_cli("check", str(root), "--format", "json")
    assert done.returncode == 0, done.stderr
    details = {u["file"]: u["detail"] for u in json.loads(done.stdout)["unverified"]}
    assert details["zero.js"].startswith("symlink to a device, pipe or socket")
    assert details["gone.js"].startswith("dangling symlink")
