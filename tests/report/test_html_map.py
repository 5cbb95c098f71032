"""The HTML dependency map in real headless Chromium: it loads offline without errors, shows the red
edges and the grey dormant files, and search, click and folding work as a person would use them."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from deploysafe import check
from deploysafe.report import html
from tests.report.cdp import Browser
from tests.support.projects import REPO, run_cli, write_tree

RED = "rgb(220, 38, 38)"


def open_map(page: Browser, path: Path, *, timeout: float = 60) -> None:
    page.goto(path.resolve().as_uri(), timeout=timeout)
    deadline = time.monotonic() + timeout
    while page.evaluate("document.documentElement.dataset.state || ''") not in ("ready", "failed"):
        assert time.monotonic() < deadline, "the map did not finish drawing"
        time.sleep(0.05)
    assert page.evaluate("document.documentElement.dataset.state") == "ready", page.console.errors


def texts(page: Browser, selector: str) -> list[str]:
    return page.evaluate(f"[...document.querySelectorAll({json.dumps(selector)})].map(e => e.textContent)")


@pytest.fixture(scope="module")
def seed_page(seed_report, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("html") / "seed-api.html"
    path.write_text(html.render(seed_report), encoding="utf-8")
    return path


def test_map_loads_offline_without_console_errors_or_network_requests(page, seed_page, screenshots):
    open_map(page, seed_page)
    page.settle()  # anything the page would log after drawing is recorded by now
    page.screenshot(screenshots / "seed-api-map.png")
    assert page.console.errors == []
    assert [url for url in page.console.requests if not url.startswith("file:")] == []
    assert (screenshots / "seed-api-map.png").stat().st_size > 20_000


def test_broken_imports_are_red_edges_in_the_dom_with_their_messages(page, seed_page):
    open_map(page, seed_page)
    broken = page.evaluate(
        "[...document.querySelectorAll('.edge.broken.error')].map(e => ({from: e.dataset.from, to: e.dataset.to,"
        " stroke: getComputedStyle(e.querySelector('path.line')).stroke, title: e.querySelector('title').textContent}))"
    )
    pairs = {(b["from"], b["to"]) for b in broken}
    assert ("f:src/routes/campaigns.js", "f:src/config/database.js") in pairs  # the seeds' first crash
    assert ("f:src/routes/chat.js", "f:node_modules/hono") in pairs  # { Router } from 'hono'
    assert ("f:src/workers/email-worker.js", "f:node_modules/ioredis") in pairs
    assert len(broken) == 8  # 9 errors: 8 sit on an import, the syntax error on its file
    assert {b["stroke"] for b in broken} == {RED}
    chat = next(b for b in broken if b["from"] == "f:src/routes/chat.js")
    assert "does not provide an export named 'Router'" in chat["title"]


def test_dormant_files_are_greyed_and_missing_files_marked(page, seed_page):
    open_map(page, seed_page)
    dormant = page.evaluate(
        "[...document.querySelectorAll('.node.dormant')].map(e => [e.dataset.id,"
        " getComputedStyle(e.querySelector('rect')).fill])"
    )
    assert sorted(d[0] for d in dormant) == [
        "src/jobs/nightly.js",
        "src/legacy/public-signup.js",
        "src/legacy/system-status.js",
    ]
    assert {d[1] for d in dormant} == {"rgb(229, 231, 235)"}  # grey
    missing = texts(page, ".node.missing text.name")
    assert "database.js (missing)" in missing
    assert "ioredis (missing)" in missing


def test_clicking_a_file_shows_its_imports_importers_and_chain(page, seed_page):
    open_map(page, seed_page)
    page.click_selector('.node[data-id="src/routes/voice.js"] rect')
    assert page.evaluate("document.getElementById('selected-file').textContent") == "src/routes/voice.js"
    assert texts(page, "ol.chain li") == ["src/index.js", "src/routes/index.js", "src/routes/voice.js"]
    imports = texts(page, "#imports li")
    assert any("'../services/freeswitch.js'" in x and "Cannot find module" in x for x in imports)
    assert any("import()" in x for x in imports)  # the dynamic import of a missing job
    assert texts(page, "#importers li a") == ["src/routes/index.js"]
    assert page.evaluate("document.querySelector('.node.selected').dataset.id") == "src/routes/voice.js"


def test_clicking_a_dormant_file_says_no_entry_loads_it(page, seed_page):
    open_map(page, seed_page)
    page.click_selector('.node[data-id="src/legacy/public-signup.js"] rect')
    panel = page.evaluate("document.getElementById('panel').textContent")
    assert "no entry loads this file" in panel
    assert "does not provide an export named 'Router'" in panel


def test_search_by_file_name_finds_and_selects_the_file(page, seed_page):
    open_map(page, seed_page)
    page.click_selector("#search")
    page.type_text("campaig")
    assert texts(page, "#results li .path") == ["src/routes/campaigns.js"]
    assert page.evaluate("document.querySelectorAll('.node.match').length") == 1
    page.press("Enter", 13)
    assert page.evaluate("document.getElementById('selected-file').textContent") == "src/routes/campaigns.js"
    assert page.evaluate("document.getElementById('results').hidden")


def test_findings_in_the_overview_link_to_their_files(page, seed_page):
    open_map(page, seed_page)
    assert len(texts(page, "#errors > li")) == 9
    page.click_selector('#errors a[data-id="src/routes/usage.js"]')
    assert page.evaluate("document.getElementById('selected-file').textContent") == "src/routes/usage.js"
    assert "syntax-error" in page.evaluate("document.getElementById('panel').textContent")


def test_docs_screenshot_of_the_bundled_example(page, seed_page, screenshots):
    """The README's picture: written on every run; copied to docs/ with DEPLOYSAFE_UPDATE_DOCS=1."""
    open_map(page, seed_page)
    shot = page.screenshot(screenshots / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("DEPLOYSAFE_UPDATE_DOCS"):
        shutil.copyfile(shot, REPO / "docs" / "report.png")


def test_cli_graph_writes_the_same_self_contained_page(tmp_path):
    out = tmp_path / "graph.html"
    done = run_cli("graph", str(REPO / "examples" / "seed-api"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "<script src" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "Content-Security-Policy" in page


@pytest.mark.slow
def test_three_thousand_files_open_folded_by_folder_and_stay_usable(page, big_project, tmp_path, screenshots):
    report = check(big_project)
    assert report.files >= 3000
    path = tmp_path / "big.html"
    path.write_text(html.render(report), encoding="utf-8")
    started = time.monotonic()
    open_map(page, path, timeout=90)
    opened = time.monotonic() - started
    stats = page.evaluate("deploysafeMap.stats()")
    page.screenshot(screenshots / "big-map.png")
    assert page.console.errors == []
    assert stats["files"] >= 3000
    assert stats["boxes"] <= 160, stats  # folded: a screenful of boxes, not 3,000
    assert page.evaluate("document.querySelectorAll('.node.folderunit').length") > 0
    assert page.evaluate("document.querySelectorAll('.edge.broken').length") > 0  # the missing lib/gone.js
    assert page.evaluate("document.querySelectorAll('.node.folderunit.dormant').length") >= 1  # unmounted modules
    assert opened < 30, f"opening took {opened:.1f} s"

    folded = page.evaluate("document.querySelector('.node.folderunit').dataset.folder")
    page.click_selector(f'.node.folderunit[data-folder="{folded}"] rect')
    assert page.evaluate(f"!!document.querySelector('.node.folderunit[data-folder=\"{folded}\"]')") is False

    page.click_selector("#search")
    page.type_text("m17/parts/p8/f9")
    page.press("Enter", 13)
    assert page.evaluate("document.getElementById('selected-file').textContent") == "src/modules/m17/parts/p8/f9.js"
    assert page.evaluate("!!document.querySelector('.node[data-id=\"src/modules/m17/parts/p8/f9.js\"]')")
    assert page.console.errors == []


def test_hostile_names_in_the_project_cannot_inject_script(page, tmp_path):
    hostile = "./</script><script>window.pwned = 1</script><!--.js"
    tag = "<img src=x onerror=window.pwned=2>.js"
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "type": "module"},
            "index.js": f"import {json.dumps(hostile)};\nimport {json.dumps('./' + tag)};\n",
            tag: "export {};\n",
        },
    )
    path = tmp_path / "hostile.html"
    path.write_text(html.render(check(root)), encoding="utf-8")
    open_map(page, path)
    page.settle()  # an injected handler (img onerror, ...) would have run by now
    assert page.evaluate("window.pwned === undefined")
    assert page.evaluate("document.querySelectorAll('#map img, #panel img').length") == 0  # text, never markup
    assert tag in texts(page, ".node text.name")
    assert page.console.errors == []
