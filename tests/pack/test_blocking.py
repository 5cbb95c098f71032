"""pack refuses what check blocks, the way check does; --force packs anyway and says so in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploysafe import artifact
from deploysafe.pack import PackBlocked, pack
from tests.support.projects import run_cli


def test_blocked_project_is_refused_with_the_check_findings(blocked: Path, out: Path) -> None:
    with pytest.raises(PackBlocked) as caught:
        pack(blocked, output=out)

    assert caught.value.exit_code == 1
    assert len(caught.value.report.errors) >= 5
    assert not any(out.iterdir())


def test_cli_prints_the_findings_and_exits_1_without_writing(blocked: Path, out: Path) -> None:
    done = run_cli("pack", str(blocked), "-o", str(out))

    assert done.returncode == 1
    assert "src/routes/index.js:2:24 unresolved-import" in done.stdout
    assert "BLOCKED" in done.stdout
    assert done.stderr.startswith("deploysafe: error: pack refused: check found")
    assert "--force" in done.stderr
    assert not any(out.iterdir())


def test_cli_json_prints_the_check_report_when_blocked(blocked: Path, out: Path) -> None:
    done = run_cli("pack", str(blocked), "-o", str(out), "--format", "json")

    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["version"] == 1 and report["summary"]["errors"] >= 5


def test_force_packs_and_records_the_override_in_the_manifest(blocked: Path, out: Path) -> None:
    result = pack(blocked, output=out, force=True)
    manifest = artifact.read_manifest(result.path).raw

    assert manifest["check"]["forced"] is True
    assert manifest["check"]["summary"]["errors"] == len(manifest["check"]["overridden"]) >= 5
    rules = {item["rule"] for item in manifest["check"]["overridden"]}
    assert {"case-mismatch", "unresolved-import", "syntax-error"} <= rules
    assert result.verification is not None and not result.verification.self_contained


def test_cli_force_warns_and_exits_0(blocked: Path, out: Path) -> None:
    done = run_cli("pack", str(blocked), "-o", str(out), "--force")

    assert done.returncode == 0, done.stderr
    assert "forced" in done.stdout
    assert "PACKED (forced)" in done.stdout


def test_pack_refuses_a_typescript_service_whose_tsc_output_is_not_built(tmp_path: Path, out: Path) -> None:
    from tests.support.projects import write_tree

    root = write_tree(
        tmp_path / "api",
        {
            "package.json": {
                "name": "api",
                "version": "1.0.0",
                "scripts": {"build": "tsc", "start": "node dist/index.js"},
            },
            "tsconfig.json": {"compilerOptions": {"outDir": "dist", "rootDir": "src"}},
            "src/index.ts": "console.log('hi');\n",
        },
    )
    done = run_cli("pack", str(root), "-o", str(out))
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "deploysafe: error: the service runs dist/index.js, which tsc builds from src/index.ts and is not built yet: "
        "run the build (e.g. npm run build) before pack, so the artifact holds what Node runs"
    ]
    assert not any(out.iterdir())
