"""Version-dependent rules, confirmed on the Node versions they depend on: require(esm), module syntax
detection, the "module-sync" condition and import attributes are judged for Node 18.20, 20.18, 20.20,
22.11 and 22.23, and each version-dependent rule also on the releases exactly at its boundary and just
below it (20.19.0 and 20.18.3; 22.7.0 and 22.6.0; 22.12.0 and 22.11.0; import assertions on 21.0.0, the line
below their removal in 22) and on a release line above the
highest one a rule names (24); each verdict is compared with that very Node running the project.

Deployable must mean that Node loads the entry (exit 0, "loaded"); blocked must mean it fails, with the
error deploysafe names.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploysafe import check
from tests.support import tools
from tests.support.projects import write_tree

LOCAL = "20.20.2"  # the machine's node (NODE-FACTS.md); the others come from tests/tools' lockfile
VERSIONS = ["18.20.8", "20.18.3", "22.11.0", "22.23.5", LOCAL]
NEWER = "24.22.3"  # a release line above 22, the highest one any rule names
REQUIRE_ESM = [*VERSIONS, "20.19.0", "22.12.0", NEWER]  # require(esm) and "module-sync": 20.19, 22.12
DETECTION = [*VERSIONS, "20.19.0", "22.6.0", "22.7.0", NEWER]  # module syntax detection: 20.19, 22.7
LOADED = "console.log('loaded');\n"
CJS = {"package.json": {"name": "app", "version": "1.0.0"}}
ESM = {"package.json": {"name": "app", "version": "1.0.0", "type": "module"}}


def run(version: str, root: Path, entry: str = "index.js") -> subprocess.CompletedProcess:
    binary = "node" if version == LOCAL else str(tools.node(version))
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == f"v{version}", f"{binary} is {done.stdout.strip()}, not v{version}"
    return subprocess.run([binary, entry], cwd=root, capture_output=True, text=True, timeout=60)


def judged(version: str, root: Path, entry: str = "index.js") -> tuple[list[tuple[str, str]], bool]:
    """deploysafe's errors for ``version``, and whether that Node really loads the entry."""
    report = check(root, [entry], node_version=version)
    assert str(report.node) == version
    done = run(version, root, entry)
    loads = done.returncode == 0 and "loaded" in done.stdout
    errors = [(f.rule, f.file) for f in report.errors]
    assert (not errors) is loads, f"node {version}: deploysafe says {errors}; node: {done.stderr[-600:]}"
    return errors, loads


def messages(version: str, root: Path, entry: str = "index.js") -> list[str]:
    """What deploysafe tells the user for ``version`` (the verdict itself is `judged`'s)."""
    return [f.message for f in check(root, [entry], node_version=version).errors]


@pytest.mark.parametrize("version", REQUIRE_ESM)
def test_require_of_an_es_module_follows_each_node_version(tmp_path, version):
    root = write_tree(
        tmp_path / "app",
        {**CJS, "index.js": "const { x } = require('./lib.mjs');\n" + LOADED, "lib.mjs": "export const x = 1;\n"},
    )
    errors, loads = judged(version, root)
    expected = version in ("20.19.0", "20.20.2", "22.12.0", "22.23.5", NEWER)  # unflagged in 20.19 and 22.12
    assert loads is expected
    assert errors == ([] if expected else [("require-of-esm", "index.js")])
    assert messages(version, root) == (
        []
        if expected
        else [
            f"crashes at start: Error [ERR_REQUIRE_ESM]: require() of ES Module lib.mjs not supported on Node "
            f"{version} (use import() instead)"
        ]
    )


@pytest.mark.parametrize("version", [*VERSIONS, NEWER])
def test_require_of_an_esm_graph_with_top_level_await_fails_on_every_version(tmp_path, version):
    root = write_tree(
        tmp_path / "app",
        {
            **CJS,
            "index.js": "const { x } = require('./lib.mjs');\n" + LOADED,
            "lib.mjs": "export { x } from './config.mjs';\n",
            "config.mjs": "export const x = await Promise.resolve(1);\n",
        },
    )
    errors, loads = judged(version, root)
    assert not loads
    assert errors == [("require-of-esm", "index.js")]
    if version in ("20.20.2", "22.23.5", NEWER):  # a Node that can require() ES modules, but not this graph
        assert messages(version, root) == [
            "crashes at start: Error [ERR_REQUIRE_ASYNC_MODULE]: require() cannot be used on an ESM graph with "
            "top-level await (use import() instead)"
        ]


@pytest.mark.parametrize("version", ["20.20.2", "22.23.5"])
def test_require_of_an_esm_graph_with_a_cycle_and_an_await_only_behind_import_loads(tmp_path, version):
    # Modules that import each other, a CommonJS file, and top-level await only behind a dynamic import():
    # the graph require() links has no await, so a Node that can require() ES modules loads it.
    root = write_tree(
        tmp_path / "app",
        {
            **CJS,
            "index.js": "const { x } = require('./lib.mjs');\n" + LOADED,
            "lib.mjs": "export { x } from './a.mjs';\nimport './b.mjs';\n",
            "a.mjs": "import './b.mjs';\nimport './helper.cjs';\nexport const x = 1;\n"
            "export const later = () => import('./slow.mjs');\n",
            "b.mjs": "import './a.mjs';\nexport const y = 2;\n",
            "helper.cjs": "exports.z = 3;\n",
            "slow.mjs": "export const s = await Promise.resolve(4);\n",
        },
    )
    errors, loads = judged(version, root)
    assert loads and errors == []


