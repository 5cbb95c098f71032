"""``-o FILE`` picks the report format by suffix; a suffix that names none is a one-line error (exit 2) before
any work, never a silent text file."""

from __future__ import annotations

import json

from tests.support.projects import run_cli, write_tree

APP = {
    "package.json": {"name": "app", "version": "1.0.0", "scripts": {"start": "node src/server.js"}},
    "src/server.js": "require('./a');\n",
    "src/a.js": "module.exports = 1;\n",
}


def _error(done) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_an_unknown_report_suffix_is_an_error_and_writes_nothing(tmp_path):
    root = write_tree(tmp_path / "app", APP)
    out = tmp_path / "report.yaml"
    line = _error(run_cli("check", str(root), "-o", str(out)))
    assert line == (
        f"deploysafe: error: --output {out}: suffix '.yaml' names no report format "
        "(use .json, .sarif, .html, .htm, .txt, .text, or --format)"
    )
    assert not out.exists()
    assert "suffix '.jsn' names no report format" in _error(run_cli("check", str(root), "-o", str(tmp_path / "r.jsn")))
    assert "no suffix" in _error(run_cli("check", str(root), "-o", str(tmp_path / "report")))


def test_format_names_the_format_of_one_output_whatever_its_suffix(tmp_path):
    root = write_tree(tmp_path / "app", APP)
    out = tmp_path / "report.yaml"
    done = run_cli("check", str(root), "--format", "json", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["summary"]["errors"] == 0
    several = run_cli("check", str(root), "--format", "json", "-o", str(tmp_path / "a.json"), "-o", str(out))
    assert "--format is for one --output" in _error(several)


def test_txt_is_text_and_drift_picks_json_by_suffix_too(tmp_path):
    root = write_tree(tmp_path / "app", APP)
    text = tmp_path / "report.txt"
    assert run_cli("check", str(root), "-o", str(text)).returncode == 0
    assert text.read_text().splitlines()[-1].startswith("DEPLOYABLE")
    report = tmp_path / "drift.json"
    done = run_cli("drift", str(root), "--against", str(root), "-o", str(report))
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["version"]
    assert "suffix '.sarif' names no report format" in _error(
        run_cli("drift", str(root), "--against", str(root), "-o", str(tmp_path / "d.sarif"))
    )


def test_graph_picks_dot_or_mermaid_by_suffix_and_refuses_an_image_suffix(tmp_path):
    root = write_tree(tmp_path / "app", APP)
    dot, mermaid = tmp_path / "g.dot", tmp_path / "g.mmd"
    assert run_cli("graph", str(root), "-o", str(dot)).returncode == 0
    assert dot.read_text().startswith("digraph")
    assert run_cli("graph", str(root), "-o", str(mermaid)).returncode == 0
    assert mermaid.read_text().startswith(("flowchart", "graph"))
    line = _error(run_cli("graph", str(root), "-o", str(tmp_path / "g.svg")))
    assert "suffix '.svg' names no report format (use .html, .htm, .dot, .gv, .mmd, .mermaid, or --format)" in line
