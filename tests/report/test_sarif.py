"""`check --format sarif`: valid SARIF 2.1.0 that GitHub code scanning accepts, with the chain kept."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from deploysafe import check
from deploysafe.ecosystems.node.rules import RULES as REGISTRY
from deploysafe.report import sarif
from tests.support.projects import REPO, run_cli, write_tree

RULES = {rule.id: rule.summary for rule in REGISTRY}

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def log(seed_report) -> dict:
    return json.loads(sarif.render(seed_report))


def test_sarif_of_the_bundled_example_is_valid_against_the_official_schema(log, validator):
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert errors == [], "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert log["version"] == "2.1.0"


def test_every_rule_id_has_one_descriptor_with_help(log):
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    for rule in rules:
        assert rule["shortDescription"]["text"] == RULES[rule["id"]]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning")
    results = log["runs"][0]["results"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_levels_and_locations_follow_the_findings(log, seed_report):
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == [str(f.severity) for f in seed_report.findings]
    chat = next(r for r in results if r["ruleId"] == "missing-export" and r["level"] == "error")
    location = chat["locations"][0]["physicalLocation"]
    # relative to the repository root (the folder with .git), where GitHub resolves paths
    assert location["artifactLocation"] == {"uri": "examples/seed-api/src/routes/chat.js", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 1, "startColumn": 16}
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == REPO.resolve().as_uri() + "/"


def test_the_import_chain_is_a_code_flow_through_the_import_lines(log):
    results = log["runs"][0]["results"]
    chat = next(r for r in results if r["ruleId"] == "missing-export" and r["level"] == "error")
    steps = [s["location"] for s in chat["codeFlows"][0]["threadFlows"][0]["locations"]]
    where = [
        (s["physicalLocation"]["artifactLocation"]["uri"], s["physicalLocation"]["region"]["startLine"]) for s in steps
    ]
    assert where == [
        ("examples/seed-api/src/index.js", 4),  # import routes from './routes/index.js'
        ("examples/seed-api/src/routes/index.js", 4),  # import chat from './chat.js'
        ("examples/seed-api/src/routes/chat.js", 1),  # import { Router } from 'hono'
    ]
    assert steps[0]["message"]["text"] == "src/index.js imports src/routes/index.js"
    assert [x["id"] for x in chat["relatedLocations"]] == [1, 2]


def test_dormant_findings_are_warnings_without_a_code_flow(log):
    dormant = [r for r in log["runs"][0]["results"] if not r["properties"]["reachable"]]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in dormant} == {
        "examples/seed-api/src/legacy/public-signup.js",
        "examples/seed-api/src/legacy/system-status.js",
    }
    assert all(r["level"] == "warning" and "codeFlows" not in r for r in dormant)


def test_unverified_edges_are_tool_notifications_and_paths_are_uri_encoded(tmp_path, validator):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "type": "module"},
            "index.js": "import './my routes/a b.js';\nconst name = process.env.X;\nawait import(name);\n",
            "my routes/a b.js": "import { nope } from './c.js';\nexport const a = 1;\n",
            "my routes/c.js": "export const c = 1;\n",
        },
    )
    log = sarif.to_sarif(check(root))
    assert list(validator.iter_errors(log)) == []
    run = log["runs"][0]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
    assert uris == ["my%20routes/a%20b.js"]  # no .git above tmp: relative to ROOT itself
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["note"]
    assert notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_cli_writes_sarif_and_still_exits_1_when_blocked(tmp_path, validator):
    out = tmp_path / "deploysafe.sarif"
    done = run_cli("check", str(REPO / "examples" / "seed-api"), "--format", "sarif", "-o", str(out))
    assert done.returncode == 1, done.stderr
    assert list(validator.iter_errors(json.loads(out.read_text()))) == []
    fixed = run_cli("check", str(REPO / "examples" / "seed-api-fixed"), "--format", "sarif")
    assert fixed.returncode == 0, fixed.stderr
    assert [r["level"] for r in json.loads(fixed.stdout)["runs"][0]["results"]] == ["warning", "warning"]
