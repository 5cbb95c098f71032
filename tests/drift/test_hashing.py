"""Inventories hash right, whatever the file: empty, 100 MB, binary, odd names; and the same tree gives
the same inventory from a directory, an archive, and a host (with python3, and with only sha256sum)."""

from __future__ import annotations

import hashlib
import os
import tarfile
from pathlib import Path

import pytest

from deploysafe.drift import Skip, inventory_archive, inventory_directory, open_source
from tests.drift.conftest import BASE_TOOLS, OLD_SHA256SUM
from tests.support.sshd import Sshd

BIG = 100 * 1024 * 1024 + 7

NAMES = {
    "empty.txt": b"",
    "binary.bin": bytes(range(256)) * 1024 + b"\x00\xff\x00",
    "dir with spaces/file name.js": b"export const a = 1;\n",
    "ünïcödé/日本語 ファイル.js": "export const b = 'ü';\n".encode(),
    "new\nline.txt": b"a newline in the name\n",
    "back\\slash.txt": b"a backslash in the name\n",
    "-starts-with-dash.js": b"// dash\n",
}
NOT_UTF8 = b"caf\xe9.txt"


def expected_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def odd_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("odd") / "tree"
    for rel, data in NAMES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with open(root / "big.bin", "wb") as handle:  # sparse: 100 MB of zeros, then a tail
        handle.truncate(BIG - 7)
        handle.seek(BIG - 7)
        handle.write(b"the end")
    with open(os.path.join(os.fsencode(root), NOT_UTF8), "wb") as handle:
        handle.write(b"latin-1 name\n")
    (root / "node_modules/pkg").mkdir(parents=True)
    (root / "node_modules/pkg/index.js").write_text("skipped\n")
    (root / "link-to-binary.bin").symlink_to("binary.bin")
    (root / "dangling.js").symlink_to("nowhere.js")
    os.mkfifo(root / "a-fifo")
    return root


@pytest.fixture(scope="module")
def truth(odd_tree: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for rel in [*NAMES, "big.bin", "link-to-binary.bin", os.fsdecode(NOT_UTF8)]:
        path = odd_tree / rel
        out[rel] = (path.stat().st_size, expected_hash(path))
    return out


def as_dict(inventory) -> dict[str, tuple[int, str | None]]:
    return {r.path: (r.size, r.sha256) for r in inventory.files.values()}


def test_directory_inventory_hashes_every_kind_of_file(odd_tree, truth):
    found = inventory_directory(odd_tree)
    assert as_dict(found) == truth
    assert found.files["empty.txt"].sha256 == hashlib.sha256(b"").hexdigest()
    assert found.files["big.bin"].size == BIG
    assert found.node_modules == ["node_modules"]
    assert found.problems == []


def test_tar_inventory_matches_the_directory(odd_tree, truth, tmp_path):
    archive = tmp_path / "odd.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(odd_tree, arcname=".", filter=lambda m: None if m.name.endswith("a-fifo") else m)
    found = inventory_archive(str(archive))
    # in the archive the links are members too: the symlink to binary.bin takes its record
    assert as_dict(found) == truth


@pytest.mark.parametrize("tools", ["python3", "sha256sum", "sha256sum without -z"])
def test_host_inventory_matches_the_directory(odd_tree, truth, host_with, tools):
    if tools == "python3":
        host = host_with(*BASE_TOOLS, "python3")
    elif tools == "sha256sum":
        host = host_with(*BASE_TOOLS, "sha256sum")
    else:
        host = host_with(*BASE_TOOLS, scripts={"sha256sum": OLD_SHA256SUM})
    tree, _info = open_source(host.url(odd_tree), **host.options())
    try:
        found = tree.inventory()
    finally:
        tree.close()
    assert found.tool == tools.split()[0]
    assert as_dict(found) == truth
    assert found.problems == []


def test_host_inventory_through_the_login_shell(odd_tree, truth, sshd: Sshd):
    tree, _info = open_source(sshd.url(str(odd_tree)), known_hosts=str(sshd.known_hosts), identity=str(sshd.key))
    try:
        assert as_dict(tree.inventory()) == truth
        fetched = tree.read(["dir with spaces/file name.js", os.fsdecode(NOT_UTF8), "new\nline.txt"])
    finally:
        tree.close()
    assert fetched["dir with spaces/file name.js"] == NAMES["dir with spaces/file name.js"]
    assert fetched[os.fsdecode(NOT_UTF8)] == b"latin-1 name\n"
    assert fetched["new\nline.txt"] == NAMES["new\nline.txt"]


def test_skip_globs_apply_to_every_kind_of_source(odd_tree, tmp_path, sshd: Sshd):
    skip = Skip(["*.bin", "ünïcödé/"])
    local = inventory_directory(odd_tree, skip)
    assert not any(p.endswith(".bin") or p.startswith("ünïcödé/") for p in local.files)
    tree, _ = open_source(sshd.url(str(odd_tree)), skip=skip, known_hosts=str(sshd.known_hosts), identity=str(sshd.key))
    try:
        assert tree.inventory().files == local.files
    finally:
        tree.close()
