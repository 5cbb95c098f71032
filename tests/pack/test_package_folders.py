"""Folders that well-known packages read at start are part of what ships: express's views, i18n's and
i18next-fs-backend's locales (data, packed whole) and umzug's migrations (code it requires: followed, so
what a migration requires is packed and its faults judged). Real packages from the npm registry; real node
boots the unpacked artifact."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from deploysafe import check
from tests.support.npm_cache import project
from tests.support.projects import run_cli, run_node

pytestmark = pytest.mark.slow

MANIFEST = {
    "name": "folders",
    "version": "1.0.0",
    "main": "index.js",
    "dependencies": {
        "express": "4.22.1",
        "ejs": "3.1.10",
        "i18n": "0.15.1",
        "i18next": "25.5.2",
        "i18next-fs-backend": "2.6.0",
        "umzug": "3.8.2",
    },
}
INDEX = """\
const express = require('express');
const path = require('node:path');
const i18n = require('i18n');
const i18next = require('i18next');
const Backend = require('i18next-fs-backend');
const { Umzug, memoryStorage } = require('umzug');

i18n.configure({ locales: ['en'], directory: path.join(__dirname, 'locales'), updateFiles: false });
const app = express();
app.set('view engine', 'ejs');
const umzug = new Umzug({ migrations: { glob: 'migrations/*.js' }, storage: memoryStorage(), logger: undefined });

async function main() {
  if ((await umzug.up()).length !== 1) throw new Error('migrations missing');
  await i18next.use(Backend).init({
    lng: 'en', ns: ['common'], defaultNS: 'common', initAsync: false,
    backend: { loadPath: path.join(__dirname, 'i18n/{{lng}}/{{ns}}.json') },
  });
  if (i18next.t('hello') !== 'Hello') throw new Error('i18next locales missing');
  if (i18n.__('greeting') !== 'Hi') throw new Error('i18n locales missing');
  app.get('/health', (req, res) => res.render('health', { word: i18n.__('greeting') }));
  app.listen(Number(process.env.PORT), '127.0.0.1');
  console.log('started');
}
main().catch((err) => { console.error(err); process.exit(1); });
"""
DATA = {
    "views/health.ejs": "<p><%= word %></p>\n",
    "locales/en.json": '{"greeting": "Hi"}\n',
    "i18n/en/common.json": '{"hello": "Hello"}\n',
    "migrations/README.md": "not a migration: umzug's glob takes *.js\n",
    "lib/schema.js": "exports.tables = () => ['users'];\n",
}


def service(root: Path, schema: str) -> Path:
    migration = f"const {{ tables }} = require('{schema}');\nexports.up = async () => tables();\nexports.down = async () => {{}};\n"
    return project(root, "package-folders", MANIFEST, {"index.js": INDEX, "migrations/1-init.js": migration, **DATA})


def test_views_locales_and_migrations_read_at_start_ship_and_the_artifact_boots(tmp_path):
    root = service(tmp_path / "ok", "../lib/schema")
    done = run_cli(
        "pack", str(root), "-o", str(tmp_path / "out") + "/", "--boot", "--health", "http://127.0.0.1:1/health"
    )
    assert done.returncode == 0, done.stderr
    assert "boot: BOOTS" in done.stderr and "/health passed" in done.stderr, done.stderr
    [artifact] = (tmp_path / "out").glob("*.tar.gz")
    with tarfile.open(artifact) as archive:
        packed = set(archive.getnames())
    wanted = {"views/health.ejs", "locales/en.json", "i18n/en/common.json", "migrations/1-init.js", "lib/schema.js"}
    assert wanted <= packed, sorted(packed)
    assert "views/health.ejs ← read by index.js:10 (express)" in done.stdout + done.stderr


CWD_GLOB = "glob: ['*.js', { cwd: path.join(__dirname, 'migrations') }]"


@pytest.mark.parametrize("glob", ["glob: 'migrations/*.js'", CWD_GLOB])
def test_a_migration_umzug_runs_that_requires_a_missing_file_blocks_and_node_crashes(tmp_path, glob):
    root = service(tmp_path / "broken", "../lib/nope")
    (root / "index.js").write_text(INDEX.replace("glob: 'migrations/*.js'", glob))
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "migrations/1-init.js")]
    assert report.errors[0].chain == ("index.js", "migrations/1-init.js")
    done = run_node(root, "index.js", env={"PORT": "0"})
    assert done.returncode != 0 and "Cannot find module '../lib/nope'" in done.stderr
