"""TypeScript services judged as they really run: the sources under tsx or ts-node, or tsc's output
under node — with tsc-alias rewriting the output and tsconfig-paths/register hooking require().

Every verdict is confirmed by the real tool chain from tests/tools/typescript (tsx, ts-node, tsc,
tsc-alias, tsconfig-paths), then node.
"""

from __future__ import annotations

import os
import tarfile
import time
from pathlib import Path

import pytest

from deploysafe import check
from deploysafe.pack import PackError, pack
from tests.support.npm_cache import installed
from tests.support.projects import write_tree
from tests.support.tools import link_typescript_tools as link_tools
from tests.support.tools import run_command as run
from tests.support.tools import typescript_tool as tool

LOADED = "console.log('loaded');\n"


def build(root: Path, *steps: str) -> None:
    """Run the project's build with the real tools (`tsc`, then `tsc-alias` when asked)."""
    for step in steps or ("tsc",):
        done = run(root, tool(step))
        assert done.returncode == 0, f"{step}: {done.stdout}{done.stderr}"


def deep_package(root: Path) -> None:
    """A CommonJS package with an extensionless deep path: pkg/lib/types.js."""
    write_tree(
        root / "node_modules" / "pkg",
        {"package.json": {"name": "pkg", "version": "1.0.0"}, "index.js": "", "lib/types.js": "exports.T = 1;\n"},
    )


# ---- 1. a .ts file without "type": "module" is CommonJS under tsx, ts-node and tsc -m commonjs -----------


DEEP = "import { T } from 'pkg/lib/types';\nconsole.log('loaded', T);\n"


def test_commonjs_typescript_resolves_a_deep_import_as_require_and_tsx_ts_node_agree(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "dependencies": {"pkg": "1.0.0"}, "scripts": {"start": "tsx src/index.ts"}},
            "tsconfig.json": {"compilerOptions": {"module": "commonjs"}},
            "src/index.ts": DEEP,
        },
    )
    deep_package(root)
    report = check(root)
    assert report.findings == [], [f.message for f in report.findings]
    assert report.typescript is not None and not report.typescript.compiled
    assert report.typescript.describe(str(root)).startswith("sources run by tsx (tsx runs src/index.ts as CommonJS")
    assert run(root, tool("tsx"), "src/index.ts").stdout == "loaded 1\n"
    ts_node = run(root, tool("ts-node"), "src/index.ts", env={"TS_NODE_TRANSPILE_ONLY": "1"})
    assert ts_node.stdout == "loaded 1\n", ts_node.stderr


def test_tsc_commonjs_output_loads_the_deep_import_and_esm_output_does_not(tmp_path):
    files = {
        "package.json": {"name": "app", "dependencies": {"pkg": "1.0.0"}},
        "tsconfig.json": {"compilerOptions": {"module": "commonjs", "outDir": "dist", "rootDir": "src"}},
        "src/index.ts": DEEP,
        "src/pkg.d.ts": "declare module 'pkg/lib/types';\n",
    }
    files["package.json"]["scripts"] = {"build": "tsc", "start": "node dist/index.js"}
    root = write_tree(tmp_path / "cjs", files)
    deep_package(root)
    assert check(root).errors == []
    build(root)
    assert run(root, "node", "dist/index.js").stdout == "loaded 1\n"
    built = check(root)
    assert built.errors == [] and built.typescript is not None and built.typescript.built

    esm = write_tree(
        tmp_path / "esm",
        {
            **files,
            "package.json": {**files["package.json"], "type": "module"},
            "tsconfig.json": {"compilerOptions": {"module": "esnext", "outDir": "dist", "rootDir": "src"}},
        },
    )
    deep_package(esm)
    assert [(f.rule, f.specifier) for f in check(esm).errors] == [("unresolved-import", "pkg/lib/types")]
    build(esm)
    done = run(esm, "node", "dist/index.js")
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr


# ---- 2. an import whose every name is an inline `type` is erased, unless verbatimModuleSyntax ------------


INLINE_TYPES = (
    "import { type Config as C } from 'pkg/lib/nothere';\nimport { type A, type B } from './nothere.js';\n"
    "const c: C | A | B = 1 as never;\nconsole.log('loaded', c);\n"
)


