"""JSON, SARIF and text are three views of one report: on the bundled example they carry the same
findings (rule, severity, file, line, column, message) and the same chains."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.projects import REPO, run_cli

SEED_API = REPO / "examples" / "seed-api"
FINDING_LINE = re.compile(r"^(?P<file>\S+):(?P<line>\d+):(?P<column>\d+) (?P<rule>[a-z-]+) (?P<message>.*)$")

Finding = tuple[str, str, str, int, int, str]  # rule, severity, file, line, column, message


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("formats")
    found = {}
    for fmt in ("json", "sarif", "text"):
        target = out / f"report.{fmt}"
        done = run_cli("check", str(SEED_API), "--format", fmt, "-o", str(target))
        assert done.returncode == 1, done.stderr  # blocked, in every format
        found[fmt] = target.read_text()
    return found


def from_json(text: str) -> list[Finding]:
    return [
        (f["rule"], f["severity"], f["file"], f["line"], f["column"], f["message"])
        for f in json.loads(text)["findings"]
    ]


def from_sarif(text: str) -> list[Finding]:
    run = json.loads(text)["runs"][0]
    base = Path(unquote(run["originalUriBaseIds"]["%SRCROOT%"]["uri"].removeprefix("file://")))
    found = []
    for r in run["results"]:
        where = r["locations"][0]["physicalLocation"]
        path = (base / unquote(where["artifactLocation"]["uri"])).relative_to(SEED_API.resolve()).as_posix()
        region = where["region"]
        found.append((r["ruleId"], r["level"], path, region["startLine"], region["startColumn"], r["message"]["text"]))
    return found


def from_text(text: str) -> list[Finding]:
    found, severity = [], None
    for line in text.splitlines():
        if line.startswith(("errors (", "warnings (")):
            severity = "error" if line.startswith("errors") else "warning"
        elif line.startswith(("dormant (", "unverified (")):
            severity = None
        elif severity and (match := FINDING_LINE.match(line)):
            found.append(
                (
                    match["rule"],
                    severity,
                    match["file"],
                    int(match["line"]),
                    int(match["column"]),
                    match["message"],
                )
            )
    return found


def test_json_sarif_and_text_carry_the_same_findings(outputs):
    from_j, from_s, from_t = from_json(outputs["json"]), from_sarif(outputs["sarif"]), from_text(outputs["text"])
    assert len(from_j) == 11  # 9 errors, 2 warnings in dormant files
    assert from_s == from_j
    assert from_t == from_j


def test_json_sarif_and_text_carry_the_same_chains(outputs):
    chains_json = [tuple(f["chain"]) for f in json.loads(outputs["json"])["findings"]]
    chains_sarif = [tuple(r["properties"]["chain"]) for r in json.loads(outputs["sarif"])["runs"][0]["results"]]
    chains_text = []
    lines = outputs["text"].splitlines()
    for i, line in enumerate(lines):
        if FINDING_LINE.match(line) and i + 1 < len(lines):
            follow = lines[i + 1].strip()
            chains_text.append(
                tuple(follow.removeprefix("chain: ").split(" → ")) if follow.startswith("chain:") else None
            )
    assert chains_sarif == chains_json
    assert [c for c in chains_text if c] == [c for c in chains_json if len(c) > 1]


def test_summary_counts_agree(outputs):
    summary = json.loads(outputs["json"])["summary"]
    assert json.loads(outputs["sarif"])["runs"][0]["properties"]["summary"] == summary
    assert f"{summary['errors']} errors · {summary['warnings']} warnings" in outputs["text"]
