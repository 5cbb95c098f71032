"""TypeScript verdicts, each confirmed by tsx (pinned in tests/tools) running the same project: deployable
must mean tsx starts the entry and it prints "loaded"; blocked must mean tsx fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploysafe import check
from tests.support import tools
from tests.support.projects import write_tree

ESM = {"package.json": {"name": "app", "version": "1.0.0", "type": "module", "scripts": {"start": "tsx src/index.ts"}}}
CJS = {"package.json": {"name": "app", "version": "1.0.0", "scripts": {"start": "tsx src/index.ts"}}}
LOADED = "console.log('loaded');\n"


def judged(root: Path) -> list[tuple[str, str]]:
    """deploysafe's errors on src/index.ts, after requiring that tsx agrees on whether it loads."""
    report = check(root, ["src/index.ts"])
    done = subprocess.run([str(tools.tsx()), "src/index.ts"], cwd=root, capture_output=True, text=True, timeout=60)
    loads = done.returncode == 0 and "loaded" in done.stdout
    errors = [(f.rule, f.file) for f in report.errors]
    assert (not errors) is loads, f"deploysafe says {errors}; tsx: {done.stderr[-800:]}"
    return errors


def messages(root: Path) -> list[str]:
    """What deploysafe tells the user (the verdict itself is `judged`'s)."""
    return [f.message for f in check(root, ["src/index.ts"]).errors]


def test_type_only_imports_of_missing_files_are_erased(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            **ESM,
            "src/index.ts": "import type { User } from './nothere';\nimport { type Role, hello } from './lib.js';\n"
            "export const u: User | null = null;\nconst r: Role | null = null;\nconsole.log(hello, r);\n" + LOADED,
            "src/lib.ts": "export type Role = 'admin';\nexport const hello = 'hi';\n",
        },
    )
    assert judged(root) == []


def test_an_interface_imported_without_type_and_used_as_a_type_is_erased(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            **ESM,
            "src/index.ts": "import { User } from './types.js';\nconst u: User = { id: 'a' };\nconsole.log(u.id);\n"
            + LOADED,
            "src/types.ts": "export interface User { id: string }\n",
        },
    )
    assert judged(root) == []


TYPES = "export type Role = 'admin' | 'user';\nexport interface Shape { n: number }\nexport const real = 1;\n"
# A name the local module exports only as a type, imported without `type`: erased where it is only a type
# (in annotations, `as`, `satisfies`, `typeof` in a type, or shadowed by a parameter), kept where the file
# reads it as a value, and then Node's link fails under tsx. (Exported again, `export { Role }`, tsx keeps it and
# fails while tsc drops it: not judged, as which of them builds the service is not known.)
TYPE_AS_VALUE = {
    "read as a value": ("import { Role, real } from './types.js';\nconsole.log(Role, real);\n", True),
    "typeof in a type": (
        "import { Role, real } from './types.js';\nconst m: Record<string, typeof Role> = {};\nconsole.log(m, real);\n",
        False,
    ),
    "only in types": (
        "import { Role, Shape, real } from './types.js';\nconst r: Role = 'admin';\nlet v = 'user' as Role;\n"
        "const w = v satisfies Role;\nconst k = (x: Role): Role => x;\n"
        "function f(n = 1, { s }: { s: Shape } = { s: { n: real } }): Role { return r; }\nconsole.log(k(w), f());\n",
        False,
    ),
    "shadowed by a parameter": (
        "import { Shape } from './types.js';\nfunction g(Shape: number) { return Shape; }\nconsole.log(g(2));\n",
        False,
    ),
}


@pytest.mark.parametrize("case", list(TYPE_AS_VALUE))
def test_a_type_only_export_is_blocked_only_where_it_is_used_as_a_value(tmp_path, case):
    source, fails = TYPE_AS_VALUE[case]
    root = write_tree(tmp_path / "app", {**ESM, "src/index.ts": source + LOADED, "src/types.ts": TYPES})
    assert judged(root) == ([("missing-export", "src/index.ts")] if fails else [])
    if fails:
        assert messages(root) == [
            "crashes at start: SyntaxError: The requested module './types.js' does not provide an export named 'Role' (it "
            "exports 'Role' only as a type, and this file reads it as a value)"
        ]


def test_js_specifiers_naming_ts_files_extensionless_and_directory_imports_load(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            **ESM,
            "src/index.ts": "import { a } from './a.js';\nimport { b } from './b';\nimport { c } from './c';\n"
            "console.log(a, b, c);\n" + LOADED,
            "src/a.ts": "export const a = 1;\n",
            "src/b.ts": "export const b = 2;\n",
            "src/c/index.ts": "export const c = 3;\n",
        },
    )
    assert judged(root) == []