def test_import_of_inline_types_only_is_erased_and_tsx_and_tsc_agree(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "type": "module", "scripts": {"build": "tsc", "start": "tsx src/i.ts"}},
            "tsconfig.json": {"compilerOptions": {"module": "esnext", "outDir": "dist", "rootDir": "src"}},
            "src/i.ts": INLINE_TYPES,
        },
    )
    assert check(root).findings == []
    assert run(root, tool("tsx"), "src/i.ts").stdout == "loaded 1\n"
    run(root, tool("tsc"))  # type errors (the modules do not exist) but tsc still emits
    assert run(root, "node", "dist/i.js").stdout == "loaded 1\n"


def test_verbatim_module_syntax_keeps_the_import_and_it_crashes(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "type": "module", "scripts": {"start": "tsx src/i.ts"}},
            "tsconfig.json": {"compilerOptions": {"verbatimModuleSyntax": True}},
            "src/i.ts": INLINE_TYPES,
        },
    )
    assert [(f.rule, f.specifier) for f in check(root).errors] == [
        ("missing-package", "pkg/lib/nothere"),
        ("unresolved-import", "./nothere.js"),
    ]
    done = run(root, tool("tsx"), "src/i.ts")
    assert done.returncode != 0 and "Cannot find package 'pkg'" in done.stderr


# ---- 3. tsc && tsc-alias with resolveFullPaths gives ESM output its full file names --------------------


def alias_project(tmp_path: Path, full_paths: bool) -> Path:
    return write_tree(
        tmp_path / ("full" if full_paths else "aliases"),
        {
            "package.json": {
                "name": "app",
                "type": "module",
                "scripts": {"build": "tsc && tsc-alias", "start": "node dist/index.js"},
            },
            "tsconfig.json": {
                "compilerOptions": {
                    "module": "esnext",
                    "moduleResolution": "bundler",
                    "outDir": "dist",
                    "rootDir": "src",
                    "baseUrl": ".",
                    "paths": {"@/*": ["src/*"]},
                },
                "tsc-alias": {"resolveFullPaths": full_paths},
            },
            "src/index.ts": "import { x } from './util';\nimport { y } from './lib';\nimport { z } from '@/lib/z';\n"
            "console.log('loaded', x, y, z);\n",
            "src/util.ts": "export const x = 1;\n",
            "src/lib/index.ts": "export const y = 2;\n",
            "src/lib/z.ts": "export const z = 3;\n",
        },
    )


def test_tsc_alias_resolve_full_paths_makes_extensionless_esm_imports_load(tmp_path):
    root = alias_project(tmp_path, full_paths=True)
    report = check(root)
    assert report.findings == [], [f.message for f in report.findings]
    assert "tsc-alias rewrites paths and full file names" in report.typescript.describe(str(root))
    build(root, "tsc", "tsc-alias")
    assert run(root, "node", "dist/index.js").stdout == "loaded 1 2 3\n"
    assert check(root).findings == []


def test_tsc_alias_without_full_paths_leaves_extensionless_imports_that_crash(tmp_path):
    root = alias_project(tmp_path, full_paths=False)
    assert [(f.rule, f.specifier) for f in check(root).errors] == [
        ("unresolved-import", "./util"),
        ("unresolved-import", "./lib"),
    ]
    build(root, "tsc", "tsc-alias")
    done = run(root, "node", "dist/index.js")
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr


# ---- 4. node -r tsconfig-paths/register, with and without TS_NODE_BASEURL --------------------------------


def paths_project(tmp_path: Path, start: str, base_url: str, target: str) -> Path:
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {
                "name": "app",
                "dependencies": {"tsconfig-paths": "4.2.0"},
                "scripts": {"build": "tsc", "start": start},
            },
            "tsconfig.json": {
                "compilerOptions": {
                    "module": "commonjs",
                    "outDir": "dist",
                    "rootDir": "src",
                    "baseUrl": base_url,
                    "paths": {"@/*": [target]},
                }
            },
            "src/index.ts": "import { x } from '@/util';\nconsole.log('loaded', x);\n",
            "src/util.ts": "export const x = 1;\n",
        },
    )
    return link_tools(root, "tsconfig-paths")


