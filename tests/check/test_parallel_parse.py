"""A cold check parses with forked helper processes; what it finds must not depend on that, and a helper that
dies or never answers must not change the facts or stall the check."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from deploysafe.check import sources
from deploysafe.check.cache import FactsCache
from deploysafe.check.sources import POOL_THRESHOLD, SourceLoader
from deploysafe.ecosystems.node.parse import javascript

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="helpers are forked; other platforms use one process")

TEMPLATES = (
    "import {{ a{i} }} from './m{j}.js';\nexport const b{i} = a{i} + 1;\n",
    "const x{i} = require('./m{j}.js');\nexports.y{i} = x{i};\nmodule.exports.z = {i};\n",
    "export default async function f{i}() {{ return import('./m{j}.js'); }}\n",
    "Object.defineProperty(exports, 'v{i}', {{ enumerable: true, get: function () {{ return q.p; }} }});\n",
    "const data{i} = fs.readFileSync(path.join(__dirname, 'data{i}.json'));\nif (x {{\n",  # a syntax error
    "",
)


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    """Enough sources for helpers (JavaScript and TypeScript, broken ones, copies of one content)."""
    paths = []
    for i in range(3 * POOL_THRESHOLD):
        template = TEMPLATES[i % len(TEMPLATES)]
        path = tmp_path / ("src" if i % 2 else "lib") / f"m{i}.{'ts' if i % 7 == 0 else 'js'}"
        path.parent.mkdir(exist_ok=True)
        path.write_text(template.format(i=i, j=(i + 1) % 50))
        paths.append(str(path))
    for copy in range(3):
        path = tmp_path / f"copy{copy}.js"
        path.write_text("module.exports = require('./same');\n")
        paths.append(str(path))
    return paths


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Helpers are forked whatever threads other tests left behind; the pids of those started."""
    monkeypatch.setattr(sources, "_can_fork", lambda: True)
    started: list[int] = []
    start = sources._Helper.start

    def recording(*args: object, **kwargs: object) -> sources._Helper:
        helper = start(*args, **kwargs)  # type: ignore[arg-type]
        started.append(helper.pid)
        return helper

    monkeypatch.setattr(sources._Helper, "start", recording)
    return started


def one_process(files: list[str]) -> SourceLoader:
    loader = SourceLoader(workers=1)
    loader.load(files)
    return loader


def assert_same_sources(mine: SourceLoader, reference: SourceLoader, files: list[str]) -> None:
    assert [mine.get(path) for path in files] == [reference.get(path) for path in files]
    assert mine.parsed == reference.parsed == len(files)


def assert_reaped(pids: list[int]) -> None:
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_helpers_find_the_same_facts_as_one_process(files: list[str], forking: list[int]) -> None:
    loader = SourceLoader(workers=3)
    loader.load(files)
    assert len(forking) == 2
    assert_same_sources(loader, one_process(files), files)
    assert_reaped(forking)


def test_facts_from_helpers_are_cached(files: list[str], forking: list[int], tmp_path: Path) -> None:
    cold = SourceLoader(FactsCache(tmp_path / "cache"), workers=2)
    cold.load(files)
    cold.cache.close()
    warm = SourceLoader(FactsCache(tmp_path / "cache"), workers=2)
    warm.load(files)
    assert warm.parsed == 0
    assert [warm.get(path) for path in files] == [cold.get(path) for path in files]


