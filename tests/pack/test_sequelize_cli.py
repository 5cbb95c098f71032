"""A start command that runs sequelize-cli's migrations ships what the CLI reads: .sequelizerc, the config
and the migrations folder it names (or the CLI's defaults); a path it cannot read is a warning."""

from __future__ import annotations

import tarfile
from pathlib import Path

from deploysafe.pack import pack
from tests.support.projects import write_tree

RC = (
    "const path = require('path');\nmodule.exports = {\n  'config': path.resolve('config', 'database.js'),\n"
    "  'migrations-path': path.join(__dirname, 'db', 'migrations'),\n  'seeders-path': process.env.SEEDERS,\n};\n"
)


def service(root: Path, start: str, files: dict) -> Path:
    manifest = {"name": "sq", "version": "1.0.0", "scripts": {"start": start}}
    return write_tree(root, {"package.json": manifest, "index.js": "console.log('up');\n", **files})


def packed(result) -> set[str]:
    with tarfile.open(result.path) as archive:
        return set(archive.getnames())


def test_what_sequelizerc_names_ships_when_the_start_command_migrates(tmp_path):
    migration = "module.exports = { up: async () => {}, down: async () => {} };\n"
    files = {
        ".sequelizerc": RC,
        "config/database.js": "module.exports = { production: { dialect: 'postgres' } };\n",
        "db/migrations/20240101-init.js": migration,
        "db/seeders/20240101-users.js": migration,
    }
    root = service(tmp_path / "rc", "npx sequelize-cli db:migrate && node index.js", files)
    result = pack(root, output=tmp_path / "out" / "a.tar.gz")
    assert {".sequelizerc", "config/database.js", "db/migrations/20240101-init.js"} <= packed(result)
    assert "db/seeders/20240101-users.js" not in packed(result)  # db:migrate reads no seeders


def test_the_cli_defaults_ship_and_an_unreadable_option_is_named(tmp_path):
    files = {"config/config.json": "{}\n", "migrations/1-init.js": "module.exports = {};\n", "seeders/1.js": ""}
    root = service(tmp_path / "defaults", "sequelize db:migrate && sequelize db:seed:all && node index.js", files)
    result = pack(root, output=tmp_path / "out" / "a.tar.gz")
    assert {"config/config.json", "migrations/1-init.js", "seeders/1.js"} <= packed(result)

    write_tree(root, {".sequelizerc": RC})
    result = pack(root, output=tmp_path / "out2" / "a.tar.gz")
    assert any("seeders-path to process.env.SEEDERS" in w for w in result.selection.warnings)