def test_tsconfig_paths_register_with_a_base_url_in_dist_loads(tmp_path):
    start = "TS_NODE_BASEURL=./dist node -r tsconfig-paths/register dist/index.js"
    root = paths_project(tmp_path, start, "./src", "*")
    report = check(root)
    assert report.errors == [], [f.message for f in report.errors]
    assert "tsconfig-paths/register maps paths from dist/ (TS_NODE_BASEURL=./dist)" in report.typescript.describe(
        str(root)
    )
    build(root)
    done = run(root, "node", "-r", "tsconfig-paths/register", "dist/index.js", env={"TS_NODE_BASEURL": "./dist"})
    assert done.stdout == "loaded 1\n", done.stderr
    built = check(root)
    assert built.errors == [] and built.typescript.built, [f.message for f in built.errors]


def test_tsconfig_paths_register_mapping_into_the_sources_crashes(tmp_path):
    root = paths_project(tmp_path, "node -r tsconfig-paths/register dist/index.js", ".", "src/*")
    blocked = check(root)
    assert [(f.rule, f.specifier, f.file) for f in blocked.errors] == [("unresolved-import", "@/util", "src/index.ts")]
    assert "tsconfig-paths/register maps it to src/util" in blocked.errors[0].message
    build(root)
    done = run(root, "node", "-r", "tsconfig-paths/register", "dist/index.js")
    assert done.returncode != 0 and "Cannot find module '@/util'" in done.stderr
    built = check(root)
    # Judged on the output node runs, shown at the TypeScript line it comes from.
    assert [(f.rule, f.specifier, f.file, f.line, f.column) for f in built.errors] == [
        ("unresolved-import", "@/util", "src/index.ts", 1, 19)
    ]
    assert "[runs as dist/index.js:3:" in built.errors[0].message
    assert built.dormant == ["dist/util.js"]  # the sources are what dist/ is built from, not dormant


def test_findings_in_built_output_follow_the_source_map_to_the_typescript_line(tmp_path):
    root = paths_project(tmp_path, "node -r tsconfig-paths/register dist/index.js", ".", "src/*")
    config = {"compilerOptions": {**_json(root / "tsconfig.json")["compilerOptions"], "sourceMap": True}}
    write_tree(
        root,
        {
            "tsconfig.json": config,
            "src/index.ts": "// the service\n\nimport { x } from '@/util';\n\nconsole.log('loaded', x);\n",
        },
    )
    build(root)
    assert (root / "dist" / "index.js.map").is_file()
    done = run(root, "node", "-r", "tsconfig-paths/register", "dist/index.js")
    assert done.returncode != 0 and "Cannot find module '@/util'" in done.stderr
    [error] = check(root).errors
    assert (error.file, error.line, error.column) == ("src/index.ts", 3, 19)
    assert "[runs as dist/index.js:4:" in error.message


# ---- 5. tsc infers rootDir from all its inputs: the start file is not where tsc writes it ---------------


def test_inferred_root_dir_moves_the_output_and_the_start_file_is_missing(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "scripts": {"build": "tsc", "start": "node dist/index.js"}},
            "tsconfig.json": {
                "compilerOptions": {"module": "commonjs", "outDir": "dist"},
                "include": ["src/**/*.ts", "drizzle.config.ts"],
            },
            "src/index.ts": LOADED,
            "drizzle.config.ts": "export default { schema: './src/schema.ts' };\n",
        },
    )
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("unresolved-import", "package.json")]
    assert "tsc compiles src/index.ts to dist/src/index.js, not dist/index.js" in report.errors[0].message
    assert "drizzle.config.ts" in report.errors[0].message
    build(root)
    done = run(root, "node", "dist/index.js")
    assert done.returncode != 0 and "Cannot find module" in done.stderr
    assert [(f.rule, f.file) for f in check(root).errors] == [("unresolved-import", "package.json")]

    fixed = {"compilerOptions": {"module": "commonjs", "outDir": "dist", "rootDir": "src"}, "include": ["src"]}
    write_tree(root, {"tsconfig.json": fixed})
    assert check(root).errors == []


# tsc with resolveJsonModule: `import pkg from "../package.json"` is compiled too.
JSON_IMPORTING = {
    "compilerOptions": {"module": "commonjs", "outDir": "dist", "resolveJsonModule": True, "esModuleInterop": True},
    "include": ["src"],
}


