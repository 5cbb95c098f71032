"""`deploysafe why FILE`: which entries load a file and how; or that none does; or who names a missing one."""

from __future__ import annotations

import json

from deploysafe.check.why import DORMANT, MISSING, NOT_CHECKED, REACHABLE, Reach, why
from tests.support.projects import REPO, run_cli, write_tree

SEED_API = REPO / "examples" / "seed-api"


def test_reachable_file_lists_every_entry_that_loads_it_with_its_shortest_chain():
    result = why(SEED_API, "src/services/email.js")
    assert result.status == REACHABLE
    assert result.reached_by == (
        Reach(
            "src/index.js",
            ("src/index.js", "src/routes/index.js", "src/routes/campaigns.js", "src/services/email.js"),
        ),
        Reach("src/workers/email-worker.js", ("src/workers/email-worker.js", "src/services/email.js")),
    )
    # campaigns.js names it as '../services/Email.js': it reaches the file only on a case-blind disk
    assert [(x.file, x.specifier, x.resolves) for x in result.importers] == [
        ("src/routes/campaigns.js", "../services/Email.js", False),
        ("src/workers/email-worker.js", "../services/email.js", True),
    ]


def test_shortest_chain_is_per_entry_not_the_first_one_found(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0"},
            "api.js": "require('./a'); require('./b');\n",
            "worker.js": "require('./shared');\n",
            "a.js": "require('./b');\n",
            "b.js": "require('./shared');\n",
            "shared.js": "module.exports = 1;\n",
        },
    )
    result = why(root, "shared.js", ["api.js", "worker.js"])
    assert [r.chain for r in result.reached_by] == [("api.js", "b.js", "shared.js"), ("worker.js", "shared.js")]


def test_dormant_file_says_no_entry_reaches_it_and_which_dormant_files_import_it(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "type": "module"},
            "index.js": "import './live.js';\n",
            "live.js": "export const live = 1;\n",
            "legacy/old.js": "import { helper } from './helper.js';\n",
            "legacy/older.js": "import './helper.js';\n",
            "legacy/helper.js": "export const helper = 1;\n",
        },
    )
    result = why(root, "legacy/helper.js", ["index.js"])
    assert result.status == DORMANT
    assert result.reached_by == ()
    assert [(x.file, x.line, x.reachable) for x in result.dormant_importers] == [
        ("legacy/old.js", 1, False),
        ("legacy/older.js", 1, False),
    ]


def test_missing_file_lists_the_imports_that_name_it():
    result = why(SEED_API, "src/config/database.js")
    assert result.status == MISSING
    assert [(x.file, x.line, x.column, x.reachable, x.resolves) for x in result.importers] == [
        ("src/routes/campaigns.js", 2, 23, True, False)
    ]


def test_file_outside_the_scan_is_not_checked():
    result = why(SEED_API, "src/db/schema.sql")
    assert result.status == NOT_CHECKED


def test_file_path_may_be_given_from_the_current_folder(monkeypatch):
    monkeypatch.chdir(REPO)
    assert why(SEED_API, "examples/seed-api/src/version.js").file == "src/version.js"


def test_cli_why_prints_the_chains_and_exits_0():
    done = run_cli("why", "src/routes/chat.js", str(SEED_API))
    assert done.returncode == 0, done.stderr
    assert "src/routes/chat.js is loaded by 1 of 2 entries" in done.stdout
    assert "src/index.js → src/routes/index.js → src/routes/chat.js" in done.stdout


def test_cli_why_on_a_dormant_file_says_so():
    done = run_cli("why", "src/jobs/nightly.js", str(SEED_API))
    assert done.returncode == 0, done.stderr
    assert "src/jobs/nightly.js is dormant: no entry reaches it" in done.stdout
    assert "no file imports it" in done.stdout


def test_cli_why_json_answers_for_a_missing_file_that_is_imported():
    done = run_cli("why", "src/services/freeswitch.js", str(SEED_API), "--format", "json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "missing"
    assert answer["importers"][0]["file"] == "src/routes/voice.js"


def test_cli_why_on_a_file_nothing_names_is_a_usage_error():
    done = run_cli("why", "src/nope.js", str(SEED_API))
    assert done.returncode == 2
    assert "src/nope.js: no such file" in done.stderr
