"""A warm check finds an unchanged file's facts by its stat, without reading it; any write, even one that
keeps the size and puts the mtime back, or one made in the same timestamp tick as the last read, makes the
file read again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from deploysafe.check import cache, sources
from deploysafe.check.cache import FactsCache
from deploysafe.check.sources import SourceLoader
from deploysafe.ecosystems.node.parser import NodeParser


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source files read from disk, in order."""
    read: list[str] = []
    real = sources._read_source

    def counting(path: str) -> tuple[bytes, os.stat_result]:
        read.append(path)
        return real(path)

    monkeypatch.setattr(sources, "_read_source", counting)
    return read


def _load(cache_dir: Path, *paths: Path) -> SourceLoader:
    loader = SourceLoader(FactsCache(cache_dir), workers=1, parser=NodeParser())
    try:
        loader.load([str(p) for p in paths])
    finally:
        loader.cache.close()
    return loader


def _exports(loader: SourceLoader, path: Path) -> set[str]:
    return set(loader.get(str(path)).facts.exports)


def test_a_settled_file_is_not_read_again_and_an_edit_that_hides_from_mtime_is(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 50_000_000)  # settled 50 ms after the last write, not 3 s
    source = tmp_path / "a.js"
    source.write_text("export const one = 1;\n")
    time.sleep(0.2)
    first = _load(tmp_path / "cache", source)
    assert reads == [str(source)] and _exports(first, source) == {"one"}
    again = _load(tmp_path / "cache", source)
    assert reads == [str(source)], "an unchanged, settled file was read again"
    assert _exports(again, source) == {"one"}
    assert again.get(str(source)) == first.get(str(source))  # same sha256 and size, unread

    before = os.stat(source)
    source.write_text("export const two = 2;\n")  # same size
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime: only ctime tells
    edited = _load(tmp_path / "cache", source)
    assert reads == [str(source), str(source)]
    assert _exports(edited, source) == {"two"}


def test_a_file_written_just_before_its_read_is_read_again_next_time(tmp_path: Path, reads: list[str]) -> None:
    """Its stat could stay the same through another write in the same timestamp tick (racily clean)."""
    source = tmp_path / "b.js"
    source.write_text("export const one = 1;\n")
    _load(tmp_path / "cache", source)
    _load(tmp_path / "cache", source)
    assert reads == [str(source), str(source)]


def test_a_known_stat_whose_facts_the_cache_lost_reads_the_file(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_NS", 50_000_000)
    source = tmp_path / "c.js"
    source.write_text("export const one = 1;\n")
    time.sleep(0.2)
    _load(tmp_path / "cache", source)
    db = FactsCache(tmp_path / "cache")
    assert db._db is not None
    db._db.execute("DELETE FROM facts")
    db.close()
    loader = _load(tmp_path / "cache", source)
    assert reads == [str(source), str(source)]
    assert _exports(loader, source) == {"one"} and loader.parsed == 1
