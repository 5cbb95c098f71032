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
