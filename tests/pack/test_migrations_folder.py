"""A service that runs its migrations at start through the real `migrate` package (it lists migrations/
and requires each file): the migrations are reachable, their imports followed and their faults judged,
and the artifact holds them; real node runs the service and the unpacked artifact."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from deploysafe import check
from deploysafe.pack import pack
from tests.support.npm_cache import project
from tests.support.projects import run_node

pytestmark = pytest.mark.slow

MANIFEST = {"name": "migsvc", "version": "1.0.0", "main": "index.js", "dependencies": {"migrate": "2.1.0"}}
INDEX = (
    "const migrate = require('migrate');\n"
    "migrate.load({ stateStore: '.migrate' }, (err, set) => {\n  if (err) throw err;\n"
    "  set.up((err) => { if (err) throw err; console.log('migrated'); });\n});\n"
)


def service(root: Path, schema: str) -> Path:
    migration = (
        f"const {{ tables }} = require('{schema}');\n"
        "exports.up = (next) => { tables(); next(); };\nexports.down = (next) => next();\n"
    )
    files = {
        "index.js": INDEX,
        "migrations/1-init.js": migration,
        "lib/schema.js": "exports.tables = () => ['users'];\n",
    }
    return project(root, "migrate", MANIFEST, files)


def test_migrations_read_by_migrate_are_packed_with_what_they_require_and_the_artifact_runs(tmp_path):
    root = service(tmp_path / "ok", "../lib/schema")
    report = check(root)
    assert report.errors == [] and report.unverified == []
    assert report.graph.chain(str(root / "lib/schema.js")) == ["index.js", "migrations/1-init.js", "lib/schema.js"]
    assert run_node(root, "index.js").stdout.strip() == "migrated"

    result = pack(root, output=tmp_path / "out" / "a.tar.gz")
    assert {"migrations/1-init.js", "lib/schema.js"} <= set(result.selection.files)
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with tarfile.open(result.path) as archive:
        archive.extractall(unpacked, filter="data")
    (unpacked / "node_modules").symlink_to(root / "node_modules")
    done = run_node(unpacked, "index.js")
    assert done.returncode == 0 and done.stdout.strip() == "migrated", done.stderr


def test_a_migration_that_requires_a_missing_file_blocks_and_node_crashes_at_start(tmp_path):
    root = service(tmp_path / "broken", "../lib/nope")
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "migrations/1-init.js")]
    assert report.errors[0].chain == ("index.js", "migrations/1-init.js")
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "Cannot find module '../lib/nope'" in done.stderr
