"""The command line: help that teaches, the manifest as JSON, one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from deploysafe import artifact
from tests.support.projects import run_cli


def test_pack_help_teaches_with_examples() -> None:
    done = run_cli("pack", "--help")

    assert done.returncode == 0
    for text in ("Examples:", "deploysafe pack examples/seed-api-fixed", "--allow-secret", "[pack]", "include ="):
        assert text in done.stdout


def test_verify_help_teaches_with_examples() -> None:
    done = run_cli("verify", "--help")
    assert done.returncode == 0
    assert "Examples:" in done.stdout and "--install" in done.stdout


def test_format_json_prints_exactly_the_packed_manifest(fixed: Path, out: Path) -> None:
    done = run_cli("pack", str(fixed), "-o", str(out), "--format", "json")

    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    (path,) = out.glob("*.tar.gz")
    assert manifest == artifact.read_manifest(path).raw
    assert path.name == f"{manifest['id']}.tar.gz"


def test_text_output_names_the_artifact_and_what_was_left_out(fixed: Path, out: Path) -> None:
    done = run_cli("pack", str(fixed), "-o", str(out))

    assert done.returncode == 0, done.stderr
    assert "src/db/schema.sql ← read by src/db/connection.js:4" in done.stdout
    assert "src/legacy/public-signup.js" in done.stdout
    assert ".env — secret (.env*)" in done.stdout
    assert "PACKED seed-api-1.4.0-" in done.stdout
    assert "\x1b[" not in done.stdout + done.stderr  # no colours or progress bars when not a terminal


def test_missing_root_is_a_one_line_usage_error(tmp_path: Path) -> None:
    done = run_cli("pack", str(tmp_path / "nope"))

    assert done.returncode == 2
    assert done.stderr == f"deploysafe: error: {tmp_path / 'nope'}: no such directory\n"


def test_output_that_cannot_be_created_is_a_one_line_error(fixed: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = run_cli("pack", str(fixed), "-o", str(blocker / "sub" / "a.tar.gz"))

    assert done.returncode == 1
    assert done.stderr.startswith("deploysafe: error: cannot write the artifact to")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_bad_pack_config_is_a_one_line_configuration_error(fixed: Path, out: Path) -> None:
    (fixed / "deploysafe.toml").write_text('[pack]\ninclude = "public/**"\nexclude = 3\n')
    done = run_cli("pack", str(fixed), "-o", str(out))

    assert done.returncode == 2
    assert done.stderr == "deploysafe: error: deploysafe.toml: [pack] exclude must be a list of strings\n"


def test_verify_of_a_missing_artifact_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("verify", str(tmp_path / "none.tar.gz"))
    assert done.returncode == 2
    assert done.stderr == f"deploysafe: error: {tmp_path / 'none.tar.gz'}: no such artifact\n"
