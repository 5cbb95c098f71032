"""Folders well-known packages read at start, read from the options a service passes them: which folder,
relative to what, and whether its files are code the package requires (followed) or data (packed whole)."""

from __future__ import annotations

import pytest

from deploysafe.ecosystems.node.parse.javascript import Dialect, parse_module


def loads(source: str) -> list[tuple[str, str, str, bool, str]]:
    facts = parse_module(source.encode(), Dialect.JAVASCRIPT)
    return [(load.loader, load.base, load.folder, load.asset, load.names) for load in facts.folder_loads]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "const express = require('express');\nconst app = express();\n"
            "app.set('views', path.join(__dirname, 'templates'));\napp.set('view engine', 'pug');",
            [("express", "file", "templates", True, "")],
        ),
        (
            "import express from 'express';\nconst app = express();\napp.set('view engine', 'ejs');",
            [("express", "cwd", "views", True, "")],
        ),
        ("import express from 'express';\nexpress().listen(3000);", []),
        (
            "const i18n = require('i18n');\ni18n.configure({ directory: new URL('./locales/', import.meta.url) });",
            [("i18n", "file", "locales", True, "")],
        ),
        (
            "import Backend from 'i18next-fs-backend';\nconst o = { loadPath: './locales/{{lng}}/{{ns}}.json' };",
            [("i18next-fs-backend", "cwd", "locales", True, "")],
        ),
        (
            "const { Umzug } = require('umzug');\nnew Umzug({ migrations: { glob: 'db/migrations/*.{js,cjs}' } });",
            [("umzug", "cwd", "db/migrations", False, "*.{js,cjs}")],
        ),
        (
            "const { Umzug } = require('umzug');\nnew Umzug({ migrations: { glob: ['m/*.js', { cwd: dir }] } });",
            [("umzug", "", "", False, "")],
        ),
        (
            "const { Umzug } = require('umzug');\nnew Umzug({ migrations: { glob: ['m/*.js', { cwd: __dirname }] } });",
            [("umzug", "file", "m", False, "*.js")],
        ),
        (
            "const { Umzug } = require('umzug');\n"
            "new Umzug({ migrations: { glob: ['*.js', { cwd: path.join(__dirname, 'db', 'up') }] } });",
            [("umzug", "file", "db/up", False, "*.js")],
        ),
        (
            "const knex = require('knex')(config);\nawait knex.migrate.latest();",
            [("knex", "cwd", "migrations", False, "")],
        ),
        (
            "module.exports = { client: 'pg', migrations: { directory: './db/knex' } };",
            [("knex", "cwd", "db/knex", True, "")],
        ),
        ("module.exports = { migrations: { directory: './db/other' } };", []),
    ],
)
def test_the_folder_a_package_reads_is_read_from_its_options(source, expected):
    assert loads(source) == expected
