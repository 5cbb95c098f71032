"""The check report as JSON (version 1): the contract other tools read."""

from __future__ import annotations

import json

from deploysafe.check.pipeline import Report


def render(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
