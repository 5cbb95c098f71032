"""`deploysafe graph --format dot|mermaid`: the same map for Graphviz and for Markdown."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from deploysafe.report import graph_formats as g
from tests.support.projects import REPO, run_cli

SEED_API = REPO / "examples" / "seed-api"


def test_view_marks_each_broken_import_and_each_kind_of_node(seed_report):
    view = g.graph_view(seed_report)
    kinds = {n.id: n.kind for n in view.nodes.values()}
    assert kinds["src/index.js"] == g.ENTRY
    assert kinds["src/legacy/public-signup.js"] == g.DORMANT
    assert kinds["src/config/database.js"] == g.MISSING
    assert kinds["node_modules/hono"] == g.PACKAGE
    assert kinds["node_modules/ioredis"] == g.MISSING
    broken = {(x.source, x.target): x.rules for x in view.broken() if x.status == g.ERROR}
    # './health' in an ES module: the red edge points at health.js, the file it meant
    assert broken[("src/routes/index.js", "src/routes/health.js")] == ["unresolved-import"]
    assert broken[("src/routes/campaigns.js", "src/services/email.js")] == ["case-mismatch"]
    assert len(broken) == 8
    warned = {(x.source, x.target) for x in view.broken() if x.status == g.WARNING}
    assert warned == {
        ("src/legacy/public-signup.js", "node_modules/hono"),
        ("src/legacy/system-status.js", "src/config/redis.js"),
    }


def test_folders_collapse_to_one_node_each_with_the_worst_status_kept(seed_report):
    view = g.collapsed(g.graph_view(seed_report), 1)
    assert sorted(view.nodes) == ["node_modules", "src"]
    assert [x.status for x in view.links] == [g.ERROR]  # src -> node_modules, through chat.js's { Router }
    deeper = g.collapsed(g.graph_view(seed_report), 2)
    assert deeper.nodes["src/legacy"].kind == g.DORMANT
    assert deeper.nodes["src/jobs"].kind == g.DORMANT  # a dormant file and a missing one
    assert deeper.nodes["src/config"].kind == g.MISSING  # nothing but missing files
    assert deeper.nodes["node_modules"].kind == g.PACKAGE
    assert deeper.nodes["src/routes"].status == g.ERROR


def test_dot_output_is_accepted_by_graphviz(seed_report, tmp_path):
    text = g.to_dot(g.graph_view(seed_report))
    assert text.count('color="#dc2626"') >= 10
    assert '"src/legacy/public-signup.js" [label="public-signup.js"' in text
    dot = shutil.which("dot")
    if dot is None:
        if os.environ.get("CI"):
            pytest.fail("graphviz is not installed (CI must install it: apt-get install -y graphviz)")
        pytest.skip("graphviz (dot) is not installed")
    done = subprocess.run([dot, "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "<svg" in done.stdout and "campaigns.js" in done.stdout


def test_mermaid_output_colours_broken_links_and_dormant_files(seed_report):
    text = g.to_mermaid(g.graph_view(seed_report))
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    arrows = [x for x in lines if "-->" in x or "-.->" in x]
    red = re.search(r"linkStyle ([\d,]+) stroke:#dc2626", text)
    assert red is not None
    assert len(red.group(1).split(",")) == 10  # 8 errors + 2 dormant warnings
    assert all("|" in arrows[int(i)] for i in red.group(1).split(","))  # labelled with their rule
    assert re.search(r'n\d+\["public-signup.js"\]:::dormant', text)
    assert '"database.js (missing)"' in text


def test_mermaid_escapes_quotes_and_angle_brackets():
    assert g._mermaid('a"b<c>') == "a#34;b#60;c#62;"


def test_cli_graph_prints_dot_and_mermaid_and_exits_0_even_when_blocked():
    dot = run_cli("graph", str(SEED_API), "--format", "dot")
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout.startswith("digraph deploysafe {")
    mermaid = run_cli("graph", str(SEED_API), "--format", "mermaid", "--folders", "2")
    assert mermaid.returncode == 0, mermaid.stderr
    assert '["routes/"]' in mermaid.stdout or '"src/routes/"' in mermaid.stdout


def test_cli_graph_refuses_to_print_a_whole_page_on_a_terminal():
    from tests.report.terminal import run_in_terminal

    done = run_in_terminal("graph", str(SEED_API))
    assert done.returncode == 2
    assert "give --output FILE" in done.stderr
