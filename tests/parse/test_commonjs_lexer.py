"""The `commonjs` facts against the real cjs-module-lexer, the library Node uses to decide which names an
ES module may import from a CommonJS file.

Ground truth is the lexer build Node runs (the Wasm one, loaded through the package's ESM entry), at the
version the local `node` bundles (`process.versions.cjs_module_lexer`), installed from npm into the test
cache. One `node` process lexes every input and prints JSON. A file on which the lexer throws (ESM syntax)
counts as no names, which is what Node then exposes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from deploysafe.ecosystems.node.parse.facts import CommonJsFacts
from deploysafe.ecosystems.node.parse.javascript import Dialect, parse_module
from tests.support.npm_cache import installed

RUNNER = """\
import { init, parse } from 'cjs-module-lexer';
import { readFileSync } from 'node:fs';
await init();
const input = JSON.parse(readFileSync(0, 'utf8'));
const out = input.map((item) => {
  try {
    const source = item.path !== undefined ? readFileSync(item.path, 'utf8') : item.source;
    const { exports, reexports } = parse(source);
    return { exports, reexports };
  } catch (error) {
    return { error: String(error && error.message).split('\\n')[0] };
  }
});
process.stdout.write(JSON.stringify(out));
"""

# Real packages whose CommonJS output covers the lexer's patterns: hand-written CommonJS (express,
# lodash), TypeScript output with `Object.defineProperty` getters and `__exportStar` (rxjs, tslib,
# @nestjs/common), Babel output with `Object.keys(_x).forEach(...)` star re-exports (@babel/types,
# @babel/runtime helpers). Pinned so the figure below is reproducible.
CORPUS = {
    "express": "4.21.2",
    "lodash": "4.17.21",
    "tslib": "2.8.1",
    "@babel/runtime": "7.26.0",
    "@babel/types": "7.26.3",
    "@nestjs/common": "10.4.15",
    "rxjs": "7.8.1",
}

# Files where our answer differs from the lexer's, with the reason. Empty today; a new entry needs a reason
# that a reader can check.
KNOWN_DIFFERENCES: dict[str, str] = {}

# Hand-written inputs: the README's examples and the quirks of its grammar that Node users meet.
CASES: dict[str, str] = {
    "readme_usage": """
        module.exports.a = 'a';
        (function () {
          exports.b = 'b';
        })();
        Object.defineProperty(exports, 'c', { value: 'c' });
        /* exports.d = 'not detected'; */
        if (maybe) module.exports = require('./dep1.js');
        if (another) module.exports = require('./dep2.js');
        module.exports = { a, b: c, d, 'e': f }
        Object.defineProperty(module.exports, '__esModule', { value: true })
    """,
    "iife_parameter_named_exports": "(function (exports) {\n  exports.a = 'a';\n  exports['b'] = 'b';\n})(exports);",
    "dead_code_still_exports": "(function (exports, Object) {\n  exports.a = 'a';\n  if (false)\n    exports.c = 'c';\n})(X, Y);",
    "renamed_exports_object_is_missed": "(function (e) {\n  e.a = 'a';\n  e['b'] = 'b';\n})(exports);",
    "accepted_getters": """
        Object.defineProperty(exports, 'a', { enumerable: true, get: function () { return q.p; } });
        Object.defineProperty(exports, 'b', { enumerable: true, get: function () { return q['p']; } });
        Object.defineProperty(exports, 'c', { enumerable: true, get () { return b; } });
        Object.defineProperty(exports, 'd', { value: 'd' });
        Object.defineProperty(exports, '__esModule', { value: true });
    """,
    "unsafe_getters_opt_out": """
        Object.defineProperty(exports, 'a', { get () { return 'nope'; } });
        if (false) { Object.defineProperty(module.exports, 'a', { get () { return dynamic(); } }) }
    """,
    "unsupported_define_forms": """
        Object.defineProperty(exports, 'a', { enumerable: false, get () { return p; } });
        Object.defineProperty(exports, 'b', { configurable: true, get () { return p; } });
        Object.defineProperty(exports, 'c', { get: () => p });
        Object.defineProperty(exports, 'd', { enumerable: true, get: function () { return dynamic(); } });
        Object.defineProperty(exports, 'e', { enumerable: true, get () { return 'str'; } });
    """,
    "unsafe_getter_withdraws_a_member_export": "exports.a = 1;\nObject.defineProperty(exports, 'a', { get() { return 'x' } });",
    "define_value_form_ignores_the_rest": (
        "Object.defineProperty(exports, 'a', { value: 1, get() { return x } });\n"
        "Object.defineProperty(exports, 'b', { enumerable: true, value: 2 });\n"
        "Object.defineProperty(exports, 'c', { enumerable: true });\n"
        "Object.defineProperty(exports, 'd');\n"
        "Object.defineProperty(foo, 'e', { value: 1 });\n"
        "Object.defineProperty(exports, f, { value: 1 });"
    ),
    "define_getter_trailing_commas": (
        "Object.defineProperty(exports, 'a', { enumerable: true, get: function get() { return m.a; }, });\n"
        "Object.defineProperty(exports, 'b', { enumerable: true, get: function () { return m.b; } }, );"
    ),
    "object_literal": "module.exports = {\n  a,\n  'b': b,\n  c: c,\n  ...d\n};",
    "object_literal_stops_at_first_unreadable_property": (
        "module.exports = {\n  a,\n  ...d,\n  b: require('c'),\n  c: \"not detected\"\n}"
    ),
    "object_literal_quirks": (
        "module.exports = { a: b , c };\nmodule.exports = { d: e, f() {}, g };\n"
        "module.exports = { get h() {}, i };\nmodule.exports = { j: true, k: null, l: 1, m };\n"
        "module.exports = { async n() {}, o };\nmodule.exports = { [p]: q, r };"
    ),
    "object_literal_subscripted": "module.exports = { 'try': function () {} }['try'];",
    "spreads": (
        "module.exports = { ... require('a'), b };\nmodule.exports = { ...require('c').d, e };\n"
        "module.exports = { ...f, g, ...h.i, j };"
    ),
    "only_last_module_exports_require_counts": (
        "module.exports = require('a');\n(module => module.exports = require('b'))(NOT_MODULE);\n"
        "if (false) module.exports = require('c');"
    ),
    "spread_requires_are_reexports": "module.exports = require('ignored');\nmodule.exports = {\n  ...require('a'),\n  ...require('b')\n};",
    "module_exports_require_then_member": "module.exports = require('x').foo;",
    "module_exports_require_extra_argument": "module.exports = require('a', 'b');",
    "module_exports_require_template": "module.exports = require(`a`);",
    "any_module_exports_assignment_forgets_reexports": (
        "__exportStar(require('a'), exports); module.exports.x = 1; module.exports = foo"
    ),
    "comparison_also_forgets_reexports": "module.exports = require('a'); if (module.exports == null) {}",
    "babel_star_reexport": (
        '"use strict";\nexports.__esModule = true;\nvar _external = require("external");\n'
        "Object.keys(_external).forEach(function (key) {\n"
        '  if (key === "default" || key === "__esModule") return;\n  exports[key] = _external[key];\n});'
    ),
    "babel7_star_reexport_forms": """"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
