"""A pytest plugin (``-p tests.support.record_reports``) that records every report ``deploysafe.check``
returns during the run, one JSON line per call, in the file ``$DEPLOYSAFE_TEST_RECORD``.

Each line holds the test's id and the report's JSON with what may differ between two runs of the same
tests taken out (timings, the temporary root) and the number of files parsed, so a run with a cold facts
cache and one with a warm cache can be compared report by report. A call with ``cache=False`` is not
recorded: it parses every file whichever run it is in.
"""

from __future__ import annotations

import functools
import json
import os

import pytest

import deploysafe


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ["DEPLOYSAFE_TEST_RECORD"]
    original = deploysafe.check

    @functools.wraps(original)
    def recording(*args, **kwargs):
        report = original(*args, **kwargs)
        if kwargs.get("cache") is False:  # parses every file in both runs: nothing about the cache to compare
            return report
        data = report.to_json()
        root = str(data.pop("root", ""))
        data.pop("seconds", None)
        data.get("summary", {}).pop("seconds", None)
        text = json.dumps(data, sort_keys=True).replace(root, "<root>")
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": test, "parsed": report.parsed, "report": json.loads(text)}) + "\n")
        return report

    deploysafe.check = recording
