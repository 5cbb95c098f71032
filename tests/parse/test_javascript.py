"""parse_module: what a JavaScript/TypeScript file imports and exports, read without running it.

Each test is one behaviour on a small real source. Positions are 1-based; columns count characters.
Behaviour that Node decides (syntax errors, what a file exports) is checked against `node` where cheap.
"""

from __future__ import annotations

import pickle
import random
import subprocess
from pathlib import Path

import pytest

from deploysafe.check.facts import AssetRef, Import, ImportedName, ImportKind, SyntaxIssue
from deploysafe.ecosystems.node.parse.facts import UNPARSABLE
from deploysafe.ecosystems.node.parse.facts import NodeModuleFacts as ModuleFacts
from deploysafe.ecosystems.node.parse.javascript import Dialect, dialect_for, parse_module

JS, TS, TSX = Dialect.JAVASCRIPT, Dialect.TYPESCRIPT, Dialect.TSX


def read(source: str, dialect: Dialect = JS) -> ModuleFacts:
    return parse_module(source.encode(), dialect)


def only(facts: ModuleFacts) -> Import:
    assert len(facts.imports) == 1, facts.imports
    return facts.imports[0]


def specifiers(facts: ModuleFacts) -> list[str | None]:
    return [record.specifier for record in facts.imports]


# --- dialects ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "dialect"),
    [
        ("src/a.js", JS),
        ("a.mjs", JS),
        ("a.cjs", JS),
        ("App.jsx", JS),
        ("a.ts", TS),
        ("a.mts", TS),
        ("a.cts", TS),
        ("App.tsx", TSX),
        ("C:\\app\\src\\x.ts", TS),
    ],
)
def test_dialect_follows_the_extension(path: str, dialect: Dialect) -> None:
    assert dialect_for(path) is dialect


@pytest.mark.parametrize(
    "path", ["types.d.ts", "x.d.mts", "x.d.cts", "styles.d.css.ts", "data.json", "README.md", "Makefile", ".js"]
)
def test_declaration_files_and_non_sources_have_no_dialect(path: str) -> None:
    assert dialect_for(path) is None


# --- static imports --------------------------------------------------------------------------------------


def test_default_named_and_string_names_are_asked_of_the_target() -> None:
    record = only(read("import a, { b as c, 'd e' as f } from './x.js';"))
    assert record == Import(
        ImportKind.STATIC,
        "./x.js",
        1,
        39,
        names=(ImportedName("default", 1, 8), ImportedName("b", 1, 13), ImportedName("d e", 1, 21)),
    )


def test_namespace_import_is_marked_namespace() -> None:
    record = only(read("import def, * as ns from 'y';"))
    assert record.namespace
    assert [name.name for name in record.names] == ["default"]


def test_side_effect_import_asks_no_names() -> None:
    record = only(read("import './polyfill.js';"))
    assert (record.kind, record.specifier, record.names) == (ImportKind.STATIC, "./polyfill.js", ())


def test_import_position_points_at_the_specifier_on_its_line() -> None:
    facts = read("// header\nimport {\n  a,\n  b,\n} from '../lib/a.js';\n")
    record = only(facts)
    assert (record.line, record.column) == (5, 8)
    assert [(name.name, name.line, name.column) for name in record.names] == [("a", 3, 3), ("b", 4, 3)]


def test_columns_count_characters_not_bytes() -> None:
    source = "/* 😀 é */ import x from 'y'; const s = 'ünï'; require('z');"
    facts = read(source)
    expected = [("y", source.index("'y'") + 1), ("z", source.index("'z'") + 1)]
    assert [(record.specifier, record.column) for record in facts.imports] == expected == [("y", 25), ("z", 55)]


@pytest.mark.parametrize("dialect", [TS, TSX])
def test_type_only_import_is_marked_type_only(dialect: Dialect) -> None:
    record = only(read("import type { Config } from './config';", dialect))
    assert record.type_only
    assert record.names == (ImportedName("Config", 1, 15, type_only=True),)


@pytest.mark.parametrize("dialect", [TS, TSX])
def test_inline_type_specifier_marks_only_that_name(dialect: Dialect) -> None:
    record = only(read("import { type A, b } from './x';", dialect))
    assert not record.type_only
    assert [(name.name, name.type_only) for name in record.names] == [("A", True), ("b", False)]