def test_a_json_import_above_src_lifts_the_inferred_root_dir(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "scripts": {"build": "tsc", "start": "node dist/index.js"}},
            "tsconfig.json": JSON_IMPORTING,
            "src/index.ts": "import pkg from '../package.json';\nconsole.log('loaded', pkg.name);\n",
        },
    )
    [error] = check(root).errors
    assert "tsc compiles src/index.ts to dist/src/index.js, not dist/index.js" in error.message
    assert "because that includes package.json" in error.message
    build(root)
    assert (root / "dist" / "src" / "index.js").is_file()
    done = run(root, "node", "dist/index.js")
    assert done.returncode != 0 and "Cannot find module" in done.stderr


def test_tsconfig_paths_registered_by_the_entry_itself_is_modelled(tmp_path):
    root = paths_project(tmp_path, "node dist/index.js", "./src", "*")
    write_tree(
        root,
        {
            "src/index.ts": "import 'tsconfig-paths/register';\nimport { x } from '@/util';\nconsole.log('loaded', x);\n",
        },
    )
    report = check(root)
    assert [(f.rule, f.specifier) for f in report.errors] == [("unresolved-import", "@/util")]
    assert "tsconfig-paths/register maps it to src/util" in report.errors[0].message
    build(root)
    done = run(root, "node", "dist/index.js")
    assert done.returncode != 0 and "Cannot find module '@/util'" in done.stderr
    ok = run(root, "node", "dist/index.js", env={"TS_NODE_BASEURL": "./dist"})
    assert ok.stdout == "loaded 1\n", ok.stderr


# ---- 6. a stale build: dependencies come from the project's package.json, never dist/'s copy ------------


def test_stale_dist_with_a_copied_package_json_blocks_and_pack_refuses(tmp_path):
    ms = installed("ms", {"dependencies": {"ms": "2.1.3"}})
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {
                "name": "app",
                "version": "1.0.0",
                "dependencies": {"ms": "2.1.3"},
                "scripts": {"build": "tsc", "start": "node dist/src/index.js"},
            },
            "tsconfig.json": JSON_IMPORTING,
            "src/index.ts": "import ms from 'ms';\nimport pkg from '../package.json';\nconsole.log('loaded', pkg.name, ms('1s'));\n",
            "src/ms.d.ts": "declare module 'ms';\n",
        },
    )
    (root / "node_modules").mkdir()
    os.symlink(ms / "node_modules" / "ms", root / "node_modules" / "ms")
    build(root)
    assert (root / "dist" / "package.json").is_file()
    assert run(root, "node", "dist/src/index.js").stdout == "loaded app 1000\n"
    fresh = check(root)
    assert fresh.errors == [] and fresh.typescript.built and fresh.typescript.stale == ()

    time.sleep(1.1)  # `npm uninstall ms`, not rebuilt
    (root / "node_modules" / "ms").unlink()
    write_tree(root, {"package.json": {**_json(root / "package.json"), "dependencies": {}}})
    done = run(root, "node", "dist/src/index.js")
    assert done.returncode != 0 and "Cannot find module 'ms'" in done.stderr
    stale = check(root)
    assert [(f.rule, f.specifier, f.file) for f in stale.errors] == [("missing-package", "ms", "src/index.ts")]
    assert [u.reason for u in stale.unverified] == ["stale-build"]
    assert "dist/ is stale: rebuild before pack" in stale.unverified[0].detail
    with pytest.raises(PackError, match=r"dist/ is stale: rebuild before pack \(package.json changed"):
        pack(root, output=tmp_path / "out", force=True)


def _json(path: Path) -> dict:
    import json

    return json.loads(path.read_text())


# ---- 7. what tsx reads at start ships with the artifact -------------------------------------------------


def test_pack_ships_the_tsconfig_chain_tsx_needs_for_paths(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "type": "module", "scripts": {"start": "tsx src/i.ts"}},
            "tsconfig.base.json": '{\n  // shared\n  "compilerOptions": {"baseUrl": ".", "paths": {"@/*": ["src/*"]}}\n}\n',
            "tsconfig.json": {"extends": "./tsconfig.base.json", "compilerOptions": {"strict": True}},
            "src/i.ts": "import { b } from '@/b';\nconsole.log('loaded', b);\n",
            "src/b.ts": "export const b = 2;\n",
        },
    )
    result = pack(root, output=tmp_path / "out")
    assert {"tsconfig.json", "tsconfig.base.json"} <= {f["path"] for f in result.files}
    assert result.verification is not None and result.verification.self_contained
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with tarfile.open(result.path) as archive:
        archive.extractall(unpacked, filter="data")
    assert run(unpacked, tool("tsx"), "src/i.ts").stdout == "loaded 2\n"


