"""Fixtures for the report tests: the bundled example checked once, a big generated project, Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploysafe import Report, check
from tests.report.bigproject import write_big_project, write_heavy_project
from tests.report.cdp import Browser, chromium, chromium_path
from tests.support.projects import EXAMPLES

SEED_API = EXAMPLES / "seed-api"


@pytest.fixture(scope="session")
def seed_report() -> Report:
    """examples/seed-api checked once: 9 errors, 2 warnings, 3 dormant files."""
    if not (SEED_API / "node_modules").is_dir():
        pytest.fail("examples/seed-api has no node_modules: run `make setup` (npm ci in the examples) first")
    return check(SEED_API)


@pytest.fixture(scope="session")
def big_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_big_project(tmp_path_factory.mktemp("big") / "service")


@pytest.fixture(scope="session")
def heavy_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_heavy_project(tmp_path_factory.mktemp("heavy") / "service")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium (Debian's) for the session; each test opens its own page in it."""
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must install it: apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Browser]:
    """A fresh page (tab) in the session's browser, with its console and requests recorded from the start."""
    browser.open_page()
    yield browser
    browser.close_page()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests write screenshots: DEPLOYSAFE_SCREENSHOTS if set (CI can keep them), else a tmp dir."""
    chosen = os.environ.get("DEPLOYSAFE_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
