"""Code that runs at load and needs a browser is listed as unverified, never blocked: real jQuery 4 and
Leaflet from the registry crash real node at start, deploysafe names the file, line and global and exits 0;
a read node survives (typeof-guarded, inside a function, in a try) stays clean."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deploysafe import check
from deploysafe.check.findings import BROWSER_GLOBAL
from tests.support import tools
from tests.support.npm_cache import project
from tests.support.projects import run_cli, run_node, write_tree

PACKAGES = {
    "name": "browser-packages",
    "version": "1.0.0",
    "private": True,
    "dependencies": {"jquery": "4.1.0", "leaflet": "1.9.4"},
}
LOCAL_NODE = "20.20.2"  # the machine's node (NODE-FACTS.md), before Node 21 defined `navigator`
LOG = "console.log('loaded');\n"
SERVICE = {
    "leaflet.cjs": "require('leaflet');\nconsole.log('loaded');\n",
    "jquery.mjs": "import $ from 'jquery';\nconsole.log('loaded', typeof $);\n",
}


def browser_doubts(root: Path, entry: str) -> list[str]:
    report = check(root, [entry])
    assert report.errors == []
    return [u.detail for u in report.unverified if u.reason == BROWSER_GLOBAL]


def test_real_jquery_and_leaflet_crash_node_and_are_listed_as_unverified(tmp_path):
    root = project(tmp_path / "app", "browser-packages", PACKAGES, SERVICE)
    leaflet = run_node(root, "leaflet.cjs")
    assert leaflet.returncode != 0 and "window is not defined" in leaflet.stderr, leaflet.stderr
    jquery = run_node(root, "jquery.mjs")
    assert jquery.returncode != 0 and "jQuery requires a window with a document" in jquery.stderr, jquery.stderr

    [doubt] = browser_doubts(root, "leaflet.cjs")
    assert "node_modules/leaflet/dist/leaflet-src.js:230:19: reads `window` at load, which Node" in doubt, doubt
    [doubt] = browser_doubts(root, "jquery.mjs")
    assert "node_modules/jquery/dist/jquery.js:30:2: throws under `!window.document` at load" in doubt, doubt

    done = run_cli("check", str(root), "--entry", "leaflet.cjs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "leaflet-src.js:230:19" in done.stdout


OWN = {
    "package.json": {"name": "own", "version": "1.0.0"},
    "bad.js": "const a = 1;\nconst w = window.innerWidth + a;\nconsole.log(w);\n",
    "guarded.js": (
        "const width = typeof window !== 'undefined' ? window.innerWidth : 0;\n"
        "const ok = typeof document !== 'undefined' && document.title;\n"
        "function later() { return navigator.userAgent; }\n"
        "(function () {\n  if (typeof window === 'undefined') return;\n  window.x = 1;\n})();\n"
        "try { location.href; } catch { /* not a browser */ }\n"
        "console.log('loaded', width, ok, typeof later);\n"
    ),
    "exports.mjs": "const _n = 1;\nexport { _n as navigator };\nconsole.log('loaded');\n",
    "shadowed.js": "(function (window) {\n  if (!window.document) {}\n  window.y = 1;\n})({});\nconsole.log('loaded');\n",
}


def test_own_code_read_at_load_is_unverified_and_guarded_reads_stay_clean(tmp_path):
    root = write_tree(tmp_path / "own", OWN)
    bad = run_node(root, "bad.js")
    assert bad.returncode != 0 and "window is not defined" in bad.stderr, bad.stderr
    [doubt] = browser_doubts(root, "bad.js")
    assert doubt.startswith("reads `window` at load"), doubt
    assert [(u.file, u.line, u.column) for u in check(root, ["bad.js"]).unverified] == [("bad.js", 2, 11)]

    for entry in ("guarded.js", "shadowed.js", "exports.mjs"):
        done = run_node(root, entry)
        assert done.returncode == 0 and "loaded" in done.stdout, done.stderr
        assert browser_doubts(root, entry) == [], entry


def test_navigator_at_load_is_a_doubt_where_node_lacks_it_and_clean_from_node_21_on(tmp_path):
    root = write_tree(
        tmp_path / "agent",
        {"package.json": {"name": "agent", "version": "1.0.0"}, "agent.js": "const a = navigator.userAgent;\n" + LOG},
    )
    old = subprocess.run(["node", "agent.js"], cwd=root, capture_output=True, text=True, timeout=60)
    assert old.returncode != 0 and "navigator is not defined" in old.stderr, old.stderr
    for version in ("21.0.0", "22.23.5"):  # Node 21.0.0 is the first to define it
        new = subprocess.run([tools.node(version), "agent.js"], cwd=root, capture_output=True, text=True, timeout=60)
        assert new.returncode == 0 and new.stdout.startswith("loaded"), (version, new.stderr)
        assert check(root, ["agent.js"], node_version=version).unverified == []

    report = check(root, ["agent.js"], node_version=LOCAL_NODE)
    assert [(u.reason, u.line, u.column) for u in report.unverified] == [(BROWSER_GLOBAL, 1, 11)]
    assert report.unverified[0].detail == (
        f"reads `navigator` at load, which Node {LOCAL_NODE} does not define (a browser global)"
    )
