"""Facts of installed package files found by the package's version and integrity, without reading the files;
a file changed after the install (as patch-package does) is read again. Real installs by npm, pnpm 10,
Yarn 1 and Yarn 4 (node_modules linker), and one without any lockfile; node as the judge."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploysafe.check import pipeline, sources
from deploysafe.ecosystems.node.package_pins import PackagePins
from tests.support.npm_cache import installed, installed_once
from tests.support.projects import run_node

MS = {"name": "svc", "version": "1.0.0", "private": True, "dependencies": {"ms": "2.1.3"}}
MS_INTEGRITY = "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
MS_CHECKSUM = (  # Yarn 4's own checksum of the package
    "10c0/d924b57e7312b3b63ad21fc5b3dc0af5e78d61a1fc7cfb5457edaf26326bf62be5307cc87ffb6862ef1c2b33b0233cdb5d4f01c4c958cc0d660948b65a287a48"
)
QUIET = {"COREPACK_ENABLE_STRICT": "0", "YARN_ENABLE_TELEMETRY": "0", "YARN_ENABLE_IMMUTABLE_INSTALLS": "false"}


def _npm(tmp_path: Path) -> Path:
    packages = installed("ms", {"dependencies": {"ms": "2.1.3"}})
    root = tmp_path / "svc"
    shutil.copytree(packages, root, ignore=shutil.ignore_patterns(".deploysafe-installed"))
    return root


def _no_lockfile(tmp_path: Path) -> Path:
    root = _npm(tmp_path)
    (root / "package-lock.json").unlink()
    (root / "node_modules" / ".package-lock.json").unlink()
    return root


def _pnpm(tmp_path: Path) -> Path:
    pnpm = installed("pnpm", {"dependencies": {"pnpm": "10.12.1"}}) / "node_modules" / ".bin" / "pnpm"
    tree = {"package.json": MS}
    cached = installed_once("pins-pnpm", tree, [str(pnpm), "install"], {"npm_config_loglevel": "error"})
    shutil.copytree(cached, tmp_path / "svc", symlinks=True)
    return tmp_path / "svc"


def _yarn1(tmp_path: Path) -> Path:
    cli = installed("yarn1", {"dependencies": {"yarn": "1.22.22"}}) / "node_modules" / "yarn" / "bin" / "yarn.js"
    command = ["node", str(cli), "install", "--registry", "https://registry.npmjs.org", "--no-progress"]
    cached = installed_once("pins-yarn1", {"package.json": MS}, command, QUIET)
    shutil.copytree(cached, tmp_path / "svc", symlinks=True)
    return tmp_path / "svc"


def _yarn4(tmp_path: Path) -> Path:
    yarn = installed("yarn", {"dependencies": {"@yarnpkg/cli-dist": "4.5.3"}})
    cli = yarn / "node_modules" / "@yarnpkg" / "cli-dist" / "bin" / "yarn.js"
    rc = 'nodeLinker: node-modules\nnpmRegistryServer: "https://registry.npmjs.org"\nenableGlobalCache: false\n'
    tree = {"package.json": {**MS, "packageManager": "yarn@4.5.3"}, ".yarnrc.yml": rc, "yarn.lock": ""}
    cached = installed_once("pins-yarn4", tree, ["node", str(cli), "install"], QUIET)
    shutil.copytree(cached, tmp_path / "svc", symlinks=True, ignore=shutil.ignore_patterns(".yarn"))
    return tmp_path / "svc"


@pytest.mark.parametrize(
    ("install", "identity"),
    [
        (_npm, f"ms@2.1.3#{MS_INTEGRITY}:index.js:"),
        (_pnpm, f"ms@2.1.3#{MS_INTEGRITY}:index.js:"),
        (_yarn1, f"ms@2.1.3#{MS_INTEGRITY}:index.js:"),
        (_yarn4, f"ms@2.1.3#{MS_CHECKSUM}:index.js:"),
        (_no_lockfile, "ms@2.1.3#package.json:"),
    ],
    ids=["npm", "pnpm", "yarn1", "yarn4", "no-lockfile"],
)
def test_a_warm_check_reads_no_pinned_package_file_and_a_patched_one_is_read_again(
    tmp_path, monkeypatch, install, identity
):
    root = install(tmp_path)
    (root / "index.js").write_text("const ms = require('ms');\nconsole.log(ms('2 days'));\n")
    monkeypatch.setenv("DEPLOYSAFE_CACHE_DIR", str(tmp_path / "cache"))
    read: list[str] = []
    original = sources._read_source
    monkeypatch.setattr(sources, "_read_source", lambda path: read.append(path) or original(path))
    package_file = str((root / "node_modules" / "ms" / "index.js").resolve())  # pnpm: inside .pnpm
    assert (PackagePins(str(root))(package_file) or "").startswith(identity)

    cold = pipeline.check(root)
    assert package_file in read and cold.deployable
    read.clear()
    warm = pipeline.check(root)
    assert package_file not in read and str((root / "index.js").resolve()) in read  # the project's own: hashed
    assert {**warm.to_json(), "seconds": 0} == {**cold.to_json(), "seconds": 0}
    assert run_node(root, "index.js").returncode == 0

    patched = Path(package_file)
    patched.write_text("require('./gone');\n" + patched.read_text())  # same version and integrity, new content
    read.clear()
    after = pipeline.check(root)
    assert package_file in read
    assert [(f.rule, f.file) for f in after.errors] == [("unresolved-import", "index.js")]
    assert "Cannot find module './gone'" in run_node(root, "index.js").stderr


def test_a_project_under_some_node_modules_keeps_its_own_files_hashed(tmp_path):
    root = tmp_path / "node_modules" / "proj"
    (root / "node_modules" / "ms").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "proj", "version": "1.0.0"}')
    (root / "a.js").write_text("module.exports = 1;\n")
    (root / "node_modules" / "ms" / "package.json").write_text('{"name": "ms", "version": "2.1.3"}')
    (root / "node_modules" / "ms" / "index.js").write_text("module.exports = 1;\n")
    pins = PackagePins(str(root))
    assert pins(str(root / "a.js")) is None  # the project's own file: read and hashed on every check
    assert (pins(str(root / "node_modules" / "ms" / "index.js")) or "").startswith("ms@2.1.3#package.json:")
