"""One JSON contract: every command's --format json output matches its schema in docs/schemas/ (a version,
snake_case keys, every documented field present), and an error is a JSON document on stdout too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.projects import EXAMPLES, run_cli
from tests.support.schemas import SCHEMAS, assert_valid


def _json(*args: str, code: int = 0, cwd: Path | None = None) -> dict:
    done = run_cli(*args, "--format", "json", cwd=cwd)
    assert done.returncode == code, done.stderr
    return json.loads(done.stdout)


def test_every_command_prints_json_its_schema_describes(tmp_path: Path) -> None:
    blocked = _json("check", str(EXAMPLES / "seed-api"), code=1)
    assert_valid(blocked, "check")
    assert (
        blocked["typescript"] is None
        and blocked["root_reason"] == "nearest folder with package.json, beside package-lock.json"
    )
    assert {f["name"] for f in blocked["findings"] if f["rule"] == "unresolved-import"} == {None}
    assert_valid(_json("why", "src/routes/chat.js", str(EXAMPLES / "seed-api")), "why")
    assert_valid(_json("rules"), "rules")
    drift = _json("drift", str(EXAMPLES / "seed-api"), "--against", str(EXAMPLES / "seed-api-fixed"), code=1)
    assert_valid(drift, "drift")
    manifest = _json("pack", str(EXAMPLES / "seed-api-fixed"), "-o", str(tmp_path))
    assert_valid(manifest, "pack")
    (artifact,) = tmp_path.glob("*.tar.gz")
    assert_valid(_json("verify", str(artifact)), "verify")


@pytest.mark.parametrize(
    ("args", "kind", "message"),
    [
        (("check", "--bogus"), "usage", "No such option '--bogus'"),
        (("check", "/nonexistent/service"), "config", "/nonexistent/service: no such directory"),
        (("status", "--to", "nope"), "config", "unknown target 'nope'"),
        (("rollback", "--to", "nope", "--release", "r1"), "config", "unknown target 'nope'"),
    ],
)
def test_an_error_is_json_on_stdout_with_format_json(args: tuple[str, ...], kind: str, message: str) -> None:
    done = run_cli(*args, "--format", "json")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    document = json.loads(done.stdout)
    assert_valid(document, "error")
    assert document["error"]["type"] == kind and message in document["error"]["message"]
    assert document["error"]["exit_code"] == 2


def test_every_schema_names_itself_and_keeps_snake_case_keys() -> None:
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text())
        assert schema["$id"].endswith("/" + path.name)
        keys = {k for k in _property_names(schema)}
        assert all(k == k.lower() and "-" not in k for k in keys), (path.name, keys)


def _property_names(node: object):
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield key
            yield from _property_names(value)
        for key, value in node.items():
            if key != "properties":
                yield from _property_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _property_names(item)
