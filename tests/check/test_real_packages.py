"""Verdicts on projects that use real packages from the npm registry, judged by real node and tsx."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from deploysafe import check
from tests.support.npm_cache import installed
from tests.support.projects import run_node, write_tree

LOADED = "console.log('loaded');\n"


def with_modules(root: Path, packages: Path) -> Path:
    """Give ``root`` the installed node_modules of ``packages`` (a symlink, as pnpm and npm link do)."""
    os.symlink(packages / "node_modules", root / "node_modules")
    return root


def tsx(root: Path, entry: str, tools: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(tools / "node_modules" / ".bin" / "tsx"), entry], cwd=root, capture_output=True, text=True, timeout=60
    )


# ---- packages --------------------------------------------------------------------------------------------


def test_missing_export_from_real_hono_blocks_and_node_agrees(tmp_path):
    packages = installed("hono", {"dependencies": {"hono": "4.6.14"}})
    root = with_modules(
        write_tree(
            tmp_path / "app",
            {
                "package.json": {"name": "app", "type": "module", "dependencies": {"hono": "4.6.14"}},
                "index.js": "import { Hono } from 'hono';\nimport { cors } from 'hono/cors';\n" + LOADED,
                "routes/signup.js": "import { Router } from 'hono';\nexport const r = Router;\n",
            },
        ),
        packages,
    )
    clean = check(root)
    assert clean.errors == []
    assert [(f.rule, f.file, str(f.severity)) for f in clean.findings] == [
        ("missing-export", "routes/signup.js", "warning")  # dormant: never blocks
    ]
    assert run_node(root, "index.js").returncode == 0

    (root / "index.js").write_text("import './routes/signup.js';\n" + LOADED)
    blocked = check(root)
    assert [(f.rule, f.file, f.name) for f in blocked.errors] == [("missing-export", "routes/signup.js", "Router")]
    assert "'hono' does not provide an export named 'Router'" in blocked.errors[0].message
    assert "Hono" in blocked.errors[0].message
    done = run_node(root, "index.js")
    assert done.returncode != 0
    assert "The requested module 'hono' does not provide an export named 'Router'" in done.stderr


def test_named_imports_from_real_commonjs_express_follow_node(tmp_path):
    packages = installed("express", {"dependencies": {"express": "4.21.2"}})
    root = with_modules(
        write_tree(
            tmp_path / "app",
            {
                "package.json": {"name": "app", "type": "module", "dependencies": {"express": "4.21.2"}},
                "index.js": "import express, { Router, json } from 'express';\n" + LOADED,
            },
        ),
        packages,
    )
    assert check(root).findings == []
    assert run_node(root, "index.js").returncode == 0

    (root / "index.js").write_text("import { Router, Application } from 'express';\n" + LOADED)
    report = check(root)
    assert [(f.rule, f.name) for f in report.errors] == [("missing-export", "Application")]
    done = run_node(root, "index.js")
    assert done.returncode != 0 and "Named export 'Application' not found" in done.stderr


def test_dev_dependency_passes_locally_and_crashes_after_a_production_install(tmp_path):
    manifest = {
        "name": "app",
        "version": "1.0.0",
        "type": "module",
        "dependencies": {"is-number": "7.0.0"},
        "devDependencies": {"is-odd": "3.0.1"},
    }
    packages = installed("devdeps", manifest)
    root = write_tree(
        tmp_path / "app", {"index.js": "import isOdd from 'is-odd';\nimport isNumber from 'is-number';\n" + LOADED}
    )
    shutil.copy(packages / "package.json", root / "package.json")
    shutil.copy(packages / "package-lock.json", root / "package-lock.json")
    shutil.copytree(packages / "node_modules", root / "node_modules", symlinks=True)

    report = check(root)
    assert [(f.rule, f.specifier) for f in report.errors] == [("dev-dependency-at-runtime", "is-odd")]
    assert run_node(root, "index.js").returncode == 0  # what a developer sees locally

    subprocess.run(["npm", "prune", "--omit=dev", "--no-audit", "--no-fund"], cwd=root, check=True, capture_output=True)
    done = run_node(root, "index.js")  # what production sees after npm ci --omit=dev
    assert done.returncode != 0 and "Cannot find package 'is-odd'" in done.stderr
    assert [(f.rule, f.specifier) for f in check(root).errors] == [("dev-dependency-at-runtime", "is-odd")]


# ---- TypeScript run with tsx ---------------------------------------------------------------------------------


TS_SERVICE = {
    "package.json": {"name": "ts-app", "version": "1.0.0", "type": "module"},
    "tsconfig.json": '{\n  // tsx reads paths from here\n  "compilerOptions": {\n    "baseUrl": ".",\n'
    '    "paths": {"@/*": ["src/*"]},\n    "strict": true,\n  },\n}\n',
    "src/index.ts": "import type { User } from '@/types';\nimport { greet } from '@/lib/greet.js';\n"
    "import { Role } from './roles';\nconst u: User = { id: '1' };\nconsole.log('loaded', greet(u.id), Role.Admin);\n",
    "src/types.ts": "export interface User { id: string }\n",
    "src/lib/greet.ts": "export function greet(id: string): string { return `hi ${id}`; }\n",
    "src/roles.ts": "export enum Role { Admin = 'admin' }\nexport type RoleName = `${Role}`;\n",
}


def test_typescript_service_with_paths_loads_under_tsx_and_checks_clean(tmp_path):
    tools = installed("tsx", {"dependencies": {"tsx": "4.23.15"}})
    root = write_tree(tmp_path / "app", TS_SERVICE)
    report = check(root, ["src/index.ts"])
    assert report.findings == [], [f.message for f in report.findings]
    assert report.dormant == ["src/types.ts"]
    done = tsx(root, "src/index.ts", tools)
    assert done.returncode == 0, done.stderr
    assert "loaded hi 1 admin" in done.stdout


def test_typescript_alias_to_a_missing_file_blocks_and_tsx_agrees(tmp_path):
    tools = installed("tsx", {"dependencies": {"tsx": "4.23.15"}})
    broken = {**TS_SERVICE, "src/index.ts": TS_SERVICE["src/index.ts"].replace("@/lib/greet.js", "@/lib/greeting.js")}
    root = write_tree(tmp_path / "app", broken)
    report = check(root, ["src/index.ts"])
    assert [(f.rule, f.specifier) for f in report.errors] == [("unresolved-import", "@/lib/greeting.js")]
    done = tsx(root, "src/index.ts", tools)
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr


def test_typescript_missing_value_export_blocks_and_tsx_agrees(tmp_path):
    tools = installed("tsx", {"dependencies": {"tsx": "4.23.15"}})
    broken = {
        **TS_SERVICE,
        "src/index.ts": TS_SERVICE["src/index.ts"]
        .replace("{ greet }", "{ greet, farewell }")
        .replace("greet(u.id)", "greet(u.id), farewell"),
    }
    root = write_tree(tmp_path / "app", broken)
    report = check(root, ["src/index.ts"])
    assert [(f.rule, f.name) for f in report.errors] == [("missing-export", "farewell")]
    done = tsx(root, "src/index.ts", tools)
    assert done.returncode != 0 and "does not provide an export named 'farewell'" in done.stderr


def test_interfaces_from_a_package_types_are_erased_and_tsx_agrees(tmp_path):
    tools = installed("tsx", {"dependencies": {"tsx": "4.23.15"}})
    packages = installed("express-types", {"dependencies": {"express": "4.21.2", "@types/express": "4.17.21"}})
    root = with_modules(
        write_tree(
            tmp_path / "app",
            {
                "package.json": {"name": "app", "type": "module", "dependencies": {"express": "4.21.2"}},
                "src/index.ts": "import express, { Router, Request, Response } from 'express';\n"
                "const handler = (req: Request, res: Response) => res.send('ok');\n"
                "console.log('loaded', typeof Router, typeof handler);\n",
            },
        ),
        packages,
    )
    report = check(root, ["src/index.ts"])
    assert report.findings == [], [f.message for f in report.findings]
    done = tsx(root, "src/index.ts", tools)
    assert done.returncode == 0, done.stderr

    (root / "src/index.ts").write_text("import { Routerr } from 'express';\nconsole.log(Routerr);\n")
    warned = check(root, ["src/index.ts"])
    assert [(f.rule, f.name, str(f.severity)) for f in warned.findings] == [("missing-export", "Routerr", "warning")]
    assert "did you mean 'Router'?" in warned.findings[0].message


# ---- TypeScript compiled by tsc, its output run by node -----------------------------------------------


COMPILED = {
    "package.json": {
        "name": "api",
        "version": "1.0.0",
        "type": "module",
        "scripts": {"build": "tsc", "start": "node dist/index.js"},
    },
    "tsconfig.json": '{\n  "compilerOptions": {\n    "module": "esnext", "moduleResolution": "bundler", "target": "es2022",\n'
    '    "outDir": "dist", "rootDir": "src", "baseUrl": ".", "paths": {"@/*": ["src/*"]},\n  },\n}\n',
    "src/lib/x.ts": "export const x: number = 1;\n",
}


def tsc_then_node(root: Path) -> subprocess.CompletedProcess:
    """Build with the real tsc (it succeeds: these faults are legal TypeScript), then start its output."""
    tools = installed("typescript", {"dependencies": {"typescript": "5.6.3"}})
    build = subprocess.run(
        [str(tools / "node_modules" / ".bin" / "tsc"), "-p", "."], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return run_node(root, "dist/index.js")


def test_extensionless_import_that_tsx_accepts_blocks_when_tsc_output_runs_under_node(tmp_path):
    root = write_tree(
        tmp_path / "app", {**COMPILED, "src/index.ts": "import { x } from './lib/x';\nconsole.log('loaded', x);\n"}
    )
    report = check(root)
    assert report.typescript is not None and report.typescript.compiled
    assert [(f.rule, f.specifier) for f in report.errors] == [("unresolved-import", "./lib/x")]
    assert "write './lib/x.js'" in report.errors[0].message
    done = tsc_then_node(root)
    assert done.returncode != 0 and "ERR_MODULE_NOT_FOUND" in done.stderr


def test_path_alias_tsc_leaves_unrewritten_blocks_and_node_agrees(tmp_path):
    root = write_tree(
        tmp_path / "app", {**COMPILED, "src/index.ts": "import { x } from '@/lib/x.js';\nconsole.log('loaded', x);\n"}
    )
    report = check(root)
    assert [(f.rule, f.specifier) for f in report.errors] == [("unresolved-import", "@/lib/x.js")]
    assert "tsc leaves the path alias '@/lib/x.js' as written" in report.errors[0].message
    assert "import './lib/x.js' by its relative path" in report.errors[0].message
    assert "Cannot find package '@/lib' imported from src/index.ts" in report.errors[0].message  # node's words
    done = tsc_then_node(root)
    assert done.returncode != 0 and "Cannot find package '@/lib'" in done.stderr


def test_compiled_service_with_full_relative_specifiers_loads(tmp_path):
    root = write_tree(
        tmp_path / "app", {**COMPILED, "src/index.ts": "import { x } from './lib/x.js';\nconsole.log('loaded', x);\n"}
    )
    report = check(root)
    assert report.findings == []
    done = tsc_then_node(root)
    assert done.returncode == 0 and "loaded 1" in done.stdout


def test_commonjs_output_keeps_require_rules_for_extensionless_imports(tmp_path):
    files = {
        **COMPILED,
        "package.json": {"name": "api", "scripts": {"build": "tsc", "start": "node dist/index.js"}},
        "tsconfig.json": {
            "compilerOptions": {"module": "commonjs", "target": "es2022", "outDir": "dist", "rootDir": "src"}
        },
        "src/index.ts": "import { x } from './lib/x';\nconsole.log('loaded', x);\n",
    }
    root = write_tree(tmp_path / "app", files)
    report = check(root)
    assert report.findings == []
    done = tsc_then_node(root)
    assert done.returncode == 0 and "loaded 1" in done.stdout