def test_all_inline_type_specifiers_do_not_make_the_statement_type_only() -> None:
    assert not only(read("import { type A, type B } from './x';", TS)).type_only


def test_default_import_named_type_is_a_value_import() -> None:
    record = only(read("import type from './type.js';", TS))
    assert not record.type_only
    assert record.names[0].name == "default"


def test_typescript_import_equals_require_is_a_require_edge_not_module_syntax() -> None:
    facts = read("import fs = require('fs');\nimport type T = require('./t');", TS)
    assert [(r.kind, r.specifier, r.type_only) for r in facts.imports] == [
        (ImportKind.REQUIRE, "fs", False),
        (ImportKind.REQUIRE, "./t", True),
    ]
    assert not facts.esm_syntax


@pytest.mark.parametrize("dialect", [JS, TS, TSX])
@pytest.mark.parametrize("keyword", ["with", "assert"])
def test_import_attributes_are_read_with_either_keyword(dialect: Dialect, keyword: str) -> None:
    facts = read(
        f"import data from './d.json' {keyword} {{ type: 'json' }};\nexport {{ x }} from './e.json' {keyword} {{ type: \"json\" }};",
        dialect,
    )
    assert [record.attributes for record in facts.imports] == [(("type", "json"),), (("type", "json"),)]
    assert facts.syntax_errors == ()


# --- re-exports ------------------------------------------------------------------------------------------


def test_star_reexport_is_a_star_edge_and_exports_nothing_by_itself() -> None:
    facts = read("export * from './all.js';")
    assert only(facts).star and only(facts).kind is ImportKind.REEXPORT
    assert facts.exports == frozenset()


def test_namespace_reexport_exports_the_namespace_name() -> None:
    facts = read("export * as utils from './utils.js' with { type: 'json' };")
    record = only(facts)
    assert (record.namespace, record.star, record.attributes) == (True, False, (("type", "json"),))
    assert facts.exports == {"utils"}


def test_named_reexport_asks_source_names_and_exports_aliases() -> None:
    facts = read("export { a as b, default as c, d } from './x.js';")
    assert [name.name for name in only(facts).names] == ["a", "default", "d"]
    assert facts.exports == {"b", "c", "d"}


def test_type_reexports_are_type_exports() -> None:
    facts = read("export type { A, B as C } from './t';\nexport { type D, e } from './u';", TS)
    first, second = facts.imports
    assert first.type_only and all(name.type_only for name in first.names)
    assert [(name.name, name.type_only) for name in second.names] == [("D", True), ("e", False)]
    assert (facts.exports, facts.type_exports) == ({"e"}, {"A", "C", "D"})


def test_type_star_reexports_are_type_only() -> None:
    facts = read("export type * from './types';\nexport type * as T from './more';", TS)
    assert [(record.type_only, record.star, record.namespace) for record in facts.imports] == [
        (True, True, False),
        (True, False, True),
    ]
    assert facts.type_exports == {"T"}
    assert facts.syntax_errors == ()


def test_reserved_words_are_valid_module_export_names() -> None:
    facts = read("const _null = 1;\nexport { _null as null };\nexport { if as when } from './k.js';")
    assert facts.syntax_errors == ()
    assert facts.exports == {"null", "when"}
    assert facts.imports[0].names[0].name == "if"


def test_reserved_words_after_as_are_export_names_wherever_the_grammar_recovers() -> None:
    # valibot 1's dist/index.mjs: `export { ..., function_ as function, ..., void_ as void, words }`
    facts = read("const void_ = 1, function_ = 2, x = 3;\nexport { function_ as function, void_ as void, x };")
    assert facts.syntax_errors == ()
    assert facts.exports == {"function", "void", "x"}


def test_a_reserved_word_as_a_local_binding_stays_a_syntax_error() -> None:
    assert read("const a = 1;\nexport { void as a };").syntax_errors
    assert read("import { x as class } from './k.js';").syntax_errors


def test_a_namespace_reexported_as_default_is_the_default_export() -> None:
    # log-symbols 7: `export * as default from './symbols.js'`
    facts = read("export * as default from './symbols.js';")
    assert facts.exports == {"default"}
    assert facts.imports[0].namespace and not facts.imports[0].star


# --- exports ---------------------------------------------------------------------------------------------


def test_declarations_export_their_names_including_destructuring() -> None:
    facts = read(
        "export const { a, b: [c, , ...d], e = 1, ...f } = obj, g = 2;\nexport let h;\nexport var i;\n"
        "export function j() {}\nexport async function k() {}\nexport function* l() {}\nexport class M {}\n"
    )
    assert facts.exports == set("acdefghijkl") | {"M"}


