"""The PM2 process file and packages' .d.ts files are read by the JavaScript/TypeScript parser, never by
pattern: a commented-out app is no entry, a computed script is unverified (never a crash), and a comment
saying "interface Router" declares no type that could silence a missing export."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deploysafe import check
from tests.support.projects import run_node, write_tree
from tests.support.tools import tsx

PROCESS_FILE = """module.exports = {
  apps: [
    { name: 'api', script: 'src/index.js' },
    // { name: 'old-worker', script: 'src/workers/old-worker.js' },
    /* { name: 'gone', script: "src/gone.js" }, */
    { name: 'jobs', script: require('path').join(__dirname, 'src/jobs.js') },
  ],
};
"""


def test_commented_out_apps_are_no_entries_and_computed_scripts_are_unverified(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0"},
            "ecosystem.config.js": PROCESS_FILE,
            "src/index.js": "require('./lib');\nconsole.log('loaded');\n",
            "src/lib.js": "module.exports = 1;\n",
            "src/jobs.js": "console.log('jobs');\n",
        },
    )
    report = check(root)
    assert [(e.path, e.reason) for e in report.entries] == [
        ("src/index.js", "ecosystem.config.js apps[].script 'src/index.js'")
    ]
    assert report.deployable
    (doubt,) = [u for u in report.unverified if u.reason == "computed-entry"]
    assert (doubt.file, doubt.line) == ("ecosystem.config.js", 6)
    assert "require('path').join(__dirname, 'src/jobs.js')" in doubt.detail
    assert run_node(root, "src/index.js").returncode == 0  # the app deploysafe judged loads


def test_a_doc_comment_naming_an_interface_silences_no_missing_export(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "type": "module", "dependencies": {"web": "1.0.0"}},
            "node_modules/web/package.json": {
                "name": "web",
                "version": "1.0.0",
                "main": "index.js",
                "types": "index.d.ts",
            },
            "node_modules/web/index.js": "exports.Hono = class Hono {};\n",
            "node_modules/web/index.d.ts": "/** There is no interface Router here: type Router was removed in 2.0. */\n"
            "export interface Context { path: string }\nexport declare class Hono {}\n",
            "src/index.ts": "import { Hono, Router } from 'web';\nimport type { Context } from 'web';\n"
            "const c: Context = { path: '/' };\nconsole.log(typeof Hono, typeof Router, c.path);\n",
        },
    )
    report = check(root, ["src/index.ts"])
    # a TypeScript import of a name the package's types do not declare: a warning (it may be a type tsc
    # erases, declared where deploysafe does not look); the comment no longer silences it
    assert [(f.rule, f.name, str(f.severity)) for f in report.findings] == [("missing-export", "Router", "warning")]
    assert "unless 'Router' is only a type" in report.findings[0].message
    done = subprocess.run([str(tsx()), "src/index.ts"], cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "does not provide an export named 'Router'" in done.stderr