# ---- what the model cannot read is unverified, never silent ---------------------------------------------


def test_a_tsconfig_that_cannot_be_read_is_unverified_and_tsx_still_runs(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "scripts": {"start": "tsx src/i.ts"}},
            "tsconfig.json": {"extends": "./base.json", "compilerOptions": {"strict": True}},
            "src/i.ts": LOADED,
        },
    )
    report = check(root)
    assert report.deployable and report.findings == []
    assert [(u.reason, u.file) for u in report.unverified] == [("unreadable", "tsconfig.json")]
    assert "extends './base.json' was not found" in report.unverified[0].detail
    assert run(root, tool("tsx"), "src/i.ts").stdout == "loaded\n"


# ---- a package of a monorepo: workspace dependencies and a shared tsconfig above the package ------------


def test_monorepo_package_under_tsx_loads_its_workspace_dependency_and_tsx_agrees(tmp_path):
    repo = write_tree(
        tmp_path / "repo",
        {
            "package.json": {"name": "repo", "private": True, "workspaces": ["packages/*"]},
            "tsconfig.base.json": {
                "compilerOptions": {"strict": True, "baseUrl": ".", "paths": {"@api/*": ["packages/api/src/*"]}}
            },
            "packages/shared/package.json": {"name": "@acme/shared", "version": "1.0.0", "main": "src/index.ts"},
            "packages/shared/src/index.ts": "export const shared: number = 1;\n",
            "packages/api/package.json": {
                "name": "api",
                "version": "1.0.0",
                "dependencies": {"@acme/shared": "1.0.0"},
                "scripts": {"start": "tsx src/index.ts"},
            },
            "packages/api/tsconfig.json": {"extends": "../../tsconfig.base.json"},
            "packages/api/src/index.ts": "import { shared } from '@acme/shared';\nimport { v } from '@api/v';\n"
            "console.log('loaded', shared, v);\n",
            "packages/api/src/v.ts": "export const v = 2;\n",
        },
    )
    (repo / "node_modules" / "@acme").mkdir(parents=True)
    os.symlink("../../packages/shared", repo / "node_modules" / "@acme" / "shared")
    api = repo / "packages" / "api"
    report = check(api)
    assert report.findings == [], [f.message for f in report.findings]
    assert str(repo / "tsconfig.base.json") in report.typescript.runtime_files
    assert run(api, tool("tsx"), "src/index.ts").stdout == "loaded 1 2\n"

    (api / "src" / "index.ts").write_text("import { v } from '@api/w';\nconsole.log('loaded', v);\n")
    assert [(f.rule, f.specifier) for f in check(api).errors] == [("unresolved-import", "@api/w")]
    done = run(api, tool("tsx"), "src/index.ts")
    assert done.returncode != 0 and "Cannot find" in done.stderr


def test_ts_node_with_an_es_module_setting_in_a_commonjs_package_crashes_and_ts_node_agrees(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "scripts": {"start": "ts-node src/i.ts"}},
            "tsconfig.json": {"compilerOptions": {"module": "esnext", "moduleResolution": "bundler"}},
            "src/i.ts": "import { b } from './b';\nconsole.log('loaded', b);\n",
            "src/b.ts": "export const b = 1;\n",
        },
    )
    link_tools(root, "@types")
    [error] = check(root).errors
    assert error.rule == "unknown-file-extension" and error.file == "src/i.ts"
    assert 'ts-node compiles src/i.ts with "module": "esnext"' in error.message
    done = run(root, tool("ts-node"), "src/i.ts")
    assert done.returncode != 0 and 'Unknown file extension ".ts"' in done.stderr

    write_tree(root, {"tsconfig.json": {"compilerOptions": {"module": "nodenext", "moduleResolution": "nodenext"}}})
    assert check(root).findings == []
    assert run(root, tool("ts-node"), "src/i.ts").stdout == "loaded 1\n"