def test_default_exports_export_default_only() -> None:
    assert read("export default function main() {}").exports == {"default"}
    assert read("export default class {}").exports == {"default"}
    assert read("const x = 1; export { x as default, x as y };").exports == {"default", "y"}


def test_typescript_type_declarations_are_type_exports() -> None:
    facts = read(
        "export interface I {}\nexport type T = string;\nexport declare const dc: number;\n"
        "export declare function df(): void;\nexport const enum CE { A }\nexport namespace Types { export type X = 1 }\n"
        "export default interface Props {}\n",
        TS,
    )
    assert facts.exports == frozenset()
    assert facts.type_exports == {"I", "T", "dc", "df", "CE", "Types", "default"}


def test_typescript_value_declarations_are_exports() -> None:
    facts = read(
        "export enum E { A }\nexport namespace N { export const v = 1 }\nexport abstract class AC {}\n"
        "export function ov(a: string): void;\nexport function ov(a: unknown) {}\n",
        TS,
    )
    assert facts.exports == {"E", "N", "AC", "ov"}
    assert facts.type_exports == frozenset()


def test_exporting_a_local_interface_by_name_is_a_type_export() -> None:
    facts = read(
        "interface Local {}\ntype Alias = 1;\nconst value = 1;\nimport type { Imported } from './i';\n"
        "export { Local, Alias, value, Imported };",
        TS,
    )
    assert (facts.exports, facts.type_exports) == ({"value"}, {"Local", "Alias", "Imported"})


def test_export_equals_is_an_export_assignment() -> None:
    facts = read("import x = require('./x');\nexport = x;", TS)
    assert facts.export_assignment
    assert not facts.esm_syntax


# --- require() -------------------------------------------------------------------------------------------


def test_literal_and_plain_template_requires_are_edges() -> None:
    facts = read("const a = require('a');\nconst b = require(`./b.js`);")
    assert [(r.kind, r.specifier, r.line) for r in facts.imports] == [
        (ImportKind.REQUIRE, "a", 1),
        (ImportKind.REQUIRE, "./b.js", 2),
    ]


def test_computed_require_keeps_the_expression_shortened() -> None:
    long_call = "pick(" + ", ".join(f"argument{n}" for n in range(20)) + ")"
    facts = read(f"require('./' + name);\nrequire(`./${{name}}.js`);\nrequire({long_call});")
    assert [record.specifier for record in facts.imports] == [None, None, None]
    assert [record.expression for record in facts.imports[:2]] == ["'./' + name", "`./${name}.js`"]
    assert len(facts.imports[2].expression) <= 80 and facts.imports[2].expression.endswith("...")


def test_require_lookalikes_are_not_edges() -> None:
    facts = read(
        "require.resolve('a');\nobj.require('b');\nmodule.require('c');\nrequire();\n"
        "function f(require) { require('d'); }\nconst g = (require) => require('e');\n"
        "function h() { var require = load; require('f'); }\n{ let require = x; require('g'); }\n"
        "for (const require of list) { require('h'); }\nrequire('kept');"
    )
    # require.resolve('a') is an edge of its own kind: resolved (it throws where a load would) but never loaded.
    assert specifiers(facts) == ["a", "kept"]
    assert [(record.specifier, record.resolve_only) for record in facts.imports] == [("a", True), ("kept", False)]


def test_require_from_create_require_in_a_module_is_kept() -> None:
    facts = read(
        "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nconst pg = require('pg');"
    )
    assert specifiers(facts) == ["node:module", "pg"]


def test_require_in_typescript_is_an_edge() -> None:
    assert specifiers(read("const x: number = require('./x');", TS)) == ["./x"]


# --- import() --------------------------------------------------------------------------------------------


def test_dynamic_import_with_attributes() -> None:
    record = only(read("const c = await import('./c.json', { with: { type: 'json' } });"))
    assert (record.kind, record.specifier, record.attributes) == (ImportKind.DYNAMIC, "./c.json", (("type", "json"),))


def test_computed_dynamic_import_has_no_specifier() -> None:
    record = only(read("const m = await import(`./jobs/${name}.js`);"))
    assert (record.specifier, record.expression) == (None, "`./jobs/${name}.js`")


