"""Every secret name the policy knows stays out of a real pack, and a module an entry loads is refused when
its name is a secret's: each name rule and each token form has its own case, so dropping one fails a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploysafe.pack import PackError, pack
from deploysafe.pack.secrets import secret_reason
from tests.support.projects import run_cli, run_node, write_tree

PACKAGE = {"name": "app", "version": "1.0.0", "type": "module", "main": "src/index.js"}
LOADED = "console.log('loaded');\n"

# (path in the tree, content, the reason pack gives for leaving it out)
SECRETS = [
    (".env", "SECRET=1\n", "secret (.env*)"),
    ("config/.env.local", "SECRET=1\n", "secret (.env*)"),
    (".envrc", "export SECRET=1\n", "secret (.env*)"),
    ("tls/server.pem", "-----BEGIN CERTIFICATE-----\n", "secret (*.pem)"),
    ("tls/server.key", "-----BEGIN PRIVATE KEY-----\n", "secret (*.key)"),
    ("tls/bundle.p12", b"\x30\x82", "secret (*.p12)"),
    ("tls/bundle.pfx", b"\x30\x82", "secret (*.pfx)"),
    ("deploy/id_rsa", "-----BEGIN RSA PRIVATE KEY-----\n", "secret (id_rsa*: SSH key)"),
    ("deploy/id_dsa", "-----BEGIN DSA PRIVATE KEY-----\n", "secret (id_dsa*: SSH key)"),
    ("deploy/id_ecdsa", "-----BEGIN EC PRIVATE KEY-----\n", "secret (id_ecdsa*: SSH key)"),
    ("deploy/id_ed25519.pub", "ssh-ed25519 AAAA\n", "secret (id_ed25519*: SSH key)"),
    (".netrc", "machine example.com login a password b\n", "secret (.netrc: credentials)"),
    (".pgpass", "localhost:5432:db:user:pw\n", "secret (.pgpass: credentials)"),
    (".npmrc", "//registry.npmjs.org/:_authToken=npm_abc\n", "secret (.npmrc with an auth token)"),
    ("web/.npmrc", "_auth = dXNlcjpwdw==\n", "secret (.npmrc with an auth token)"),
    ("api/.npmrc", "//r.example.com/:_password=cHc=\n", "secret (.npmrc with an auth token)"),
    (".yarnrc", '"//registry.yarnpkg.com/:_authToken" "abc"\n', "secret (.yarnrc with an auth token)"),
    (".yarnrc.yml", "npmAuthToken: abc\n", "secret (.yarnrc.yml with an auth token)"),
    ("ci/.yarnrc.yml", "npmAuthIdent: user:pw\n", "secret (.yarnrc.yml with an auth token)"),
]

# Files whose names come close to a rule but hold no secret: they ship when something asks for them.
NOT_SECRETS = [
    "src/id_generator.js",
    "src/keys.js",
    "src/env.js",
    "src/pem.js",
    ".env.example",
    "docs/pgpass.md",
    "src/server.keys.json",
]


def project(tmp_path: Path, files: dict) -> Path:
    return write_tree(tmp_path / "app", {"package.json": PACKAGE, "src/index.js": LOADED, **files})


def excluded(result) -> dict[str, str]:
    return {item["path"]: item["reason"] for item in result.manifest["excluded"]}


@pytest.mark.parametrize(("rel", "content", "reason"), SECRETS, ids=[s[0] for s in SECRETS])
def test_each_secret_name_is_left_out_of_a_real_pack_with_its_reason(tmp_path, rel, content, reason):
    root = project(tmp_path, {rel: content})
    result = pack(root, output=tmp_path / "out/", include=["src/**"])
    assert rel not in {f["path"] for f in result.files}
    assert excluded(result)[rel] == reason


@pytest.mark.parametrize("rel", [s[0] for s in SECRETS])
def test_each_secret_name_is_refused_by_an_include_glob(tmp_path, rel):
    content = next(c for r, c, _ in SECRETS if r == rel)
    root = project(tmp_path, {rel: content})
    with pytest.raises(PackError, match=f"matches {rel}, which is a secret"):
        pack(root, output=tmp_path / "out/", include=[rel])


@pytest.mark.parametrize("rel", NOT_SECRETS)
def test_names_near_a_rule_are_not_secrets_and_ship_when_included(tmp_path, rel):
    root = project(tmp_path, {rel: "module.exports = 1;\n"})
    result = pack(root, output=tmp_path / "out/", include=[rel])
    assert secret_reason(rel, str(root / rel)) is None
    assert rel in {f["path"] for f in result.files}


@pytest.mark.parametrize("name", [".npmrc", ".yarnrc", ".yarnrc.yml"])
def test_install_settings_without_a_token_ship(tmp_path, name):
    root = project(tmp_path, {name: "registry=https://registry.npmjs.org/\n"})
    result = pack(root, output=tmp_path / "out/", include=[name])
    assert name in {f["path"] for f in result.files}
    assert name not in excluded(result)


def test_a_module_with_a_secret_name_that_an_entry_imports_is_refused(tmp_path):
    root = project(
        tmp_path,
        {
            "src/index.js": "import { db } from '../config/.env.js';\nconsole.log('loaded', db);\n",
            "config/.env.js": "export const db = 'postgres://user:password@db/prod';\n",
        },
    )
    assert run_node(root, "src/index.js").returncode == 0  # node loads it: only the policy keeps it out
    with pytest.raises(PackError, match=r"src/index\.js loads config/\.env\.js, which looks like a secret \(\.env\*\)"):
        pack(root, output=tmp_path / "out/")

    done = run_cli("pack", str(root), "-o", str(tmp_path / "cli-out/"))
    assert done.returncode == 1
    assert "config/.env.js" in done.stderr and "--allow-secret" in done.stderr
    assert "Traceback" not in done.stderr


def test_allow_secret_lets_an_imported_secret_module_ship(tmp_path):
    root = project(
        tmp_path,
        {
            "src/index.js": "import { db } from '../config/.env.js';\nconsole.log('loaded', db);\n",
            "config/.env.js": "export const db = 'x';\n",
        },
    )
    result = pack(root, output=tmp_path / "out/", allow_secrets=["config/.env.js"])
    assert "config/.env.js" in {f["path"] for f in result.files}


def test_a_token_deep_in_a_large_npmrc_is_still_found(tmp_path):
    """Up to 1 MiB is read: a token after 900 KiB of settings still makes the file a secret."""
    root = project(tmp_path, {".npmrc": "# setting\n" * 92_160 + "//registry.npmjs.org/:_authToken=npm_abc\n"})
    assert (root / ".npmrc").stat().st_size > 900 * 1024
    assert secret_reason(".npmrc", str(root / ".npmrc")) == "secret (.npmrc with an auth token)"


def test_a_token_file_that_cannot_be_read_is_treated_as_a_secret(tmp_path):
    (tmp_path / "dir.npmrc").mkdir()  # reading it fails (IsADirectoryError), as an unreadable file would
    assert secret_reason(".npmrc", str(tmp_path / "dir.npmrc")) == "secret (.npmrc with an auth token)"
    assert secret_reason(".yarnrc", str(tmp_path / "missing")) == "secret (.yarnrc with an auth token)"