def test_a_package_import_naming_a_js_file_loads_its_ts_source_and_a_missing_one_blocks(tmp_path):
    """`#lib` maps to ./src/lib.js, and only src/lib.ts is there: tsx loads the source, as for a relative
    import; a `#` target with no source at all fails under tsx too."""
    manifest = {**ESM["package.json"], "imports": {"#lib": "./src/lib.js", "#gone": "./src/gone.js"}}
    files = {
        "package.json": manifest,
        "src/index.ts": "import { a } from '#lib';\nconsole.log(a);\n" + LOADED,
        "src/lib.ts": "export const a = 1;\n",
    }
    assert judged(write_tree(tmp_path / "ok", files)) == []
    broken = {**files, "src/index.ts": "import { a } from '#gone';\nconsole.log(a);\n" + LOADED}
    assert judged(write_tree(tmp_path / "broken", broken)) == [("unresolved-import", "src/index.ts")]


def test_a_missing_value_export_of_a_ts_file_blocks(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            **ESM,
            "src/index.ts": "import { missing } from './lib.js';\nconsole.log(missing);\n" + LOADED,
            "src/lib.ts": "export const present = 1;\n",
        },
    )
    assert judged(root) == [("missing-export", "src/index.ts")]
    assert messages(root) == [
        "crashes at start: SyntaxError: The requested module './lib.js' does not provide an export named "
        "'missing' (it exports present)"
    ]


def test_a_missing_value_export_after_an_inline_type_name_still_blocks(tmp_path):
    # `type Role` is erased; the names after it in the same braces are still imported and checked
    root = write_tree(
        tmp_path / "app",
        {
            **ESM,
            "src/index.ts": "import { type Role, missing } from './lib.js';\nconst r: Role | null = null;\n"
            "console.log(missing, r);\n" + LOADED,
            "src/lib.ts": "export type Role = 'admin';\nexport const present = 1;\n",
        },
    )
    assert judged(root) == [("missing-export", "src/index.ts")]
    assert messages(root)[0].endswith("does not provide an export named 'missing' (it exports Role, present)")


def test_a_missing_relative_file_blocks(tmp_path):
    root = write_tree(
        tmp_path / "app", {**CJS, "src/index.ts": "import { db } from './db/connection';\nconsole.log(db);\n" + LOADED}
    )
    assert judged(root) == [("unresolved-import", "src/index.ts")]


def test_tsconfig_paths_through_an_extends_chain_resolve_and_a_missing_alias_target_blocks(tmp_path):
    files = {
        **ESM,
        "tsconfig.base.json": '{\n  // shared\n  "compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["src/*"],},},\n}\n',
        "tsconfig.json": '{"extends": "./tsconfig.base.json"}\n',
        "src/index.ts": "import { db } from '@/db/connection.js';\nconsole.log(db);\n" + LOADED,
        "src/db/connection.ts": "export const db = 1;\n",
    }
    assert judged(write_tree(tmp_path / "ok", files)) == []
    broken = {**files, "src/index.ts": "import { db } from '@/db/nothere.js';\nconsole.log(db);\n" + LOADED}
    assert judged(write_tree(tmp_path / "broken", broken)) == [("unresolved-import", "src/index.ts")]
    # baseUrl alone: `src/db/connection.js` is found from the project's root; a file not there is not
    by_base = {**files, "src/index.ts": "import { db } from 'src/db/connection.js';\nconsole.log(db);\n" + LOADED}
    assert judged(write_tree(tmp_path / "base", by_base)) == []
    gone = {**files, "src/index.ts": "import { db } from 'src/db/nothere.js';\nconsole.log(db);\n" + LOADED}
    assert judged(write_tree(tmp_path / "gone", gone)) == [("missing-package", "src/index.ts")]


def test_a_typescript_import_with_the_wrong_letter_case_is_a_case_mismatch(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            **CJS,
            "src/index.ts": "import { db } from './Db';\nconsole.log(db);\n" + LOADED,
            "src/db.ts": "export const db = 1;\n",
        },
    )
    assert judged(root) == [("case-mismatch", "src/index.ts")]


