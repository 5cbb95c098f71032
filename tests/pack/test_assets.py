"""Files the code reads by a literal path, include/exclude globs, package scopes and JSON imports: packed so
that node, started on nothing but the unpacked artifact, finds every one of them."""

from __future__ import annotations

import tarfile
from pathlib import Path

from deploysafe.pack import pack
from tests.support.projects import run_node, write_tree

INDEX = """\
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import data from './data.json' with { type: 'json' };
import helper from './cjs/helper.cjs.js';

const schema = readFileSync(new URL('./sql/schema.sql', import.meta.url), 'utf8');
const mail = readFileSync(path.join(import.meta.dirname, 'templates', 'mail.html'), 'utf8');
const views = readdirSync(path.join(import.meta.dirname, '..', 'views')).sort();
const robots = readFileSync(path.resolve(import.meta.dirname, '../public/robots.txt'), 'utf8');
const migrations = readdirSync(path.join(process.cwd(), 'migrations'));   // computed: needs an include glob
let optional = 'absent';
try { optional = readFileSync(path.join(import.meta.dirname, 'optional.json'), 'utf8'); } catch {}
const worker = new Worker(new URL('./worker.js', import.meta.url));
worker.once('message', (message) => {
  console.log(JSON.stringify({ schema: schema.trim(), mail: mail.trim(), views, robots: robots.trim(),
    migrations, optional, data, helper, message }));
});
"""

HELPER = """\
const fs = require('node:fs');
module.exports = {
  banner: fs.readFileSync(__dirname + '/banner.txt', 'utf8').trim(),
  motd: fs.readFileSync(`${__dirname}/motd.txt`, 'utf8').trim(),
};
"""

FILES = {
    "package.json": {"name": "assets", "version": "1.0.0", "type": "module", "main": "src/index.js"},
    "deploysafe.toml": '[pack]\ninclude = ["migrations/**"]\nexclude = ["views/draft.ejs"]\n',
    "src/index.js": INDEX,
    "src/data.json": {"answer": 42},
    "src/cjs/package.json": {"type": "commonjs"},  # without it, helper.cjs.js would load as ESM and crash
    "src/cjs/helper.cjs.js": HELPER,
    "src/cjs/banner.txt": "banner\n",
    "src/cjs/motd.txt": "motd\n",
    "src/sql/schema.sql": "CREATE TABLE t (id int);\n",
    "src/templates/mail.html": "<p>hi</p>\n",
    "src/worker.js": "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage('from worker');\n",
    "views/home.ejs": "home\n",
    "views/draft.ejs": "draft\n",
    "public/robots.txt": "User-agent: *\n",
    "public/unused.css": "body{}\n",
    "migrations/001-init.sql": "-- 1\n",
    "migrations/002-more.sql": "-- 2\n",
    "src/legacy.js": "export const old = 1;\n",
}


def test_node_runs_the_unpacked_artifact_with_every_literal_path_asset(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "app", FILES)
    expected = run_node(root, "src/index.js")
    assert expected.returncode == 0, expected.stderr

    result = pack(root, output=tmp_path / "out/")
    release = tmp_path / "release"
    with tarfile.open(result.path) as archive:
        archive.extractall(release, filter="data")
    actual = run_node(release, "src/index.js")

    assert actual.returncode == 0, actual.stderr
    assert actual.stdout == expected.stdout.replace('"draft.ejs",', "")  # the excluded view is gone, nothing else


def test_each_asset_is_packed_for_the_reason_the_code_gives(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "app", FILES)
    result = pack(root, output=tmp_path / "out/")
    reasons = {path: (p.reason, p.detail) for path, p in result.selection.files.items()}

    assert reasons["src/sql/schema.sql"] == ("asset", "src/index.js:7")
    assert reasons["src/templates/mail.html"] == ("asset", "src/index.js:8")
    assert reasons["views/home.ejs"] == ("asset", "src/index.js:9 (folder views/)")
    assert reasons["public/robots.txt"] == ("asset", "src/index.js:10")
    assert reasons["src/cjs/banner.txt"] == ("asset", "src/cjs/helper.cjs.js:3")
    assert reasons["src/cjs/motd.txt"] == ("asset", "src/cjs/helper.cjs.js:4")
    assert reasons["src/worker.js"] == ("asset", "src/index.js:14")
    assert reasons["migrations/001-init.sql"] == ("include", "migrations/**")
    assert reasons["src/cjs/package.json"] == ("package.json", "package scope of src/cjs/helper.cjs.js")
    assert reasons["src/data.json"][0] == "module"
    assert "public/unused.css" not in reasons
    assert "src/legacy.js" not in reasons and result.manifest["dormant"] == ["src/legacy.js"]
    assert {"path": "views/draft.ejs", "reason": "[pack] exclude"} in result.manifest["excluded"]


def test_what_cannot_be_proven_is_reported_not_guessed(tmp_path: Path) -> None:
    files = dict(FILES)
    files["src/extra.js"] = (
        "import path from 'node:path';\n"
        "export const a = path.join(import.meta.dirname, '..', '..', 'outside.txt');\n"
        "export const b = path.join(import.meta.dirname, '..');\n"
    )
    files["src/index.js"] = "import './extra.js';\n" + INDEX
    root = write_tree(tmp_path / "app", files)
    warnings = pack(root, output=tmp_path / "out/").selection.warnings

    assert "src/index.js:14 reads 'src/optional.json' by a literal path, but there is no such file" in warnings
    assert "src/extra.js:2 reads '../outside.txt' outside the project: not packed" in warnings
    assert any(w.startswith("src/extra.js:3 reads the folder '.' that holds the code itself") for w in warnings)
    assert any(w.startswith("src/index.js:15 loads the code file src/worker.js by a literal path") for w in warnings)


def test_a_symlinked_folder_inside_the_project_is_packed_as_a_copy_node_can_load(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "links", "version": "1.0.0", "type": "module", "main": "src/index.js"},
            "src/index.js": "import { x } from './current/x.js';\nconsole.log('loaded', x);\n",
            "src/v2/x.js": "export const x = 2;\n",
        },
    )
    (root / "src" / "current").symlink_to("v2")
    result = pack(root, output=tmp_path / "out/")
    release = tmp_path / "release"
    with tarfile.open(result.path) as archive:
        archive.extractall(release, filter="data")

    assert {"src/current/x.js", "src/v2/x.js"} <= {f["path"] for f in result.files}
    assert not (release / "src" / "current").is_symlink()
    assert run_node(release, "src/index.js").stdout == "loaded 2\n"
