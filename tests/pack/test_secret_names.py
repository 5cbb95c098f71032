"""Secret names match in any letter case, and --with-node-modules applies the same rules inside node_modules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploysafe.pack import pack
from deploysafe.pack.secrets import secret_reason
from tests.support.npm_cache import installed
from tests.support.projects import run_node, write_tree

INDEX = """import fs from 'node:fs';
import path from 'node:path';

const env = path.join(import.meta.dirname, '..', '.ENV');
console.log(fs.existsSync(env) ? 'has env' : 'no env');
"""


@pytest.mark.parametrize("name", [".ENV", ".Env.Production", "SERVER.PEM", "Key.P12", "ID_RSA", ".NETRC"])
def test_secret_names_match_in_any_letter_case(name: str) -> None:
    assert secret_reason(f"config/{name}") is not None


def test_an_upper_case_env_read_by_a_literal_path_is_not_packed(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "type": "module", "main": "src/index.js"},
            "src/index.js": INDEX,
            ".ENV": "SECRET=1\n",
        },
    )
    assert run_node(root, "src/index.js").stdout.strip() == "has env"
    result = pack(root, output=tmp_path / "out/")

    assert ".ENV" not in {f["path"] for f in result.files}
    reasons = {item["path"]: item["reason"] for item in result.manifest["excluded"]}
    assert reasons[".ENV"].startswith("secret (.env*)")


@pytest.mark.slow
def test_with_node_modules_leaves_out_a_packages_env_and_keys(tmp_path: Path) -> None:
    source = installed("pack-nm-secrets", {"name": "nm", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}})
    root = tmp_path / "app"
    shutil.copytree(source, root, symlinks=True)
    write_tree(
        root,
        {
            "index.js": "const ms = require('ms');\nconsole.log(ms(1000));\n",
            "node_modules/ms/.env": "TOKEN=1\n",
            "node_modules/ms/certs/server.pem": "-----BEGIN PRIVATE KEY-----\n",
            "node_modules/ms/.Env.Local": "TOKEN=2\n",
        },
    )
    result = pack(root, output=tmp_path / "out/", with_node_modules=True)
    files = {f["path"] for f in result.files}
    reasons = {item["path"]: item["reason"] for item in result.manifest["excluded"]}

    assert "node_modules/ms/index.js" in files
    for secret in ("node_modules/ms/.env", "node_modules/ms/certs/server.pem", "node_modules/ms/.Env.Local"):
        assert secret not in files
        assert reasons[secret].startswith("secret (")

    allowed = pack(
        root, output=tmp_path / "out2/", with_node_modules=True, allow_secrets=["node_modules/ms/certs/*.pem"]
    )
    assert "node_modules/ms/certs/server.pem" in {f["path"] for f in allowed.files}
