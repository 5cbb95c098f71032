"""The node- and tsx-confirmed verdict tests pass with a cold facts cache and again with the cache the
first run filled, and every report is identical: the cache changes the speed of a check, never a verdict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.projects import REPO

VERDICT_TESTS = [
    "tests/check/test_verdicts_agree_with_node.py",
    "tests/check/test_version_dependent_verdicts.py",
    "tests/check/test_typescript_verdicts_under_tsx.py",
    "tests/check/test_syntax_second_opinion.py",
]


def run_verdict_tests(cache: Path, record: Path) -> list[dict]:
    env = {**os.environ, "DEPLOYSAFE_TEST_FACTS_CACHE": str(cache), "DEPLOYSAFE_TEST_RECORD": str(record)}
    env.pop("DEPLOYSAFE_NO_CACHE", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *VERDICT_TESTS,
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.support.record_reports",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return [json.loads(line) for line in record.read_text().splitlines()]


@pytest.mark.timeout(1800)
def test_verdict_tests_give_identical_reports_with_a_cold_and_a_warm_cache(tmp_path):
    cache = tmp_path / "facts"
    cold = run_verdict_tests(cache, tmp_path / "cold.jsonl")
    warm = run_verdict_tests(cache, tmp_path / "warm.jsonl")

    assert len(cold) == len(warm) >= 90  # every check() call of those tests, in order
    assert sum(r["parsed"] for r in cold) >= 90  # the cold run parsed ...
    assert sum(r["parsed"] for r in warm) == 0  # ... and the warm run read every file's facts from the cache
    for before, after in zip(cold, warm, strict=True):
        assert before["test"] == after["test"]
        assert before["report"] == after["report"], before["test"]