def test_import_types_in_typescript_are_not_edges() -> None:
    facts = read(
        "let a: typeof import('./a');\nlet b: import('./b').T;\ntype C = import('./c').C;\n"
        "function f<T extends import('./d').D>(x: T) {}\nconst e = x as import('./e').E;\nconst real = import('./f');",
        TS,
    )
    assert specifiers(facts) == ["./f"]


# --- where a call runs -----------------------------------------------------------------------------------


def test_calls_inside_functions_are_in_function() -> None:
    facts = read(
        "function a() { require('a'); }\nconst b = () => require('b');\nconst o = { c() { require('c'); } };\n"
        "function* d() { require('d'); }\nclass E { m() { require('e'); } }\nrequire('top');"
    )
    assert [(r.specifier, r.in_function) for r in facts.imports] == [
        ("a", True),
        ("b", True),
        ("c", True),
        ("d", True),
        ("e", True),
        ("top", False),
    ]


def test_immediately_invoked_functions_and_the_factory_a_umd_wrapper_calls_run_at_load() -> None:
    facts = read(
        "(function (root, factory) { module.exports = factory(); }(this, function () { require('factory'); }));\n"
        "!function () { require('bang'); }();\n(function () { require('call'); }).call(this);\n"
        "(() => { require('arrow'); })();\n(async () => { await import('async'); })();\n"
        "(async () => { await import('handled'); })().catch(console.error);\n"
        "setTimeout(function () { require('callback'); });\n(function () { function f() { require('inner'); } })();"
    )
    assert [(r.specifier, r.in_function) for r in facts.imports] == [
        ("factory", False),
        ("bang", False),
        ("call", False),
        ("arrow", False),
        ("async", False),
        ("handled", True),
        ("callback", True),
        ("inner", True),
    ]


def test_a_top_level_function_the_module_calls_runs_at_load() -> None:
    facts = read(
        "function main() { require('main'); }\nmain();\n"
        "async function start() { await import('start'); }\nstart().catch(() => process.exit(1));\n"
        "const boot = async () => { require('boot'); };\nawait boot();\n"
        "function later() { require('later'); }\nif (process.env.X) later();\n"
        "function never() { require('never'); }\n"
    )
    assert [(r.specifier, r.in_function) for r in facts.imports] == [
        ("main", False),
        ("start", True),  # its failure is handled by the caller
        ("boot", False),
        ("later", True),  # called behind a condition
        ("never", True),
    ]


def test_a_function_called_when_the_file_is_the_one_node_started_runs_at_load() -> None:
    facts = read(
        "function a() { require('cjs-main'); }\nif (require.main === module) a();\n"
        "async function b() { await import('esm-main'); }\n"
        "if (import.meta.url === pathToFileURL(process.argv[1]).href) { await b(); }\n"
        "function c() { require('argv'); }\nif (process.argv[1] === fileURLToPath(import.meta.url)) c();\n"
        "function d() { require('other'); }\nif (require.main !== module) d();\n"
    )
    assert [(r.specifier, r.in_function) for r in facts.imports] == [
        ("cjs-main", False),
        ("esm-main", False),
        ("argv", False),
        ("other", True),
    ]


def test_a_umd_test_takes_the_commonjs_branch_and_other_probes_stay_feature_tests() -> None:
    facts = read(
        "typeof exports === 'object' && typeof module !== 'undefined' ? f(require('cjs')) : g();\n"
        "if (typeof define === 'function' && define.amd) define([], f); else require('not-amd');\n"
        "typeof module === 'object' && module.exports && require('and');\n"
        "if (typeof exports !== 'object') require('never');\n"
        "typeof fetch === 'function' ? null : require('fetch-probe');"
    )
    assert [(r.specifier, r.feature_test) for r in facts.imports] == [
        ("cjs", ""),
        ("not-amd", ""),
        ("and", ""),
        ("never", "typeof exports !== 'object'"),
        ("fetch-probe", "typeof fetch === 'function'"),
    ]


def test_class_static_code_runs_at_definition_but_instance_fields_run_at_new() -> None:
    facts = read(
        "class A {\n  static { require('block'); }\n  static s = require('static');\n  i = require('instance');\n}"
    )
    assert [(r.specifier, r.in_function) for r in facts.imports] == [
        ("block", False),
        ("static", False),
        ("instance", True),
    ]


