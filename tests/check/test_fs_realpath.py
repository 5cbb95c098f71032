"""`FileSystem.realpath` answers from directory listings; it must always equal `os.path.realpath`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploysafe.check.fs import FileSystem


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Plain files and folders, symlinked folders and files (relative and absolute, chained), a link
    into a link, a dangling link, a loop, and a folder that cannot be listed (unless the tests run as root)."""
    root = tmp_path / "project"
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "lib" / "a.js").write_text("")
    (root / "src" / "index.js").write_text("")
    (root / "shared").mkdir()
    (root / "shared" / "util.js").write_text("")
    (root / "src" / "shared").symlink_to("../shared")
    (root / "src" / "abs").symlink_to(root / "shared")
    (root / "src" / "chain").symlink_to("shared")
    (root / "src" / "util.js").symlink_to("../shared/util.js")
    (root / "src" / "dangling.js").symlink_to("nowhere.js")
    (root / "loop").symlink_to("loop")
    (root / "locked").mkdir()
    (root / "locked" / "x.js").write_text("")
    (root / "locked").chmod(0o300)
    (tmp_path / "outside").symlink_to(root / "src")
    yield tmp_path
    (root / "locked").chmod(0o700)


def test_realpath_from_listings_equals_os_realpath(tree: Path) -> None:
    root = tree / "project"
    names = [
        "src/index.js",
        "src/lib/a.js",
        "src/lib",
        "src/shared/util.js",
        "src/abs/util.js",
        "src/chain/util.js",
        "src/chain/missing.js",
        "src/util.js",
        "src/dangling.js",
        "src/missing/deeper/x.js",
        "src/lib/../index.js",
        "src/shared/../index.js",
        "src/./lib/a.js",
        "loop/x.js",
        "locked/x.js",
        "locked/missing.js",
        "../outside/lib/a.js",
        "../outside/shared/util.js",
    ]
    listed = FileSystem()  # every folder of the tree listed, as resolution lists the ones it looks in
    for folder, _, _ in os.walk(tree, followlinks=False):
        listed.listing(folder)
    listed.listing(str(tree))
    asked = FileSystem()  # each path's folder listed just before, as `kind(path)` then `realpath(path)`
    for fs, order in ((listed, names), (asked, names), (FileSystem(), list(reversed(names)))):
        for name in order:
            path = os.path.join(str(root), name)
            fs.kind(path)
            assert fs.realpath(path) == os.path.realpath(path), name


def test_listed_folders_answer_without_os_realpath(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree / "project"
    fs = FileSystem()
    for folder in (tree, root, root / "src", root / "src" / "lib"):
        fs.realpath(str(folder))
        fs.listing(str(folder))
    calls: list[str] = []
    real = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda path: calls.append(path) or real(path))
    for name in ("src/index.js", "src/lib/a.js", "src/missing.js", "src/util.js"):
        fs.realpath(str(root / name))
    assert calls == [str(root / "src/util.js")]  # the symlink


def test_relative_paths_resolve_like_os_realpath(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "project" / "src")
    fs = FileSystem()
    for name in ("index.js", "shared/util.js", "./lib/a.js", "../src/util.js", "missing.js"):
        assert fs.realpath(name) == os.path.realpath(name), name
