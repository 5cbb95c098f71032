"""The CI recipe: the composite action (action.yml at the repository root) and the workflow in examples/ci/
that uses it pass the linters (GitHub's schemas, zizmor, shellcheck on the action's scripts) and the action's
check step does what it says; the plain shell script blocks the broken example and passes the fixed one."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.projects import REPO

CI = REPO / "examples" / "ci"
WORKFLOW = CI / "deploysafe.yml"
ACTION = REPO / "action.yml"
SCRIPT = CI / "deploysafe-check.sh"
BIN = str(Path(sys.executable).parent)  # the venv's tools: deploysafe, zizmor, check-jsonschema, shellcheck


def tool(name: str) -> str:
    found = shutil.which(name, path=BIN + os.pathsep + os.environ.get("PATH", ""))
    if found is None:
        message = f"{name} is not installed (pip install -e '.[test]' brings it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _yaml(path: Path) -> dict:
    from ruamel.yaml import YAML  # installed with check-jsonschema

    return YAML(typ="safe").load(path.read_text())


def workflow() -> dict:
    return _yaml(WORKFLOW)


def action() -> dict:
    return _yaml(ACTION)


def run_steps() -> dict[str, str]:
    steps = action()["runs"]["steps"]
    return {s.get("name", f"step {i}"): s["run"] for i, s in enumerate(steps) if "run" in s}


@pytest.mark.parametrize(("path", "schema"), [(WORKFLOW, "github-workflows"), (ACTION, "github-actions")])
def test_workflow_and_action_are_valid_against_github_schemas(path: Path, schema: str):
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", f"vendor.{schema}", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_and_action_pass_the_zizmor_audit():
    done = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(WORKFLOW), str(ACTION)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_scripts_pass_shellcheck(tmp_path):
    shellcheck = tool("shellcheck")
    for name, script in run_steps().items():
        body = re.sub(r"\$\{\{[^}]*\}\}", "x", script)  # expressions are substituted before bash runs
        path = tmp_path / "step.sh"
        path.write_text("#!/bin/bash\nset -eo pipefail\n" + body)  # GitHub's default shell for run steps
        done = subprocess.run([shellcheck, str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{name}:\n{done.stdout}"


def test_action_uploads_the_sarif_and_fails_the_job_on_errors_and_the_workflow_uses_it():
    steps = action()["runs"]["steps"]
    assert action()["runs"]["using"] == "composite"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "deploysafe.sarif"
    assert "always()" in upload["if"]
    fail = steps[-1]
    assert fail["if"] == "inputs.fail-on-blocked == 'true' && steps.check.outputs.status != '0'"
    assert "exit 1" in fail["run"]
    job = workflow()["jobs"]["check"]
    assert job["permissions"]["security-events"] == "write"
    assert any(str(s.get("uses", "")).startswith("OWNER/deploysafe@") for s in job["steps"])


def run_check_step(tmp_path: Path, service: Path) -> tuple[subprocess.CompletedProcess, str]:
    """The workflow's check step, run by bash as a runner would, with deploysafe from this checkout."""
    output = tmp_path / "github_output"
    output.touch()
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], "NO_COLOR": "1"}
    env |= {"SERVICE": str(service), "GITHUB_OUTPUT": str(output)}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run_steps()["Check the import closure"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, output.read_text()


def test_workflow_check_step_records_exit_1_for_a_blocked_service_and_writes_its_reports(tmp_path):
    done, output = run_check_step(tmp_path, REPO / "examples" / "seed-api")
    assert done.returncode == 0, done.stderr  # the step itself passes: the last step fails the job
    assert output.strip() == "status=1"
    assert "BLOCKED" in done.stdout
    sarif = json.loads((tmp_path / "deploysafe.sarif").read_text())
    assert sum(r["level"] == "error" for r in sarif["runs"][0]["results"]) == 9
    assert (tmp_path / "deploysafe.html").read_text().startswith("<!doctype html>")


def test_workflow_check_step_records_exit_0_for_a_deployable_service(tmp_path):
    done, output = run_check_step(tmp_path, REPO / "examples" / "seed-api-fixed")
    assert done.returncode == 0, done.stderr
    assert output.strip() == "status=0"


def test_shell_recipe_passes_shellcheck():
    done = subprocess.run([tool("shellcheck"), str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout


def run_script(tmp_path: Path, service: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"], "DEPLOYSAFE_OUT": str(tmp_path / "out")}
    env["NO_COLOR"] = "1"
    return subprocess.run(["sh", str(SCRIPT), str(service)], env=env, capture_output=True, text=True, timeout=120)


def test_shell_recipe_exits_1_for_the_broken_example_and_keeps_the_reports(tmp_path):
    done = run_script(tmp_path, REPO / "examples" / "seed-api")
    assert done.returncode == 1, done.stderr
    assert "BLOCKED" in done.stdout
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["deploysafe.html", "deploysafe.json", "deploysafe.sarif"]
    assert json.loads((out / "deploysafe.json").read_text())["summary"]["errors"] == 9


def test_shell_recipe_exits_0_for_the_fixed_example(tmp_path):
    done = run_script(tmp_path, REPO / "examples" / "seed-api-fixed")
    assert done.returncode == 0, done.stderr
    assert "DEPLOYABLE" in done.stdout


def test_shell_recipe_exits_2_when_deploysafe_cannot_run(tmp_path):
    done = run_script(tmp_path, tmp_path / "no-such-service")
    assert done.returncode == 2
    assert "no such directory" in done.stderr
