"""The one JSON contract every command's ``--format json`` keeps, in one place.

Every document (and every line of a deploy's JSON lines) has ``version`` (:data:`JSON_VERSION`, raised only
when a field changes meaning or goes away); keys are ``snake_case``; every documented field is always
present, ``null`` where it does not apply. An error is ``{"version": 1, "error": {"type", "message",
"exit_code"}}`` on stdout (the one-line message still goes to stderr). Deploy events carry ``time``, UTC in
ISO 8601 with milliseconds. The JSON Schemas in ``docs/schemas/`` describe each command's output and the
tests validate real output against them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["JSON_VERSION", "error_document", "now", "versioned"]

JSON_VERSION = 1


def versioned(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with ``version`` first."""
    return {"version": JSON_VERSION, **{k: v for k, v in data.items() if k != "version"}}


def now() -> str:
    """The time of an event: ``2026-01-31T12:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_document(kind: str, message: str, exit_code: int) -> str:
    """The JSON of an error, one line: ``kind`` names its class (``usage``, ``config``, ``target``...)."""
    error = {"type": kind, "message": message, "exit_code": exit_code}
    return json.dumps({"version": JSON_VERSION, "error": error}, ensure_ascii=False)
