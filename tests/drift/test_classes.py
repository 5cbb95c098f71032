"""drift between two real directories: every class, the chains, the verdict, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from deploysafe.drift import drift, pull_needed
from tests.drift.conftest import EXPECTED, PNG, classes, json_classes
from tests.support.projects import run_cli, write_tree


def load_entry(root: Path) -> subprocess.CompletedProcess:
    """Real node imports the API entry (which starts listening) and exits once it has loaded."""
    script = "await import('./src/index.js'); console.log('loaded'); process.exit(0);"
    return subprocess.run(
        ["node", "--input-type=module", "-e", script],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PORT": "0"},
    )


def test_each_difference_lands_in_its_class(local, prod):
    report = drift(local, str(prod))
    assert classes(report) == EXPECTED
    assert report.entries == ["src/index.js", "src/workers/email-worker.js"]
    assert len(report.same) > 10 and "src/index.js" in report.same
    assert report.unreadable == []


def test_node_agrees_the_local_tree_needs_what_drift_calls_needed(local, prod):
    before = load_entry(local)
    assert before.returncode != 0
    assert "ERR_MODULE_NOT_FOUND" in before.stderr and "freeswitch.js" in before.stderr
    assert load_entry(prod).returncode == 0


def test_needed_files_come_with_the_chain_that_loads_them(local, prod):
    report = drift(local, str(prod))
    by_path = {n.path: n for n in report.needed}
    freeswitch = by_path["src/services/freeswitch.js"]
    assert freeswitch.chain == (
        "src/index.js",
        "src/routes/index.js",
        "src/routes/voice.js",
        "src/services/freeswitch.js",
    )
    assert (freeswitch.importer, freeswitch.line, freeswitch.specifier) == (
        "src/routes/voice.js",
        2,
        "../services/freeswitch.js",
    )
    assert freeswitch.when == "at start"
    database = by_path["src/config/database.js"]
    assert database.chain[-2:] == ("src/services/freeswitch.js", "src/config/database.js")
    dialplan = by_path["src/config/dialplan.xml"]
    assert dialplan.importer == "src/config/database.js" and dialplan.when == "when read"
    assert dialplan.chain[-2:] == ("src/config/database.js", "src/config/dialplan.xml")
    assert report.needed_by == ["src/index.js"]


def test_needed_files_make_the_tree_deployable_in_the_scratch_check(local, prod):
    report = drift(local, str(prod))
    assert not report.before.deployable
    assert report.after is not None and report.after.deployable
    assert report.exit_code == 1
    assert not local.joinpath("src/services/freeswitch.js").exists()  # drift alone writes nothing


def test_dormant_production_files_carry_their_faults_from_productions_own_check(local, prod):
    report = drift(local, str(prod))
    dormant = {s.path: s for s in report.source_only_dormant}
    assert dormant["src/routes/admin-agents.js"].in_source == "dormant"
    assert any("unresolved-import" in f and "../db/redis.js" in f for f in dormant["src/routes/admin-agents.js"].faults)
    assert any("syntax-error" in f for f in dormant["src/routes/old-billing.js"].faults)
    assert dormant[PNG].faults == ()


def test_productions_own_closure_is_judged(local, prod):
    closure = drift(local, str(prod)).source_closure
    assert closure is not None
    assert closure.complete is True
    assert closure.entries == ("src/index.js", "src/workers/email-worker.js")
    assert closure.packages == "source"


def test_a_production_tree_that_misses_its_own_file_is_incomplete(local, prod):
    (prod / "src/config/dialplan.xml").unlink()
    write_tree(prod, {"src/routes/index.js": (prod / "src/routes/index.js").read_text() + "import './admin.js';\n"})
    report = drift(local, str(prod))
    closure = report.source_closure
    assert closure is not None and closure.complete is False
    assert [(f.file, f.specifier) for f in closure.missing] == [("src/routes/index.js", "./admin.js")]
    # dialplan.xml is gone from production too: local cannot get it, so drift does not call it needed
    assert "src/config/dialplan.xml" not in {n.path for n in report.needed}


def test_text_output_leads_with_the_verdict_and_the_chains(local, prod):
    done = run_cli("drift", str(local), "--against", str(prod))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "NEEDED 3 files prod has are needed by src/index.js: copy them before deploying (--pull-needed)"
    assert lines[1].startswith(
        "  src/services/freeswitch.js  (at start: src/routes/voice.js:2 '../services/freeswitch.js')"
    )
    assert lines[2] == "    src/index.js → src/routes/index.js → src/routes/voice.js → src/services/freeswitch.js"
    text = done.stdout
    assert "source-only-dormant (3)" in text and "logo ü.png" in text
    assert "changed (4) — 2 reachable, 1 config file, 1 dormant" in text  # .env is config, not loaded
    assert "prod's own closure: complete" in text
    assert done.stderr == ""


def test_json_carries_every_class(local, prod):
    done = run_cli("drift", str(local), "--against", str(prod), "--format", "json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert json_classes(data) == EXPECTED
    assert data["verdict"] == "needed"
    assert data["summary"]["needed"] == 3 and data["summary"]["changed_dormant"] == 1
    assert "src/index.js" in data["same"]
    assert data["source"]["kind"] == "directory" and data["source_closure"]["complete"] is True
    assert data["check"] == {"deployable": False, "errors": 1, "deployable_with_needed": True, "errors_with_needed": []}
    health = next(c for c in data["changed"] if c["path"] == "src/routes/health.js")
    assert health["reachable"] is True and health["chain"][-1] == "src/routes/health.js"
    assert health["local"]["sha256"] != health["source"]["sha256"]


def test_nothing_needed_exits_zero(prod, tmp_path):
    done = run_cli("drift", str(prod), "--against", str(prod))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK nothing prod has is needed by src/index.js and src/workers/email-worker.js")


def test_a_tree_blocked_by_its_own_faults_exits_one_and_says_production_does_not_fix_them(local, prod):
    write_tree(local, {"src/services/freeswitch.js": "export function dial( {\n"})
    done = run_cli("drift", str(local), "--against", str(prod))
    assert done.returncode == 1
    assert done.stdout.startswith("BLOCKED nothing prod has is needed by")
    assert "syntax-error" in done.stdout


def test_skip_globs_leave_paths_out_of_both_sides(local, prod):
    report = drift(local, str(prod), skip=["public/", "*.env", ".env"])
    assert PNG not in {s.path for s in report.source_only_dormant}
    assert ".env" not in {c.path for c in report.changed}
    write_tree(local, {"deploysafe.toml": '[drift]\nskip = ["src/tools/"]\n'})
    report = drift(local, str(prod))
    assert "src/tools/seed-db.js" not in {x.path for x in report.local_only}


def test_usage_errors_exit_two_with_one_line(local, tmp_path):
    for args, expected in [
        (["--against", str(tmp_path / "nowhere")], "no such directory, archive or [targets] name"),
        (["--against", str(local / "package.json")], "not a directory or a .tar.gz/.tgz/.tar/.zip archive"),
        (["--against", "ftp://example.com/x"], "expected a directory, an archive, ssh://"),
        (["--against", str(local), "--overwrite"], "--overwrite only applies with --pull-needed"),
    ]:
        done = run_cli("drift", str(local), *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_require_of_a_path_without_extension_pulls_only_the_files_node_would_load(tmp_path):
    package = {"name": "cjs-app", "version": "1.0.0", "main": "index.js"}
    index = (
        "const util = require('./lib/util');\nconst store = require('./lib/store');\nconst db = require('./lib/db');\n"
        "console.log('loaded', util.x + store.y + db.z);\n"
    )
    local = write_tree(tmp_path / "local", {"package.json": package, "index.js": index})
    prod = write_tree(
        tmp_path / "prod",
        {
            "package.json": package,
            "index.js": index,
            "lib/util.js": "module.exports = { x: 1 };\n",
            "lib/util.json": '{"x": "the .js file wins"}\n',  # Node tries .js first: this one is never loaded
            "lib/store/index.js": "module.exports = { y: 2 };\n",
            "lib/db/package.json": {"main": "main.js"},
            "lib/db/main.js": "module.exports = { z: 3 };\n",
        },
    )
    report = drift(local, str(prod))
    assert sorted(n.path for n in report.needed) == [
        "lib/db/main.js",
        "lib/db/package.json",
        "lib/store/index.js",
        "lib/util.js",
    ]
    assert [s.path for s in report.source_only_dormant] == ["lib/util.json"]
    specifiers = {n.path: n.specifier for n in report.needed}
    assert specifiers["lib/util.js"] == "./lib/util" and specifiers["lib/store/index.js"] == "./lib/store"
    assert report.after is not None and report.after.deployable
    done = subprocess.run(["node", "index.js"], cwd=prod, capture_output=True, text=True, timeout=30)
    assert done.stdout == "loaded 6\n"  # ground truth: node loads these files from production
    assert pull_needed(report).check.deployable
    done = subprocess.run(["node", "index.js"], cwd=local, capture_output=True, text=True, timeout=30)
    assert done.stdout == "loaded 6\n", done.stderr
