"""The command line as users and CI meet it: exit codes, output formats, entry detection, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploysafe import check
from tests.support.projects import run_cli, run_node, write_tree

ESM_APP = {
    "package.json": {"name": "app", "version": "1.0.0", "type": "module", "scripts": {"start": "node src/server.js"}},
    "src/server.js": "import { a } from './a.js';\nconsole.log('loaded', a);\n",
    "src/a.js": "export const a = 1;\n",
}


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("deploysafe: error: ")
    return lines[0]


# ---- exit codes and formats ------------------------------------------------------------------------------


def test_deployable_project_exits_0_and_says_so(tmp_path):
    root = write_tree(tmp_path / "app", ESM_APP)
    done = run_cli("check", str(root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "entry src/server.js (package.json scripts.start: node src/server.js)" in done.stdout
    assert "DEPLOYABLE" in done.stdout


def test_blocked_project_exits_1_with_one_line_per_finding_and_its_chain(tmp_path):
    root = write_tree(tmp_path / "app", {**ESM_APP, "src/a.js": "import './gone.js';\nexport const a = 1;\n"})
    done = run_cli("check", str(root))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    finding = next(line for line in lines if "unresolved-import" in line)
    assert finding.startswith("src/a.js:1:8 unresolved-import crashes at start: Cannot find module './gone.js'")
    assert lines[lines.index(finding) + 1].strip() == "chain: src/server.js → src/a.js"
    assert lines[-1].startswith("BLOCKED")
    assert "\x1b[" not in done.stdout  # no colour when not a terminal


def test_json_report_follows_the_version_1_contract(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {**ESM_APP, "src/a.js": "import './gone.js';\nexport const a = 1;\n", "src/old.js": "import x from 'nope';\n"},
    )
    out = tmp_path / "report.json"
    done = run_cli("check", str(root), "--format", "json", "--output", str(out))
    assert done.returncode == 1
    data = json.loads(out.read_text())
    assert data["version"] == 1
    assert data["root"] == str(root.resolve())
    assert data["entries"] == ["src/server.js"]
    assert data["summary"] == {"files": 3, "reachable": 2, "dormant": 1, "errors": 1, "warnings": 1, "unverified": 0}
    assert data["dormant"] == ["src/old.js"]
    error = data["findings"][0]
    assert error == {
        "rule": "unresolved-import",
        "severity": "error",
        "file": "src/a.js",
        "line": 1,
        "column": 8,
        "specifier": "./gone.js",
        "name": None,  # every finding has every field: null where it does not apply
        "message": error["message"],
        "reachable": True,
        "chain": ["src/server.js", "src/a.js"],
    }
    warning = data["findings"][1]
    assert (warning["rule"], warning["severity"], warning["reachable"], warning["chain"]) == (
        "missing-package",
        "warning",
        False,
        [],
    )


def test_several_entries_are_checked_together(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {**ESM_APP, "src/worker.js": "import './broken.js';\n", "src/broken.js": "import 'missing-pkg';\n"},
    )
    report = check(root, ["src/server.js", "src/worker.js"])
    assert [(f.rule, f.chain) for f in report.errors] == [("missing-package", ("src/worker.js", "src/broken.js"))]


# ---- entry detection -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected", "reason"),
    [
        (
            {
                "ecosystem.config.cjs": "module.exports = { apps: [{ name: 'api', script: './src/server.js' }, "
                "{ name: 'w', script: 'src/worker.js', instances: 2 }] };\n"
            },
            ["src/server.js", "src/worker.js"],
            "ecosystem.config.cjs apps[].script './src/server.js'",
        ),
        (
            {"ecosystem.config.json": {"apps": [{"name": "api", "script": "src/worker.js"}]}},
            ["src/worker.js"],
            "ecosystem.config.json apps[].script 'src/worker.js'",
        ),
        (
            {"Procfile": "web: node src/worker.js --port $PORT\n"},
            ["src/worker.js"],
            "Procfile web: node src/worker.js --port $PORT",
        ),
        (
            {
                "package.json": {
                    "name": "app",
                    "scripts": {"start": "npm run build && NODE_ENV=production node -r dotenv/config src/worker.js"},
                }
            },
            ["src/worker.js"],
            "package.json scripts.start: npm run build && NODE_ENV=production node -r dotenv/config src/worker.js",
        ),
        ({"package.json": {"name": "app", "scripts": {"start": "tsx watch src/worker"}}}, ["src/worker.js"], None),
        (
            {"package.json": {"name": "app", "main": "src/worker.js"}},
            ["src/worker.js"],
            "package.json main: src/worker.js",
        ),
    ],
)
def test_entries_are_detected_with_their_reason(tmp_path, files, expected, reason):
    base = {
        "package.json": {"name": "app", "type": "module"},
        "src/server.js": "console.log('s');\n",
        "src/worker.js": "console.log('w');\n",
    }
    root = write_tree(tmp_path / "app", {**base, **files})
    report = check(root)
    assert [e.path for e in report.entries] == expected
    if reason:
        assert report.entries[0].reason == reason


def test_index_js_is_the_last_resort(tmp_path):
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app"}, "index.js": "1;\n"})
    assert [e.reason for e in check(root).entries] == ["index.js at the root"]


def test_no_entry_is_a_usage_error(tmp_path):
    root = write_tree(tmp_path / "app", {"package.json": {"name": "app"}, "lib/a.js": "1;\n"})
    done = run_cli("check", str(root))
    assert done.returncode == 2
    assert "no entry point found" in one_line_error(done)


def test_entry_that_does_not_exist_is_a_usage_error(tmp_path):
    root = write_tree(tmp_path / "app", ESM_APP)
    done = run_cli("check", str(root), "--entry", "src/nope.js")
    assert done.returncode == 2
    assert "entry 'src/nope.js' (--entry) is not a file" in one_line_error(done)


# ---- bad input -------------------------------------------------------------------------------------------


def test_missing_root_exits_2_with_one_line(tmp_path):
    done = run_cli("check", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert "no such directory" in one_line_error(done)


def test_malformed_package_json_exits_2_and_node_refuses_it_too(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {"package.json": '{"name": "app", "type": "module",}\n', "index.js": "console.log('loaded');\n"},
    )
    done = run_cli("check", str(root))
    assert done.returncode == 2
    assert "package.json: invalid JSON at line 1" in one_line_error(done)
    node = run_node(root, "index.js")
    assert node.returncode != 0 and "SyntaxError: Error parsing" in node.stderr


def test_malformed_deploysafe_toml_exits_2(tmp_path):
    root = write_tree(tmp_path / "app", {**ESM_APP, "deploysafe.toml": "[check\nentries = 1\n"})
    done = run_cli("check", str(root))
    assert done.returncode == 2
    assert "deploysafe.toml" in one_line_error(done)


def test_tsconfig_with_comments_trailing_commas_and_extends_is_read(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "type": "module"},
            "tsconfig.base.json": '{\n  /* shared */\n  "compilerOptions": {\n    "paths": {"@lib/*": ["./lib/*"],},\n  },\n}\n',
            "tsconfig.json": '{\n  "extends": "./tsconfig.base.json", // inherit paths\n  "compilerOptions": {"strict": true,},\n}\n',
            "src/index.ts": "import { x } from '@lib/x.js';\nconsole.log(x);\n",
            "lib/x.ts": "export const x = 1;\n",
        },
    )
    report = check(root, ["src/index.ts"])
    assert report.findings == []
    assert report.reachable == 2


def test_malformed_tsconfig_does_not_crash_the_check(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app"},
            "tsconfig.json": "{ nope",
            "src/index.ts": "import './a';\n",
            "src/a.ts": "1;\n",
        },
    )
    report = check(root, ["src/index.ts"])
    assert report.findings == []


def test_symlink_loop_is_reported_not_followed_forever(tmp_path):
    root = write_tree(tmp_path / "app", ESM_APP)
    os.symlink("..", root / "src" / "loop")
    os.symlink("dangling-target", root / "src" / "dangling.js")
    done = run_cli("check", str(root), "--format", "json")
    assert done.returncode == 0, done.stderr
    problems = {p["path"]: p["message"] for p in json.loads(done.stdout)["problems"]}
    assert "symlink" in problems["src/loop"]
    assert "src/dangling.js" in problems


def test_binary_file_named_js_is_a_syntax_error_and_node_agrees(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {**ESM_APP, "src/a.js": b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00"},
    )
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("syntax-error", "src/a.js")]
    done = run_node(root, "src/server.js")
    assert done.returncode != 0 and "SyntaxError" in done.stderr


def test_non_utf8_source_is_checked_without_crashing(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {**ESM_APP, "src/a.js": "// caf\xe9 in latin-1\nexport const a = 'd\xe9j\xe0';\n".encode("latin-1")},
    )
    report = check(root)
    assert report.findings == []
    assert run_node(root, "src/server.js").returncode == 0


def test_huge_generated_file_is_parsed(tmp_path):
    body = "".join(f"export const v{i} = {i};\n" for i in range(60_000))  # ~1.3 MB
    root = write_tree(tmp_path / "app", {**ESM_APP, "src/a.js": body + "export const a = 1;\n"})
    report = check(root)
    assert report.findings == []


@pytest.mark.skipif(not shutil.which("setpriv"), reason="setpriv (util-linux) is needed to drop root")
def test_unreadable_directory_is_listed_as_not_checked(tmp_path):
    import tempfile

    # pytest's own temp directories are private to root: use a world-traversable one.
    shared = Path(tempfile.mkdtemp(prefix="deploysafe-perm-"))
    shared.chmod(0o755)
    root = write_tree(shared / "app", {**ESM_APP, "src/private/secret.js": "1;\n"})
    (root / "src" / "private").chmod(0)
    # root reads every directory; run as an unprivileged user so the permission really applies.
    user = [] if os.geteuid() != 0 else ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    done = subprocess.run(
        [*user, sys.executable, "-m", "deploysafe", "check", str(root), "--format", "json", "--no-cache"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(shared), "DEPLOYSAFE_NO_CACHE": "1"},
        cwd=shared,
    )
    (root / "src" / "private").chmod(0o755)
    shutil.rmtree(shared)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"path": "src/private", "message": "permission denied; its files were not checked"} in data["problems"]
    assert data["summary"]["unverified"] == 1


def test_unreadable_root_is_a_one_line_error(tmp_path):
    root = write_tree(tmp_path / "app", ESM_APP)
    done = run_cli("check", str(root / "package.json"))
    assert done.returncode == 2
    assert "not a directory" in one_line_error(done)


def test_bundled_example_shows_every_seed_fault_and_node_crashes_on_it():
    from tests.support.projects import EXAMPLES

    report = check(EXAMPLES / "seed-api")
    assert report.exit_code == 1
    by_rule = {(f.rule, f.file) for f in report.errors}
    assert by_rule == {
        ("unresolved-import", "src/routes/campaigns.js"),  # ../config/database.js
        ("case-mismatch", "src/routes/campaigns.js"),  # ../services/Email.js
        ("missing-export", "src/routes/chat.js"),  # { Router } from 'hono'
        ("unresolved-import", "src/routes/index.js"),  # ./health without .js
        ("syntax-error", "src/routes/usage.js"),
        ("unresolved-import", "src/routes/voice.js"),  # services/freeswitch.js exists only in production
        ("dev-dependency-at-runtime", "src/workers/email-worker.js"),
        ("missing-package", "src/workers/email-worker.js"),
    }
    assert any("fails when this import() runs" in f.message for f in report.errors)
    assert {f.file for f in report.warnings} == {"src/legacy/public-signup.js", "src/legacy/system-status.js"}
    assert run_node(EXAMPLES / "seed-api", "src/index.js").returncode != 0
    assert run_node(EXAMPLES / "seed-api", "src/index.js", "--check").returncode == 0  # what the team relied on


def test_fixed_example_is_deployable_and_serves_health(tmp_path):
    import socket
    import time

    import httpx

    from tests.support.projects import EXAMPLES

    root = EXAMPLES / "seed-api-fixed"
    report = check(root)
    assert report.exit_code == 0
    assert report.dormant == ["src/legacy/public-signup.js", "src/legacy/system-status.js"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        ["node", "src/index.js"],
        cwd=root,
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["status"] == "healthy"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_start_command_naming_a_missing_bundle_says_where_its_source_is(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {
                "name": "app",
                "scripts": {"build": "esbuild src/index.ts --bundle --outdir=dist", "start": "node dist/index.js"},
            },
            "src/index.ts": "console.log('hi');\n",
        },
    )
    done = run_cli("check", str(root))
    assert done.returncode == 2
    assert one_line_error(done) == (
        "deploysafe: error: package.json scripts.start: node dist/index.js: 'dist/index.js' does not exist "
        "(it is built from src/index.ts: build first, or check the source with --entry src/index.ts)"
    )
    assert run_cli("check", str(root), "--entry", "src/index.ts").returncode == 0


def test_missing_tsc_output_is_checked_through_its_source_as_compiled_code(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "scripts": {"build": "tsc", "start": "node dist/index.js"}},
            "tsconfig.json": {"compilerOptions": {"outDir": "dist", "rootDir": "src"}},
            "src/index.ts": "console.log('hi');\n",
        },
    )
    report = check(root)
    assert [(e.path, e.compiled_to) for e in report.entries] == [("src/index.ts", "dist/index.js")]
    assert report.typescript is not None and report.typescript.compiled
    done = run_cli("check", str(root))
    assert done.returncode == 0
    assert "typescript compiled by tsc, Node runs the output (node runs dist/index.js" in done.stdout


def test_ecosystem_file_naming_a_missing_script_is_an_error_not_a_guess(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "main": "index.js"},
            "index.js": "1;\n",
            "ecosystem.config.js": "module.exports = { apps: [{ script: 'server.js' }] };\n",
        },
    )
    done = run_cli("check", str(root))
    assert done.returncode == 2
    assert "ecosystem.config.js apps[].script 'server.js': 'server.js' does not exist" in one_line_error(done)


def test_one_run_writes_several_reports_and_prints_text(tmp_path):
    from tests.support.projects import EXAMPLES

    outputs = [tmp_path / "r.json", tmp_path / "r.sarif", tmp_path / "r.html"]
    args = [a for o in outputs for a in ("-o", str(o))]
    done = run_cli("check", str(EXAMPLES / "seed-api"), *args)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1].startswith("BLOCKED")
    assert json.loads(outputs[0].read_text())["summary"]["errors"] == 9
    assert json.loads(outputs[1].read_text())["version"] == "2.1.0"
    assert outputs[2].read_text().lstrip().lower().startswith("<!doctype html>")