var _exportNames = { x: true };
var _a = require("./a");
Object.keys(_a).forEach(function (key) {
  if (key === "default" || key === "__esModule") return;
  if (Object.prototype.hasOwnProperty.call(_exportNames, key)) return;
  if (key in exports && exports[key] === _a[key]) return;
  Object.defineProperty(exports, key, {
    enumerable: true,
    get: function () {
      return _a[key];
    }
  });
});
var _b = _interopRequireWildcard(require("./b"));
Object.keys(_b).forEach(function (key) {
  if (key !== "default" && !Object.prototype.hasOwnProperty.call(_exportNames, key)) exports[key] = _b[key];
});
let _c = require("./c");
Object.keys(_c).forEach(function (k) {
  if (k !== 'default' && !_exportNames.hasOwnProperty(k)) Object.defineProperty(exports, k, { enumerable: true, get() { return _c[k]; } });
});
""",
    "star_reexport_must_be_top_level": (
        "function f() { var _a = require('a'); Object.keys(_a).forEach(function (key) {"
        " if (key === 'default' || key === '__esModule') return; exports[key] = _a[key]; }); }\n"
        "if (x) { __exportStar(require('b'), exports) }"
    ),
    "star_binding_needs_plain_spaces": (
        "var _a =\trequire('a');\nObject.keys(_a).forEach(function (key) {"
        " if (key === 'default' || key === '__esModule') return; exports[key] = _a[key]; });"
    ),
    "star_callback_with_extra_statement": (
        "var _a = require('a');\nObject.keys(_a).forEach(function (key) {"
        " if (key === 'default' || key === '__esModule') return; foo(); exports[key] = _a[key]; });"
    ),
    "star_binding_through_interop_default_is_missed": (
        "var _a = _interopRequireDefault(require('a'));\nObject.keys(_a).forEach(function (key) {"
        " if (key === 'default' || key === '__esModule') return; exports[key] = _a[key]; });"
    ),
    "first_star_binding_wins": (
        "var _a = require('a');\n_a = require('b');\nvar _a = require('c');\nObject.keys(_a).forEach(function (key) {"
        " if (key === 'default' || key === '__esModule') return; exports[key] = _a[key]; });"
    ),
    "star_binding_in_for_header_is_not_top_level": (
        "for (var _a = require('a');;) break;\nObject.keys(_a).forEach(function (key) {"
        " if (key === 'default' || key === '__esModule') return; exports[key] = _a[key]; });"
    ),
    "typescript_export_helper": (
        '"use strict";\nfunction __export(m) {\n    for (var p in m) if (!exports.hasOwnProperty(p)) exports[p] = m[p];\n}\n'
        'Object.defineProperty(exports, "__esModule", { value: true });\n__export(require("external"));'
    ),
    "tslib_export_star": (
        '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n'
        'const tslib_1 = require("tslib");\ntslib_1.__exportStar(require("./a"), exports);\n'
        '__exportStar(require("./b"), exports);\n'
    ),
    "export_star_spacing": "__exportStar( require('a'), exports); __exportStar (require('b'), exports); __export(require('c'));",
    "reserved_words_are_not_filtered": "exports.static = 1; exports.enum = 2; exports['let'] = 3; module.exports.yield = 4; exports.if = 5;",
    "equality_after_the_name_counts": "exports.a == 1; exports.b === 2; exports.c += 3; exports.d != 4;",
    "escapes_in_names": (
        "exports.a = 1; exports['\\u0063'] = 3; exports['\\uD800'] = 4; exports['\\x64'] = 5; exports['\\145'] = 6;\n"
        "exports.\\u0066 = 7; exports.g\\u0068 = 8; module.exports = { \\u0069, j\\u006b: l, m: \\u006e, o };"
    ),
    "esm_syntax_makes_the_lexer_throw": "export const a = 1; exports.b = 1",
    "nested_import_meta_is_fine": "function f() { import.meta } exports.b = 1",
    "top_level_import_meta_throws": "import.meta.url; exports.b = 1",
    "dynamic_import_is_fine": "import('x'); exports.c = 1",
    "strings_comments_and_templates": (
        "var s = 'exports.a = 1'; // exports.b = 2\n/* exports.c = 3 */ var t = `exports.d = ${exports.e = 5}`;"
    ),
    "regular_expression": "var r = /exports.a = 1/; exports.b = 2;",
    "optional_chains": "exports?.a = 1; module?.exports.b = 2; module.exports?.c = 3;",
    "webpack_externals": "module.exports = require('react'); module.exports = require('react-dom');",
    "shebang": "#!/usr/bin/env node\nexports.a = 1;",
    "unicode_names": "exports.café = 1; exports['naïve'] = 2; exports.𝑥 = 3; module.exports = { ünïcode, 'ß': x };",
    "chained_assignment": "exports = module.exports = { a, b };",
    "comments_between_tokens": (
        "exports /* x */ . /* y */ a /* z */ = 1; module/**/./**/exports/**/./**/b = 2;\n"
        "Object/**/./**/defineProperty(/**/exports/**/,/**/'c'/**/,/**/{/**/value/**/:/**/1});"
    ),
}


@cache
def lexer_folder() -> Path:
    folder = installed(
        "cjs-lexer-corpus", {"private": True, "dependencies": {"cjs-module-lexer": _node_lexer_version(), **CORPUS}}
    )
    runner = folder / "lexer-run.mjs"
    if not runner.is_file() or runner.read_text() != RUNNER:
        runner.write_text(RUNNER)
    return folder


def _node_lexer_version() -> str:
    """The cjs-module-lexer version the local node bundles; 1.x when it does not say."""
    done = subprocess.run(
        ["node", "-p", "process.versions.cjs_module_lexer || ''"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip() or "1"


def lex(items: list[dict[str, str]]) -> list[dict]:
    """Run the real lexer over `{"source": ...}` or `{"path": ...}` items in one node process."""
    folder = lexer_folder()
    done = subprocess.run(
        ["node", str(folder / "lexer-run.mjs")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def as_facts(answer: dict) -> CommonJsFacts:
    """The lexer's answer as Node uses it: a throw means no names."""
    if "error" in answer:
        return CommonJsFacts()
    return CommonJsFacts(exports=frozenset(answer["exports"]), reexports=tuple(answer["reexports"]))


