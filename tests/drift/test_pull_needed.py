"""--pull-needed: the needed files are added to ROOT, nothing else changes, check passes, node loads it."""

from __future__ import annotations

import hashlib
import json
import subprocess

from deploysafe import check
from deploysafe.drift import drift, pull_needed
from tests.drift.conftest import EXPECTED
from tests.drift.test_classes import load_entry
from tests.support.projects import run_cli
from tests.support.schemas import assert_valid


def tree_state(root) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "node_modules" not in p.relative_to(root).parts
    }


def test_pull_needed_makes_check_pass_and_node_load_the_entry(local, prod):
    state = tree_state(local)
    done = run_cli("drift", str(local), "--against", str(prod), "--pull-needed")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pulled 3 files from prod into ROOT" in done.stdout
    assert "check now: DEPLOYABLE" in done.stdout
    after = tree_state(local)
    assert set(after) - set(state) == set(EXPECTED["needed"])
    assert {k: v for k, v in after.items() if k in state} == state  # nothing else touched
    for rel in EXPECTED["needed"]:
        assert (local / rel).read_bytes() == (prod / rel).read_bytes()
    assert check(local).deployable
    loaded = load_entry(local)
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded" in loaded.stdout
    # the worker runs until stopped: it has loaded once it says so
    worker = subprocess.Popen(
        ["node", "src/workers/email-worker.js"], cwd=local, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "email worker started"
    finally:
        worker.kill()
        worker.wait(timeout=10)


def test_pull_needed_never_replaces_a_local_file_without_overwrite(local, prod):
    report = drift(local, str(prod))
    (local / "src/config").mkdir(parents=True)
    (local / "src/config/database.js").write_text("// written by hand meanwhile\n")
    result = pull_needed(report)
    assert result.refused == [
        ("src/config/database.js", "a local file is already there (pass --overwrite to replace it)")
    ]
    assert (local / "src/config/database.js").read_text() == "// written by hand meanwhile\n"
    assert sorted(result.written) == ["src/config/dialplan.xml", "src/services/freeswitch.js"]
    assert result.exit_code == 1
    again = pull_needed(report, overwrite=True)
    assert again.written == ["src/config/database.js"]
    assert sorted(again.already) == ["src/config/dialplan.xml", "src/services/freeswitch.js"]
    assert again.refused == [] and again.exit_code == 0
    assert (local / "src/config/database.js").read_bytes() == (prod / "src/config/database.js").read_bytes()
    assert again.check.deployable


def test_pull_needed_json_reports_what_was_written_and_the_new_verdict(local, prod):
    done = run_cli("drift", str(local), "--against", str(prod), "--pull-needed", "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert_valid(document, "drift")
    pulled = document["pulled"]
    assert sorted(pulled["written"]) == EXPECTED["needed"]
    assert pulled["refused"] == [] and pulled["deployable"] is True


def test_pull_needed_on_a_tree_still_blocked_exits_one(local, prod):
    (local / "src/routes/chat.js").write_text("import { Router } from 'hono';\nexport const chat = Router();\n")
    done = run_cli("drift", str(local), "--against", str(prod), "--pull-needed")
    assert done.returncode == 1
    assert "check now: BLOCKED" in done.stdout and "missing-export" in done.stdout


def test_pull_needed_refuses_a_folder_that_leads_outside_root_through_a_symlink(local, prod, tmp_path):
    report = drift(local, str(prod))
    outside = tmp_path / "outside"
    outside.mkdir()
    (local / "src/config").symlink_to(outside)
    result = pull_needed(report)
    assert sorted(p for p, _ in result.refused) == ["src/config/database.js", "src/config/dialplan.xml"]
    assert {why for _, why in result.refused} == {"its folder leads outside ROOT through a symlink"}
    assert list(outside.iterdir()) == []
    assert result.written == ["src/services/freeswitch.js"]
