"""Fixtures for the pack tests: private copies of the bundled examples, and tiny real projects."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import kill_under
from tests.support.projects import EXAMPLES

FIXED = EXAMPLES / "seed-api-fixed"
BLOCKED = EXAMPLES / "seed-api"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOYSAFE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "facts-cache"))


@pytest.fixture(autouse=True)
def _no_leaked_processes(tmp_path: Path) -> Iterator[None]:
    yield
    kill_under(tmp_path)


def copy_example(source: Path, dest: Path, *, node_modules: bool = False) -> Path:
    ignore = None if node_modules else shutil.ignore_patterns("node_modules")
    shutil.copytree(source, dest, ignore=ignore, symlinks=True)
    return dest


@pytest.fixture
def fixed(tmp_path: Path) -> Path:
    """A private copy of examples/seed-api-fixed (no node_modules): deployable, with a .env beside it."""
    return copy_example(FIXED, tmp_path / "seed-api-fixed")


@pytest.fixture
def blocked(tmp_path: Path) -> Path:
    return copy_example(BLOCKED, tmp_path / "seed-api")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[Path, str], Path]:
    def make(source: Path, name: str) -> Path:
        return copy_example(source, tmp_path / name)

    return make
