"""Rules are units: one module and one class per rule id, listed by a registry from which `deploysafe
rules`, SARIF's rule metadata and the README's rule table all follow; a finding prints itself in one place."""

from __future__ import annotations

import importlib
import json
import re

import pytest

from deploysafe import check
from deploysafe.check.rules import Rule
from deploysafe.ecosystems.node.rules import RULES
from deploysafe.report import sarif
from tests.support.projects import EXAMPLES, REPO, run_cli

ROW = re.compile(r"^\| `([a-z-]+)` \| (.+) \|$")


@pytest.fixture(scope="module")
def seed_report():
    return check(EXAMPLES / "seed-api")


def test_every_rule_is_a_class_in_a_module_named_for_its_id() -> None:
    assert len(RULES) == 14
    for rule in RULES:
        module = importlib.import_module(f"deploysafe.ecosystems.node.rules.{rule.id.replace('-', '_')}")
        assert type(rule).__module__ == module.__name__
        assert isinstance(rule, Rule)
        assert rule.summary.endswith(".") and "\n" not in rule.summary
        assert rule.predicts and rule.help and str(rule.level) in ("error", "warning")


def test_the_readme_rule_table_is_the_registry() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index("| rule | what Node does |") + 2
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    rows = [ROW.match(line) for line in lines[start:end]]
    assert all(rows)
    table = [(m.group(1), m.group(2)) for m in rows if m]
    assert table == [(rule.id, rule.predicts) for rule in RULES]


def test_deploysafe_rules_lists_every_rule_with_its_summary() -> None:
    done = run_cli("rules")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(RULES)
    for line, rule in zip(lines, RULES, strict=True):
        assert line.split()[0] == rule.id
        assert rule.summary in line


def test_deploysafe_rules_as_json() -> None:
    done = run_cli("rules", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["version"] == 1
    assert [(r["id"], r["summary"], r["help"], r["level"]) for r in data["rules"]] == [
        (rule.id, rule.summary, rule.help, str(rule.level)) for rule in RULES
    ]
    assert {r["ecosystem"] for r in data["rules"]} == {"node"}


def test_a_bad_rules_format_is_a_usage_error() -> None:
    done = run_cli("rules", "--format", "xml")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_sarif_rule_metadata_comes_from_the_registry(seed_report) -> None:
    descriptors = sarif.to_sarif(seed_report)["runs"][0]["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors] == RULES.ids
    for descriptor, rule in zip(descriptors, RULES, strict=True):
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"]["text"] == f"{rule.summary}\n\nFix: {rule.help}"
        assert descriptor["defaultConfiguration"]["level"] == str(rule.level)


def test_every_finding_names_a_registered_rule(seed_report) -> None:
    assert seed_report.findings
    assert {f.rule for f in seed_report.findings} <= set(RULES.ids)


def test_a_finding_prints_itself_and_the_text_report_uses_that(seed_report) -> None:
    finding = seed_report.errors[0]
    assert str(finding) == f"{finding.file}:{finding.line}:{finding.column} {finding.rule} {finding.message}"
    done = run_cli("check", str(EXAMPLES / "seed-api"))
    assert done.returncode == 1
    for finding in seed_report.findings:
        assert str(finding) in done.stdout.splitlines()
