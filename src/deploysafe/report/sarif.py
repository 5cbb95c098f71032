"""The check report as SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.

One rule descriptor per rule id (with how to fix it), one result per finding with its physical location,
and the import chain from the entry as a code flow: each hop is the import line that loads the next file.
``error``/``warning`` levels are the report's severities. Locations are relative to the repository root
(the nearest folder up from ROOT holding ``.git``), because GitHub resolves relative paths from there;
``%SRCROOT%`` names that folder. Edges that could not be followed are tool notifications, not results.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from pathlib import Path
from urllib.parse import quote

from deploysafe import __version__
from deploysafe.check.findings import Finding, Severity
from deploysafe.check.graph import ModuleGraph
from deploysafe.check.pipeline import Report
from deploysafe.check.rules import Rule, RuleSet

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
BASE = "%SRCROOT%"


def render(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"


def to_sarif(report: Report) -> dict[str, object]:
    """The SARIF log of ``report`` as a JSON-ready dict."""
    source_root = repository_root(report.root)
    prefix = _relative_prefix(report.root, source_root)
    rules = report.rules if report.rules is not None else _default_rules()
    rule_ids = rules.ids
    for finding in report.findings:  # a rule added without a description still gets a descriptor
        if finding.rule not in rule_ids:
            rule_ids.append(finding.rule)
    results = [_result(x, rule_ids.index(x.rule), prefix, report.graph) for x in report.findings]
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "deploysafe",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(rule, rules.get(rule), rules.tag) for rule in rule_ids],
            }
        },
        "originalUriBaseIds": {BASE: {"uri": Path(source_root).as_uri() + "/"}},
        "invocations": [_invocation(report, prefix)],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "root": prefix.rstrip("/") or ".",
            "entries": [e.path for e in report.entries],
            "summary": report.summary(),
            "dormant": report.dormant,
            "deployable": report.deployable,
        },
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def repository_root(root: str) -> str:
    """The nearest folder at or above ``root`` that holds ``.git`` (file or folder); ``root`` if none."""
    current = os.path.abspath(root)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return os.path.abspath(root)
        current = parent


def _relative_prefix(root: str, source_root: str) -> str:
    rel = os.path.relpath(os.path.abspath(root), source_root).replace(os.sep, "/")
    return "" if rel == "." else rel + "/"


def _default_rules() -> RuleSet:
    from deploysafe.ecosystems import default

    return default().rules


def _descriptor(rule_id: str, rule: Rule | None, tag: str) -> dict[str, object]:
    """SARIF's reportingDescriptor of a rule, from the rule's own summary, help and level."""
    description = rule.summary if rule else rule_id
    fix = rule.help if rule else ""
    level = str(rule.level) if rule else "error"
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": description},
        "fullDescription": {"text": f"{description} {fix}".strip()},
        "help": {
            "text": f"{description}\n\nFix: {fix}" if fix else description,
            "markdown": f"**{description}**\n\n{fix}\n\nA finding is an error when an entry loads the file "
            "(the deploy is blocked) and a warning when the file is dormant.",
        },
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["deploy", "correctness", tag], "precision": "very-high"},
    }


def _location(uri: str, line: int, column: int, message: str | None = None) -> dict[str, object]:
    location: dict[str, object] = {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(posixpath.normpath(uri), errors="surrogateescape"), "uriBaseId": BASE},
            "region": {"startLine": max(line, 1), "startColumn": max(column, 1)},
        }
    }
    if message:
        location["message"] = {"text": message}
    return location


def _result(finding: Finding, index: int, prefix: str, graph: ModuleGraph | None) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": "error" if finding.severity is Severity.ERROR else "warning",
        "message": {"text": finding.message},
        "locations": [_location(prefix + finding.file, finding.line, finding.column)],
        "partialFingerprints": {"deploysafeFinding/v1": _fingerprint(finding)},
        "properties": {
            "reachable": finding.reachable,
            "chain": list(finding.chain),
            **({"specifier": finding.specifier} if finding.specifier is not None else {}),
            **({"name": finding.name} if finding.name is not None else {}),
        },
    }
    hops = _hops(finding, prefix, graph)
    if hops:
        result["relatedLocations"] = [{"id": i + 1, **hop} for i, hop in enumerate(hops)]
        steps = [*hops, _location(prefix + finding.file, finding.line, finding.column, finding.message)]
        result["codeFlows"] = [
            {
                "message": {"text": "import chain from the entry: " + " → ".join(finding.chain)},
                "threadFlows": [
                    {"locations": [{"location": step, "executionOrder": i + 1} for i, step in enumerate(steps)]}
                ],
            }
        ]
    return result


def _hops(finding: Finding, prefix: str, graph: ModuleGraph | None) -> list[dict[str, object]]:
    """For a chain a → b → c: the line in a that imports b, then the line in b that imports c."""
    hops = []
    for importer, imported in zip(finding.chain, finding.chain[1:], strict=False):
        line, column = _import_site(graph, importer, imported)
        hops.append(_location(prefix + importer, line, column, f"{importer} imports {imported}"))
    return hops


def _import_site(graph: ModuleGraph | None, importer: str, imported: str) -> tuple[int, int]:
    if graph is None:
        return 1, 1
    module = graph.modules.get(os.path.realpath(os.path.join(graph.root, importer)))
    target = os.path.realpath(os.path.join(graph.root, imported))
    for edge in module.edges if module else []:
        if edge.followed_path == target:
            return edge.imp.line, edge.imp.column
    return 1, 1


def _fingerprint(finding: Finding) -> str:
    """Stable across edits that move the line: rule, file, and what the import asks for."""
    key = "\0".join([finding.rule, finding.file, finding.specifier or "", finding.name or ""])
    if not finding.specifier and not finding.name:
        key += f"\0{finding.message}"
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _invocation(report: Report, prefix: str) -> dict[str, object]:
    notifications = [
        {
            "descriptor": {"id": item.reason},
            "level": "note",
            "message": {"text": f"not verified: {item.detail}"},
            "locations": [_location(prefix + item.file, item.line, item.column)],
        }
        for item in report.unverified
    ]
    invocation: dict[str, object] = {"executionSuccessful": True, "exitCode": report.exit_code}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