def test_a_helper_that_dies_leaves_its_files_to_the_check(
    files: list[str], forking: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    parse = javascript.parse_module

    def dying(source: bytes, dialect: javascript.Dialect) -> sources.ModuleFacts:
        if os.getpid() != parent:
            os._exit(3)
        return parse(source, dialect)

    monkeypatch.setattr(javascript, "parse_module", dying)
    loader = SourceLoader(workers=2)
    loader.load(files)
    monkeypatch.setattr(javascript, "parse_module", parse)
    assert forking
    assert_same_sources(loader, one_process(files), files)
    assert_reaped(forking)


@pytest.mark.timeout(60)
def test_a_helper_that_never_answers_does_not_hold_up_the_check(
    files: list[str], forking: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    parse = javascript.parse_module

    def stuck(source: bytes, dialect: javascript.Dialect) -> sources.ModuleFacts:
        if os.getpid() != parent:
            time.sleep(600)
        return parse(source, dialect)

    monkeypatch.setattr(javascript, "parse_module", stuck)
    started = time.monotonic()
    loader = SourceLoader(workers=2)
    loader.load(files)
    monkeypatch.setattr(javascript, "parse_module", parse)
    assert time.monotonic() - started < 30
    assert_same_sources(loader, one_process(files), files)
    assert_reaped(forking)  # killed, not left running


def test_when_no_process_can_be_forked_the_check_parses_alone(
    files: list[str], forking: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(sources.os, "fork", no_fork)
    loader = SourceLoader(workers=4)
    loader.load(files)
    assert forking == []
    assert_same_sources(loader, one_process(files), files)


def test_where_processes_cannot_fork_a_pool_of_workers_parses(
    files: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_can_fork", lambda: False)
    monkeypatch.setattr(sources, "SPAWN_POOL_THRESHOLD", POOL_THRESHOLD)
    loader = SourceLoader(workers=2)
    loader.load(files)
    assert_same_sources(loader, one_process(files), files)


def test_copies_of_one_content_are_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = []
    for copy in range(5):
        path = tmp_path / f"c{copy}.js"
        path.write_text("exports.a = require('./b');\n")
        paths.append(str(path))
    calls = []
    parse = javascript.parse_module
    monkeypatch.setattr(
        javascript, "parse_module", lambda source, dialect: calls.append(source) or parse(source, dialect)
    )
    loader = SourceLoader(workers=1)
    loader.load(paths)
    assert len(calls) == 1
    assert loader.parsed == 5  # cache misses, as the report counts them
    assert {loader.get(path).facts.commonjs.exports for path in paths} == {frozenset({"a"})}


def test_no_fork_while_another_thread_runs() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not sources._can_fork()
    finally:
        release.set()
        thread.join()


def test_a_source_over_the_size_limit_is_read_to_the_limit_and_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_SOURCE_BYTES", 1000)
    small, exact, big, empty = (tmp_path / name for name in ("small.js", "exact.js", "big.js", "empty.js"))
    small.write_text("exports.a = 1;\n")
    exact.write_text("x;" * 500)
    big.write_text("x;" * 5000)
    empty.write_text("")
    assert sources._read_source(str(big))[0] == b"x;" * 500 + b"x"
    loader = SourceLoader(workers=1)
    loader.load([str(small), str(exact), str(big), str(empty)])
    assert loader.get(str(small)).facts.commonjs.exports == {"a"}
    assert loader.get(str(exact)).error is None and loader.get(str(exact)).size == 1000
    assert loader.get(str(big)).error == "larger than 0 MiB; not parsed"
    assert loader.get(str(empty)).error is None and loader.get(str(empty)).size == 0


def test_a_source_that_grows_while_read_is_read_on_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_SOURCE_BYTES", 1000)
    path = tmp_path / "growing.js"
    path.write_text("a;" * 10)
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:  # the size seen before a writer appended
        result = real_fstat(fd)
        path.write_text("a;" * 300)
        return result

    monkeypatch.setattr(sources.os, "fstat", stale_fstat)
    assert sources._read_source(str(path))[0] == b"a;" * 300


def test_facts_cache_keeps_only_the_newest_entries(tmp_path):
    from deploysafe.check.cache import FactsCache, encode
    from deploysafe.check.facts import ModuleFacts

    cache = FactsCache(tmp_path, max_entries=3)
    for n in range(5):
        cache.put_encoded({f"k{n}": encode(ModuleFacts(exports=frozenset({f"v{n}"})))})
    cache.close()
    reopened = FactsCache(tmp_path)
    assert sorted(reopened.get_many([f"k{n}" for n in range(5)])) == ["k2", "k3", "k4"]
    reopened.close()