def ours(source: bytes) -> CommonJsFacts:
    return parse_module(source, Dialect.JAVASCRIPT).commonjs


@pytest.fixture(scope="module")
def case_truth() -> dict[str, CommonJsFacts]:
    names = list(CASES)
    answers = lex([{"source": CASES[name]} for name in names])
    return {name: as_facts(answer) for name, answer in zip(names, answers, strict=True)}


@pytest.mark.parametrize("name", list(CASES))
def test_tricky_case_matches_the_real_lexer(name: str, case_truth: dict[str, CommonJsFacts]) -> None:
    assert ours(CASES[name].encode()) == case_truth[name]


def test_readme_example_gives_the_readme_answer() -> None:
    facts = ours(CASES["readme_usage"].encode())
    assert facts.exports == {"a", "b", "c", "d", "e", "__esModule"}
    assert facts.reexports == ()  # the later `module.exports = {...}` forgets both requires


def test_only_the_last_module_exports_require_is_a_reexport() -> None:
    assert ours(CASES["only_last_module_exports_require_counts"].encode()).reexports == ("c",)


def test_babel_and_typescript_star_reexports_are_found() -> None:
    assert ours(CASES["babel7_star_reexport_forms"].encode()).reexports == ("./a", "./b", "./c")
    assert ours(CASES["tslib_export_star"].encode()).reexports == ("./a", "./b")


