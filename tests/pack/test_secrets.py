"""Secrets never ship by default; the output lists each one left out and why; an include glob that
matches one is refused unless --allow-secret names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploysafe.pack import PackError, pack
from deploysafe.pack.secrets import secret_reason
from tests.support.projects import run_cli, write_tree

PACKAGE = {"name": "app", "version": "1.0.0", "type": "module", "main": "src/index.js"}
INDEX = """import path from 'node:path';

export const env = path.join(import.meta.dirname, '..', '.env');
export const uploads = path.join(import.meta.dirname, '..', 'uploads', 'logo.png');
console.log('loaded');
"""


def project(tmp_path: Path, extra: dict | None = None) -> Path:
    return write_tree(
        tmp_path / "app",
        {
            "package.json": PACKAGE,
            "src/index.js": INDEX,
            ".env": "SECRET=1\n",
            ".env.production": "SECRET=2\n",
            ".env.example": "SECRET=\n",
            "config/server.key": "-----BEGIN PRIVATE KEY-----\n",
            "certs/cert.pem": "-----BEGIN CERTIFICATE-----\n",
            "deploy/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
            "uploads/logo.png": b"\x89PNG",
            ".gitignore": "uploads/\n",
            **(extra or {}),
        },
    )


def excluded(result) -> dict[str, str]:
    return {item["path"]: item["reason"] for item in result.manifest["excluded"]}


def test_every_secret_in_the_tree_is_left_out_and_listed_with_its_reason(tmp_path: Path) -> None:
    root = project(tmp_path, {".npmrc": "//registry.npmjs.org/:_authToken=npm_abc123\n"})
    result = pack(root, output=tmp_path / "out/")
    files = {f["path"] for f in result.files}
    reasons = excluded(result)

    assert files == {"package.json", "src/index.js"}
    assert reasons["config/server.key"] == "secret (*.key)"
    assert reasons["certs/cert.pem"] == "secret (*.pem)"
    assert reasons["deploy/id_ed25519"] == "secret (id_ed25519*: SSH key)"
    assert reasons[".env.production"] == "secret (.env*)"
    assert reasons[".npmrc"] == "secret (.npmrc with an auth token)"
    assert ".env.example" not in reasons  # a template, not a secret; not packed either: nothing asks for it


def test_a_secret_read_by_a_literal_path_stays_out_and_the_host_must_provide_it(tmp_path: Path) -> None:
    result = pack(project(tmp_path), output=tmp_path / "out/")
    reasons = excluded(result)

    assert reasons[".env"] == "secret (.env*), read by src/index.js:3: provide it on the host (shared/)"
    assert reasons["uploads/logo.png"].startswith("file git ignores (.gitignore), read by src/index.js:4")


def test_an_npmrc_without_a_token_ships_as_install_settings(tmp_path: Path) -> None:
    root = project(tmp_path, {".npmrc": "legacy-peer-deps=true\n"})
    result = pack(root, output=tmp_path / "out/")
    assert ".npmrc" in {f["path"] for f in result.files}
    assert result.selection.files[".npmrc"].reason == "install settings"


def test_an_include_glob_matching_a_secret_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path)
    with pytest.raises(PackError, match=r"include 'config/\*\*' matches config/server.key, which is a secret"):
        pack(root, output=tmp_path / "out/", include=["config/**"])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_include_glob_matching_a_git_ignored_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackError, match=r"uploads/logo\.png, which is a file git ignores"):
        pack(project(tmp_path), output=tmp_path / "out/", include=["uploads/"])


def test_allow_secret_lets_exactly_the_named_files_in(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = pack(
        root, output=tmp_path / "out/", include=["certs/**", "uploads/"], allow_secrets=["certs/cert.pem", "uploads/"]
    )
    files = {f["path"] for f in result.files}

    assert {"certs/cert.pem", "uploads/logo.png"} <= files
    assert "config/server.key" not in files


def test_an_env_template_can_be_included_without_allow_secret(tmp_path: Path) -> None:
    result = pack(project(tmp_path), output=tmp_path / "out/", include=[".env.example"])
    assert ".env.example" in {f["path"] for f in result.files}


def test_cli_refusal_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    root = project(tmp_path)
    done = run_cli("pack", str(root), "-o", str(tmp_path / "out/"), "--include", "config/**")

    assert done.returncode == 1
    assert done.stderr.startswith("deploysafe: error: include 'config/**' matches config/server.key")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_cli_lists_every_excluded_secret(tmp_path: Path) -> None:
    done = run_cli("pack", str(project(tmp_path)), "-o", str(tmp_path / "out/"))

    assert done.returncode == 0, done.stderr
    for line in (".env — secret (.env*)", "config/server.key — secret (*.key)", "certs/cert.pem — secret (*.pem)"):
        assert line in done.stdout


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        (".env", True),
        (".env.local", True),
        (".envrc", True),
        ("config/.env.production", True),
        (".env.example", False),
        (".env.sample", False),
        (".env.template", False),
        ("tls/server.key", True),
        ("ca.pem", True),
        ("keystore.p12", True),
        ("id_rsa", True),
        ("id_rsa.pub", True),
        ("id_ed25519", True),
        ("src/id_generator.js", False),  # why the rule is not every id_*
        ("keys.js", False),
        ("env.js", False),
        (".netrc", True),
    ],
)
def test_secret_name_rules(name: str, secret: bool) -> None:
    assert (secret_reason(name) is not None) is secret
