"""The JSON Schemas of docs/schemas/, loaded once into one registry, and a check of a document against one."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@functools.cache
def _registry() -> tuple[Registry, dict[str, dict]]:
    loaded = {p.name.removesuffix(".schema.json"): json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json")}
    resources = [(doc["$id"], Resource.from_contents(doc)) for doc in loaded.values()]
    return Registry().with_resources(resources), loaded


def assert_valid(document: Any, schema: str) -> None:
    """Fail with every violation when ``document`` does not match docs/schemas/``schema``.schema.json."""
    registry, loaded = _registry()
    validator = Draft202012Validator(
        loaded[schema], registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(document)
    ]
    assert not problems, f"{schema}.schema.json:\n" + "\n".join(problems[:20])