def test_unsafe_getter_withdraws_the_name() -> None:
    assert ours(CASES["unsafe_getter_withdraws_a_member_export"].encode()).exports == frozenset()


def test_file_with_module_syntax_exposes_no_commonjs_names() -> None:
    assert ours(CASES["esm_syntax_makes_the_lexer_throw"].encode()) == CommonJsFacts()


def commonjs_files(root: Path) -> Iterator[Path]:
    """Every `.cjs`, and every `.js` that Node loads as CommonJS (nearest package.json is not "module")."""
    types: dict[Path, str | None] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".js", ".cjs") or not path.is_file() or "cjs-module-lexer" in path.parts:
            continue
        if path.suffix == ".cjs" or _package_type(path.parent, types) != "module":
            yield path


def _package_type(folder: Path, types: dict[Path, str | None]) -> str | None:
    if folder not in types:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                types[folder] = json.loads(manifest.read_text()).get("type")
            except (ValueError, AttributeError):
                types[folder] = None
        else:
            types[folder] = None if folder.parent == folder else _package_type(folder.parent, types)
    return types[folder]


@pytest.mark.slow
def test_every_commonjs_file_of_real_packages_matches_the_lexer() -> None:
    root = lexer_folder() / "node_modules"
    files = list(commonjs_files(root))
    answers = [as_facts(answer) for answer in lex([{"path": str(path)} for path in files])]
    computed = [ours(path.read_bytes()) for path in files]
    differences = {
        str(path.relative_to(root)): (mine, truth)
        for path, mine, truth in zip(files, computed, answers, strict=True)
        if mine != truth
    }
    assert len(files) > 2000
    assert sum(1 for truth in answers if truth.exports) > 500  # the corpus really exercises the patterns
    assert sum(1 for truth in answers if truth.reexports) > 50
    assert set(differences) == set(KNOWN_DIFFERENCES), differences