def test_require_inside_a_try_body_is_guarded() -> None:
    facts = read(
        "try { require('a'); } catch (e) { require('b'); } finally { require('c'); }\n"
        "function load() { try { return require('d'); } catch { return null; } }\n"
        "try { setTimeout(() => require('e')); } catch {}"
    )
    assert [(r.specifier, r.guarded) for r in facts.imports] == [
        ("a", True),
        ("b", False),
        ("c", False),
        ("d", True),
        ("e", False),
    ]


def test_dynamic_import_is_guarded_by_catch_or_awaited_in_try() -> None:
    facts = read(
        "import('a').catch(() => null);\nimport('b').then((m) => m.run()).catch(report);\n"
        "import('c').then(ok, failed);\nimport('d').then((m) => m);\n"
        "async function f() {\n  try { await import('e'); } catch {}\n  try { import('f'); } catch {}\n}"
    )
    assert [(r.specifier, r.guarded) for r in facts.imports] == [
        ("a", True),
        ("b", True),
        ("c", True),
        ("d", False),
        ("e", True),
        ("f", False),
    ]


# --- module syntax and top-level await -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "esm"),
    [
        ("import x from 'y';", True),
        ("export const a = 1;", True),
        ("const u = import.meta.url;", True),
        ("const x = require('y'); module.exports = x;", False),
        ("const m = import('y');", False),
    ],
)
def test_module_syntax_is_detected(source: str, esm: bool) -> None:
    assert read(source).esm_syntax is esm


@pytest.mark.parametrize(
    ("source", "tla"),
    [
        ("await start();", True),
        ("for await (const line of lines) {}", True),
        ("const x = (await import('x')).default;", True),
        ("async function f() { await g(); }", False),
        ("const f = async () => { for await (const x of y) {} };", False),
    ],
)
def test_top_level_await_is_detected(source: str, tla: bool) -> None:
    assert read(source).top_level_await is tla


# --- syntax errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "issue"),
    [
        ("const x = ;\n", SyntaxIssue(1, 11, "Unexpected token ';'")),
        ("a = b +;\n", SyntaxIssue(1, 8, "Unexpected token ';'")),
        ("let x = 1 2;\n", SyntaxIssue(1, 11, "Unexpected number")),
        ("let x = foo bar;\n", SyntaxIssue(1, 13, "Unexpected identifier 'bar'")),
        ("foo(1, 2;\nbar();\n", SyntaxIssue(1, 9, "Missing ')'")),
        ("const a = {\n  b: 1,\n", SyntaxIssue(3, 1, "Unexpected end of input")),
        ("function f() {\n  if (a) {\n    b();\n}\n", SyntaxIssue(5, 1, "Unexpected end of input")),
        ('const s = "abc;\n', SyntaxIssue(1, 11, "Invalid or unexpected token")),
    ],
)
def test_syntax_errors_are_reported_like_node(source: str, issue: SyntaxIssue, tmp_path: Path) -> None:
    assert read(source).syntax_errors[0] == issue
    script = tmp_path / "broken.js"
    script.write_text(source)
    done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
    assert done.returncode != 0 and f":{issue.line}\n" in done.stderr  # node blames the same line


def test_valid_code_has_no_syntax_errors_in_any_dialect() -> None:
    assert read("const a = <div className='x'>{items.map((i) => <Item key={i} />)}</div>;").syntax_errors == ()
    assert read("export const A = (p: Props) => <div>{p.name as string}</div>;", TSX).syntax_errors == ()
    assert read("export function f<T>(x: T): T { return x satisfies T; }", TS).syntax_errors == ()


def test_few_syntax_issues_are_kept_in_order() -> None:
    issues = read("a = ;\nb = ;\nc = ;\nd = ;\ne = ;\n").syntax_errors
    assert 1 <= len(issues) <= 3
    assert [issue.line for issue in issues] == sorted(issue.line for issue in issues)


def test_binary_file_is_reported_without_parsing() -> None:
    facts = parse_module(b"\x7fELF\x02\x01\x01\x00\x00\x00require('x')", JS)
    assert facts == ModuleFacts(syntax_errors=(SyntaxIssue(1, 1, "binary file, not JavaScript"),))


def test_non_utf8_bytes_do_not_raise() -> None:
    facts = parse_module(b"const s = '\xff\xfe';\nrequire('a\xe9b');\nexports.x\xff = 1;", JS)
    assert facts.imports[0].specifier == "a\ufffdb"


