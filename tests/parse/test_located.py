"""The nodes the JavaScript reader starts from are found without walking the tree (`_located`); they must be
exactly what the reader's tree-sitter query captures, on every tree without errors.

This pins the assumption `_located` rests on: each capture is a token spelling a known word or holds its
keyword token as a direct child. A grammar upgrade that wraps those tokens differently fails here first.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tree_sitter import Node, QueryCursor

from deploysafe.ecosystems.node.parse.javascript import _GRAMMARS, Dialect, _located, _parser
from tests.parse.test_commonjs_lexer import lexer_folder

CASES: dict[str, tuple[Dialect, str]] = {
    "dynamic_imports_everywhere": (
        Dialect.JAVASCRIPT,
        "import('a'); const m = await import('b');\nfiles.map(f => import(f).catch(e => null));\n"
        "async function g() { return (await import(`c`)).default }\nnew.target; import.meta.url;",
    ),
    "statements_and_names": (
        Dialect.JAVASCRIPT,
        "import x from 'x';\nexport const a = 1;\nexport default function () {}\nexport * from './b.js';\n"
        "exports.c = require('c'); module.exports.d = 1; Object.defineProperty(exports, 'e', { value: 1 });\n"
        "const exportsLike = 1, importer = 2, required = 3, _module = 4; // export import require\n"
        "'export'; `import ${require('t')}`; obj.exports = obj.module; obj.require('z');",
    ),
    "commonjs_helpers": (
        Dialect.JAVASCRIPT,
        "__export(require('a')); __exportStar(require('b'), exports); tslib.__exportStar(require('c'), exports);\n"
        "tslib.__export(x); var _x = _interopRequireWildcard(require('d'));\n"
        "fs.readFileSync(path.join(__dirname, 'q.sql')); new URL('./w.wasm', import.meta.url);",
    ),
    "await_forms": (
        Dialect.JAVASCRIPT,
        "for await (const x of xs) {}\nawait y;\nasync function f() { for await (const z of await zs) {} }",
    ),
    "await_as_a_name_in_a_script": (Dialect.JAVASCRIPT, "var await = 1; await + 1; function await() {}"),
    "decorated_export": (Dialect.TYPESCRIPT, "@Component({})\nexport class A {}\n@dec export default class B {}"),
    "typescript_forms": (
        Dialect.TYPESCRIPT,
        "import type { T } from './t';\nimport fs = require('fs');\nexport = fs;\n"
        "declare module 'm' { export const a: number }\nmodule.exports = {};\nnamespace N { export const b = 1 }\n"
        "let t: import('./v').T = await import('./w');\nexport import Y = N.b;",
    ),
    "tsx": (Dialect.TSX, "import React from 'react';\nexport const C = () => <div>{require('x')} export import</div>;"),
}


def captures_by_query(source: bytes, dialect: Dialect) -> dict[str, list[tuple[int, int, str]]]:
    root = _tree(source, dialect)
    found = QueryCursor(_GRAMMARS[dialect].query).captures(root)
    found["meta"] = [node for node in found.get("meta", []) if (node.text or b"").startswith(b"import")]
    return _spans(found)


def captures_located(source: bytes, dialect: Dialect) -> dict[str, list[tuple[int, int, str]]]:
    return _spans(_located(source, _tree(source, dialect)))


def _tree(source: bytes, dialect: Dialect) -> Node:
    root = _parser(dialect).parse(source).root_node
    assert not root.has_error, "_located is only used on trees without errors"
    return root


def _spans(found: dict[str, list[Node]]) -> dict[str, list[tuple[int, int, str]]]:
    return {name: sorted((n.start_byte, n.end_byte, n.type) for n in nodes) for name, nodes in found.items() if nodes}


@pytest.mark.parametrize("name", list(CASES))
def test_located_nodes_are_the_query_captures(name: str) -> None:
    dialect, text = CASES[name]
    source = text.encode()
    assert captures_located(source, dialect) == captures_by_query(source, dialect)


def test_dynamic_import_whose_keyword_is_a_child_node_is_found() -> None:
    # In an arrow function body the grammar wraps the `import` keyword of `import(f)` in a named node.
    source = b"files.map(f => import(f).catch(e => null));"
    assert captures_located(source, Dialect.JAVASCRIPT)["dynamic"] == [(15, 24, "call_expression")]


@pytest.mark.slow
def test_located_nodes_are_the_query_captures_on_real_packages() -> None:
    files = sorted(
        path
        for path in (lexer_folder() / "node_modules").rglob("*")
        if path.suffix in (".js", ".cjs", ".mjs") and path.is_file()
    )
    compared = 0
    differences: list[str] = []
    for number, path in enumerate(files):
        source = path.read_bytes()
        # Every file as JavaScript; every fourth also through the TypeScript and TSX grammars.
        dialects = [Dialect.JAVASCRIPT, Dialect.TYPESCRIPT, Dialect.TSX] if number % 4 == 0 else [Dialect.JAVASCRIPT]
        for dialect in dialects:
            if _parser(dialect).parse(source).root_node.has_error:
                continue  # the query itself is used on those
            compared += 1
            if captures_located(source, dialect) != captures_by_query(source, dialect):
                differences.append(f"{Path(path).relative_to(lexer_folder())} ({dialect.value})")
    assert compared > 2000
    assert differences == []