def test_the_tsconfig_paths_pattern_with_the_longest_prefix_wins_whatever_its_order(tmp_path):
    """`@app/core/x` matches both patterns; tsx takes `@app/core/*` (the longer prefix), listed first or
    second. (`@gen/*.js` has a suffix: the `*` is what lies between the two, `schema`; `@db` is an exact
    name, listed before the patterns.)"""
    patterns = ['"@app/*": ["src/app/*"]', '"@app/core/*": ["src/core/*"]']
    paths = '{"@db": ["src/core/db.ts"], ' + ", ".join(patterns) + ', "@gen/*.js": ["src/gen/*.ts"]}'
    files = {
        **ESM,
        "tsconfig.json": '{"compilerOptions": {"baseUrl": ".", "paths": ' + paths + "}}\n",
        "src/index.ts": "import { db } from '@app/core/db.js';\nimport { s } from '@gen/schema.js';\n"
        "console.log(db, s);\n" + LOADED,
        "src/core/db.ts": "export const db = 1;\n",
        "src/gen/schema.ts": "export const s = 2;\n",
    }
    assert judged(write_tree(tmp_path / "ok", files)) == []
    reversed_paths = paths.replace(", ".join(patterns), ", ".join(reversed(patterns)))
    reordered = {**files, "tsconfig.json": '{"compilerOptions": {"baseUrl": ".", "paths": ' + reversed_paths + "}}\n"}
    assert judged(write_tree(tmp_path / "reordered", reordered)) == []
    # two patterns with the same prefix: the first listed wins; a `*` may match nothing (`@cfg` is src/cfg.ts)
    tie = '{"@app/*": ["src/a/*"], "@app/*.js": ["src/b/*.ts"], "@cfg*": ["src/cfg*"]}'
    tied = {
        **ESM,
        "tsconfig.json": '{"compilerOptions": {"baseUrl": ".", "paths": ' + tie + "}}\n",
        "src/index.ts": "import { w } from '@app/x.js';\nimport { c } from '@cfg';\nconsole.log(w, c);\n" + LOADED,
        "src/a/x.ts": "export const w = 'a';\n",
        "src/cfg.ts": "export const c = 1;\n",
    }
    assert judged(write_tree(tmp_path / "tied", tied)) == []
    # the same import with only the shorter pattern's target present: tsx still looks in src/core and fails
    moved = {k: v for k, v in files.items() if k != "src/core/db.ts"} | {"src/app/core/db.ts": "export const db = 1;\n"}
    assert judged(write_tree(tmp_path / "moved", moved)) == [("unresolved-import", "src/index.ts")]


def test_a_commonjs_typescript_package_loads_an_extensionless_deep_import(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            **CJS,
            "src/index.ts": "import { helper } from './lib/helpers';\nconsole.log(helper());\n" + LOADED,
            "src/lib/helpers.ts": "export function helper(): number { return 1; }\n",
        },
    )
    assert judged(root) == []


def test_json_imported_without_an_attribute_loads_under_tsx(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {**ESM, "src/index.ts": "import d from './d.json';\nconsole.log(d.a);\n" + LOADED, "src/d.json": '{"a": 1}\n'},
    )
    assert judged(root) == []


def test_a_type_only_export_read_as_a_value_in_commonjs_is_undefined_not_a_crash(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            **CJS,
            "src/index.ts": "import { Role, real } from './types';\nconsole.log(typeof Role, real);\n" + LOADED,
            "src/types.ts": TYPES,
        },
    )
    assert judged(root) == []
    warnings = check(root, ["src/index.ts"]).warnings
    assert [(f.rule, f.message) for f in warnings] == [
        (
            "missing-export",
            "'Role' is undefined at run time: The requested module './types' does not provide an export named "
            "'Role' (it exports 'Role' only as a type, and this file reads it as a value)",
        )
    ]


def test_a_commonjs_typescript_import_of_a_package_file_of_another_extension_loads_it_as_require_does(tmp_path):
    # tsx runs a CommonJS file's imports as require(): a .txt that parses as JavaScript loads (under `import`
    # its extension alone would fail), and a README does not parse
    files = {
        **CJS,
        "node_modules/kit/package.json": {"name": "kit", "version": "1.0.0"},
        "node_modules/kit/lib.txt": "module.exports = 2;\n",
        "node_modules/kit/README.md": "# kit\n\nSee the docs.\n",
    }
    root = write_tree(tmp_path / "app", {**files, "src/index.ts": "import 'kit/lib.txt';\n" + LOADED})
    assert judged(root) == []
    write_tree(root, {"src/index.ts": "import 'kit/README.md';\n" + LOADED})
    assert judged(root) == [("unknown-file-extension", "src/index.ts")]
    assert messages(root)[0].startswith("crashes at start: SyntaxError: require() loads node_modules/kit/README.md")