def test_byte_order_mark_is_ignored() -> None:
    facts = parse_module(b"\xef\xbb\xbfimport x from 'y';", JS)
    assert facts.syntax_errors == ()
    assert (only(facts).line, only(facts).column) == (1, 15)


def test_never_raises_on_broken_or_random_input(caplog: pytest.LogCaptureFixture) -> None:
    source = Path(__file__).read_bytes()
    samples = [source[:cut] for cut in range(0, len(source), 997)]
    rng = random.Random(7)
    samples += [bytes(rng.randrange(1, 256) for _ in range(300)) for _ in range(20)]
    samples += [b"(" * 5000, b"{" * 5000 + b"}" * 5000, b"`${" * 2000, b"\\u{110000}", b"'\\u{110000}'"]
    for sample in samples:
        for dialect in Dialect:
            assert isinstance(parse_module(sample, dialect), ModuleFacts)
    assert not caplog.records  # no internal fault was caught and hidden behind UNPARSABLE


def test_facts_are_picklable_plain_data() -> None:
    facts = read("import a from 'a'; export const b = 1; require('c');")
    assert pickle.loads(pickle.dumps(facts)) == facts
    assert facts != UNPARSABLE


# --- assets ----------------------------------------------------------------------------------------------


def test_literal_asset_paths_relative_to_the_file_are_found() -> None:
    facts = read(
        "const a = new URL('./sql/q.sql', import.meta.url);\n"
        "const b = fs.readFileSync(new URL('../data/x.json?raw#f', import.meta.url));\n"
        "const c = path.join(__dirname, 'views', 'index.html');\n"
        "const d = path.resolve(__dirname, '..', 'public');\n"
        "const e = join(__dirname, './a/../b.txt');\n"
        "const f = __dirname + '/config/default.json';\n"
        "const g = `${__dirname}/templates/mail.hbs`;\n"
        "const h = path.join(import.meta.dirname, 'x.yml');\n"
        "const i = new URL('./my%20file.txt', import.meta.url);\n"
    )
    assert [asset.path for asset in facts.assets] == [
        "sql/q.sql",
        "../data/x.json",
        "views/index.html",
        "../public",
        "b.txt",
        "config/default.json",
        "templates/mail.hbs",
        "x.yml",
        "my file.txt",
    ]
    assert facts.assets[0] == AssetRef("sql/q.sql", 1, 19)


def test_computed_or_absolute_asset_paths_are_not_guessed() -> None:
    facts = read(
        "path.join(__dirname, name);\npath.resolve(__dirname, '/etc/passwd');\n"
        "new URL('https://example.com/x', import.meta.url);\nnew URL(file, import.meta.url);\n"
        "__dirname + '/a/' + file;\n`${__dirname}/${file}`;\npath.join(__dirname);\nfoo(__dirname, 'x');\n"
    )
    assert facts.assets == ()


# --- CommonJS facts (details in test_commonjs_lexer.py) --------------------------------------------------


def test_commonjs_facts_are_computed_for_every_file() -> None:
    facts = read("exports.a = 1;\nmodule.exports.b = 2;\nObject.defineProperty(exports, 'c', { value: 3 });")
    assert facts.commonjs.exports == {"a", "b", "c"}
    assert facts.exports == frozenset()
    assert read("export const a = 1; exports.b = 2;").commonjs.exports == frozenset()


def test_requires_behind_a_node_env_test_that_production_fails_are_dev_only():
    source = b"""
if (process.env.NODE_ENV !== 'production') { require('pino-pretty'); }
if (process.env.NODE_ENV === 'production') require('newrelic'); else require('devtool');
const x = process.env.NODE_ENV === 'development' ? require('a') : require('b');
process.env.NODE_ENV !== "production" && require('c');
process.env['NODE_ENV'] === 'production' || require('d');
if (!(process.env.NODE_ENV === 'production')) import('e');
if (config.debug) require('f');
if (process.env.NODE_ENV !== 'production' && config.debug) require('g');
if (process.env.NODE_ENV !== 'production' || config.debug) require('h');
"""
    facts = parse_module(source, Dialect.JAVASCRIPT)
    assert {i.specifier: i.dev_only for i in facts.imports} == {
        "pino-pretty": True,
        "newrelic": False,
        "devtool": True,
        "a": True,
        "b": False,
        "c": True,
        "d": True,
        "e": True,
        "f": False,
        "g": True,
        "h": False,
    }
