"""A large TypeScript service, generated the same way every time, for the check bench.

3,244 .ts files in the shape of a big service run by tsx: 296 reachable from src/index.ts (a tree of
feature modules, each importing two children, a shared util and an installed package), 516 dormant
files in src/legacy/ (never imported; each names a package that is not installed, as old code does),
and 2,432 test files in __tests__/ folders (deploysafe skips them, the other tools read them). Its
node_modules is a real `npm install` of a few common packages (express, zod, lodash, dayjs, uuid, tsx),
nested folders included.

    write(root)   # the sources, package.json and tsconfig.json; the caller runs npm install
"""

from __future__ import annotations

import json
import random
from pathlib import Path

REACHABLE = 296
DORMANT = 516
TESTS = 2432
MISSING_PACKAGES = 274  # distinct names the dormant files import
INSTALLED = {
    "express": "4.21.2",
    "zod": "3.24.1",
    "lodash": "4.17.21",
    "dayjs": "1.11.13",
    "uuid": "11.0.5",
    "tsx": "4.19.2",
}
DEV = {"@types/express": "5.0.0", "@types/lodash": "4.17.14", "@types/node": "22.10.5", "typescript": "5.7.3"}
_USES = (
    ("import { z } from 'zod';", "z.object({ id: z.string() })"),
    ("import _ from 'lodash';", "_.chunk([1, 2, 3], 2)"),
    ("import dayjs from 'dayjs';", "dayjs().unix()"),
    ("import { v4 } from 'uuid';", "v4()"),
    ("import express from 'express';", "express.Router()"),
)


def write(root: Path) -> None:
    """Writes the project's own files under ``root`` (created)."""
    rng = random.Random(15)
    src = root / "src"
    (src / "features").mkdir(parents=True, exist_ok=True)
    (src / "legacy").mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": "big-ts-service",
        "version": "1.0.0",
        "private": True,
        "scripts": {"start": "tsx src/index.ts"},
        "dependencies": INSTALLED,
        "devDependencies": DEV,
    }
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    tsconfig = {
        "compilerOptions": {
            "target": "ES2022",
            "module": "commonjs",
            "strict": True,
            "esModuleInterop": True,
            "skipLibCheck": True,
            "outDir": "dist",
        },
        "include": ["src"],
    }
    (root / "tsconfig.json").write_text(json.dumps(tsconfig, indent=2) + "\n")
    (src / "util.ts").write_text(_util())
    (src / "index.ts").write_text(
        "import { feature0 } from './features/feature0';\nimport { stamp } from './util';\n\n"
        "console.log(stamp('boot'), typeof feature0);\n"
    )
    # src/index.ts and src/util.ts are two of the reachable files; the features make up the rest.
    features = REACHABLE - 2
    for i in range(features):
        children = [c for c in (2 * i + 1, 2 * i + 2) if c < features]
        (src / "features" / f"feature{i}.ts").write_text(_feature(i, children, rng))
    for i in range(DORMANT):
        (src / "legacy" / f"legacy{i}.ts").write_text(_legacy(i, rng))
    per_folder = TESTS // 32
    for folder in range(32):
        tests = src / "features" / f"group{folder}" / "__tests__"
        tests.mkdir(parents=True, exist_ok=True)
        for j in range(per_folder):
            n = folder * per_folder + j
            (tests / f"case{n}.test.ts").write_text(_test(n % features))


def _util() -> str:
    return (
        "export type Stamp = `${string}@${number}`;\n\n"
        "export function stamp(label: string): Stamp {\n  return `${label}@${Date.now()}`;\n}\n\n"
        "export const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);\n"
    )


def _body(name: str, rng: random.Random) -> str:
    fields = "\n".join(f"  field{k}: {rng.choice(('string', 'number', 'boolean'))};" for k in range(rng.randint(3, 8)))
    methods = "\n".join(
        f"  method{k}(input: number): number {{\n    return sum([input, {rng.randint(1, 99)}]) * {k + 1};\n  }}\n"
        for k in range(rng.randint(2, 6))
    )
    return (
        f"export interface {name}Shape {{\n{fields}\n}}\n\n"
        f"export class {name}Service {{\n  constructor(private readonly label = '{name}') {{}}\n\n{methods}}}\n"
    )


def _feature(i: int, children: list[int], rng: random.Random) -> str:
    imports = [f"import {{ feature{c} }} from './feature{c}';" for c in children]
    use_import, use = _USES[i % len(_USES)]
    lines = [*imports, use_import, "import { sum, stamp } from '../util';", "", _body(f"Feature{i}", rng)]
    called = " + ".join(f"String(feature{c})" for c in children) or "''"
    lines.append(f"export const feature{i} = () => [stamp('f{i}'), {called}, {use}];\n")
    return "\n".join(lines)


def _legacy(i: int, rng: random.Random) -> str:
    package = f"@legacy/pkg-{i % MISSING_PACKAGES}"
    neighbour = f"import {{ legacy{i - 1} }} from './legacy{i - 1}';\n" if i else ""
    return (
        f"{neighbour}import * as old from '{package}';\nimport {{ sum }} from '../util';\n\n"
        f"{_body(f'Legacy{i}', rng)}\nexport const legacy{i} = () => old;\n"
    )


def _test(target: int) -> str:
    return (
        f"import {{ feature{target} }} from '../../feature{target}';\n\n"
        f"describe('feature{target}', () => {{\n  it('runs', () => {{\n"
        f"    expect(feature{target}()).toBeDefined();\n  }});\n}});\n"
    )
