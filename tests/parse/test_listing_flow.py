"""A folder listing feeds only the computed loads its entries reach, through the names that carry them, and
the file-name filters on the way decide which files it loads."""

from __future__ import annotations

import pytest

from deploysafe.ecosystems.node.parse.javascript import Dialect, parse_module

HEAD = "const fs = require('fs');\nconst path = require('path');\n"


def listings(body: str) -> list[tuple[str, str, tuple[tuple[int, int], ...]]]:
    facts = parse_module((HEAD + body).encode(), Dialect.JAVASCRIPT)
    return [(load.folder, load.names, load.replaces) for load in facts.folder_loads if load.loader == "readdir"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (  # the loop variable, a skip guard: only .js files
            "for (const f of fs.readdirSync('jobs')) {\n  if (!f.endsWith('.js')) continue;\n  require('./jobs/' + f);\n}",
            [("jobs", "*.js", ((5, 11),))],
        ),
        (  # a chain of callbacks, an exclusion beside an inclusion
            "fs.readdirSync(path.join(__dirname, 'h'))\n  .filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'))\n"
            "  .forEach((f) => require(path.join(__dirname, 'h', f)));",
            [("h", "*.js|!*.test.js", ((5, 27),))],
        ),
        (  # a const holding the listing, a const built from the entry, an extname test around the load
            "async function load() {\n  const files = await fs.promises.readdir('tasks');\n"
            "  for (const file of files) {\n    const full = path.resolve('tasks', file);\n"
            "    if (path.extname(file) === '.cjs') await import(full);\n  }\n}",
            [("tasks", "*.cjs", ((7, 53),))],
        ),
        (  # a listing no computed load uses loads nothing; the computed load stays unverified
            "const views = fs.readdirSync('views');\nrequire(process.env.PLUGIN);",
            [],
        ),
        (  # .then's callback receives the entries
            "fs.promises.readdir('p').then((names) => names.map((n) => import(`./p/${n}`)));",
            [("p", "", ((3, 66),))],
        ),
    ],
)
def test_a_listing_is_tied_to_the_loads_that_use_its_entries(body, expected):
    assert listings(body) == expected


def filtered(test: str) -> tuple[str, str]:
    body = f"fs.readdirSync('r').filter((f) => {test}).forEach((f) => require('./r/' + f));"
    [load] = [load for load in parse_module((HEAD + body).encode(), Dialect.JAVASCRIPT).folder_loads]
    return load.names, load.unread


@pytest.mark.parametrize(
    ("test", "names"),
    [
        ("f.endsWith('.js') || f.endsWith('.cjs')", "*.js|*.cjs"),
        ("/\\.route\\.js$/i.test(f)", "re:\\.route\\.js$/i"),
        ("f.match(/^v[0-9]+-/)", "re:^v[0-9]+-/"),
        ("!f.startsWith('_') && (f.endsWith('.js') || f.endsWith('.cjs'))", "*.js|*.cjs|!_*"),
        ("f.startsWith('r') && f.endsWith('.js')", "r*&*.js"),
        ("['.js', '.cjs'].includes(path.extname(f))", "*.js|*.cjs"),
        ("f !== 'index.js' && f.slice(-3) === '.js'", "*.js|!index.js"),
        ("~f.indexOf('.js')", "*.js*"),
        ("!f.startsWith('.') && f.indexOf('index') == -1", "!.*|!*index*"),
        ("f.indexOf('.js') !== -1", "*.js*"),
    ],
)
def test_file_name_filters_are_read_as_globs(test, names):
    assert filtered(test) == (names, "")


@pytest.mark.parametrize(
    ("test", "unread"),
    [
        ("isRoute(f)", "isRoute(f)"),
        ("f.endsWith(suffix)", "f.endsWith(suffix)"),
        ("!(f.startsWith('a') && f.endsWith('.js'))", "!(f.startsWith('a') && f.endsWith('.js'))"),
        ("!f.startsWith('_') || f.endsWith('.js')", "!f.startsWith('_') || f.endsWith('.js')"),
    ],
)
def test_a_filter_that_cannot_be_read_is_named(test, unread):
    assert filtered(test)[1] == unread


def test_a_filter_given_by_name_is_named():
    body = "fs.readdirSync('r').filter(isRoute).forEach((f) => require('./r/' + f));"
    [load] = parse_module((HEAD + body).encode(), Dialect.JAVASCRIPT).folder_loads
    assert load.unread == "fs.readdirSync('r').filter(isRoute)"