@pytest.mark.parametrize("version", ["20.20.2", "22.23.5"])
def test_top_level_await_behind_a_packages_import_condition_fails_a_require(tmp_path, version):
    # The ES module imports the package's "import" file, which awaits; its "require" file does not.
    root = write_tree(
        tmp_path / "app",
        {
            **CJS,
            "index.js": "const { x } = require('./lib.mjs');\n" + LOADED,
            "lib.mjs": "export { x } from 'dual';\n",
            "node_modules/dual/package.json": {
                "name": "dual",
                "version": "1.0.0",
                "exports": {"import": "./esm.mjs", "require": "./cjs.cjs"},
            },
            "node_modules/dual/esm.mjs": "export const x = await Promise.resolve(1);\n",
            "node_modules/dual/cjs.cjs": "exports.x = 1;\n",
        },
    )
    root.joinpath("package.json").write_text('{"name": "app", "version": "1.0.0", "dependencies": {"dual": "1.0.0"}}\n')
    errors, loads = judged(version, root)
    assert not loads
    assert errors == [("require-of-esm", "index.js")]
    assert "ERR_REQUIRE_ASYNC_MODULE" in messages(version, root)[0]


@pytest.mark.parametrize("version", DETECTION)
def test_module_syntax_in_a_typeless_package_follows_each_node_version(tmp_path, version):
    root = write_tree(tmp_path / "app", {**CJS, "index.js": "import fs from 'node:fs';\n" + LOADED})
    errors, loads = judged(version, root)
    expected = version not in ("18.20.8", "20.18.3", "22.6.0")  # detection unflagged in 20.19 and 22.7
    assert loads is expected
    assert errors == ([] if expected else [("syntax-error", "index.js")])


@pytest.mark.parametrize("version", REQUIRE_ESM)
def test_the_module_sync_condition_is_chosen_only_where_node_has_it(tmp_path, version):
    root = write_tree(
        tmp_path / "app",
        {
            **ESM,
            "index.js": "import { x } from 'dual';\n" + LOADED,
            "node_modules/dual/package.json": {
                "name": "dual",
                "version": "1.0.0",
                "exports": {"module-sync": "./gone.mjs", "default": "./index.mjs"},
            },
            "node_modules/dual/index.mjs": "export const x = 1;\n",
        },
    )
    root.joinpath("package.json").write_text(
        '{"name": "app", "version": "1.0.0", "type": "module", "dependencies": {"dual": "1.0.0"}}\n'
    )
    errors, loads = judged(version, root)
    # "module-sync" comes with require(esm): 20.19 and 22.12 (22.10 and 22.11 only behind a flag)
    expected = version in ("18.20.8", "20.18.3", "22.11.0")
    assert loads is expected
    assert errors == ([] if expected else [("unresolved-import", "index.js")])


@pytest.mark.parametrize("version", VERSIONS)
def test_json_import_without_an_attribute_fails_on_every_version(tmp_path, version):
    root = write_tree(tmp_path / "app", {**ESM, "index.js": "import d from './d.json';\n" + LOADED, "d.json": "{}\n"})
    errors, loads = judged(version, root)
    assert not loads
    assert errors == [("missing-import-attribute", "index.js")]


@pytest.mark.parametrize("version", VERSIONS)
def test_json_import_with_the_with_attribute_loads_on_every_version(tmp_path, version):
    root = write_tree(
        tmp_path / "app",
        {**ESM, "index.js": "import d from './d.json' with { type: 'json' };\n" + LOADED, "d.json": "{}\n"},
    )
    errors, loads = judged(version, root)
    assert loads
    assert errors == []


@pytest.mark.parametrize("version", [*VERSIONS, "21.0.0", NEWER])  # 21: the release line below the removal
def test_json_import_with_the_old_assert_keyword_follows_each_node_version(tmp_path, version):
    root = write_tree(
        tmp_path / "app",
        {**ESM, "index.js": "import d from './d.json' assert { type: 'json' };\n" + LOADED, "d.json": "{}\n"},
    )
    errors, loads = judged(version, root)
    expected = not version.startswith(("22.", "24."))  # `assert` was removed in Node 22
    assert loads is expected
    assert errors == ([] if expected else [("syntax-error", "index.js")])
    assert messages(version, root) == (
        []
        if expected
        else [
            f"crashes at start: SyntaxError: Unexpected identifier 'assert' (Node {version} removed import "
            "assertions): write `with { type: 'json' }`"
        ]
    )


@pytest.mark.parametrize("version", ["20.20.2", "22.23.5"])
def test_export_from_with_the_assert_keyword_follows_each_node_version(tmp_path, version):
    root = write_tree(
        tmp_path / "app",
        {
            **ESM,
            "index.js": "import { d } from './lib.js';\n" + LOADED,
            "lib.js": "export { default as d } from './d.json' assert { type: 'json' };\n",
            "d.json": "{}\n",
        },
    )
    errors, loads = judged(version, root)
    assert errors == ([] if loads else [("syntax-error", "lib.js")])
    assert loads is (version == "20.20.2")
