"""Root discovery as git and npm do it: a command run from a folder inside a project judges the project,
and a target name that names nothing is an error listing the names there are (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from deploysafe.rootfind import discover
from tests.support.projects import EXAMPLES, run_cli, write_tree

FIXED = EXAMPLES / "seed-api-fixed"


def test_check_from_a_subfolder_judges_the_project_with_its_own_entries(tmp_path: Path) -> None:
    from_root = run_cli("check", "--format", "json", cwd=FIXED)
    from_src = run_cli("check", "--format", "json", cwd=FIXED / "src")
    assert from_root.returncode == from_src.returncode == 0, from_src.stderr
    top, inside = json.loads(from_root.stdout), json.loads(from_src.stdout)
    assert inside["root"] == top["root"] == str(FIXED)
    assert inside["entries"] == top["entries"] == ["src/index.js", "src/workers/email-worker.js"]
    assert inside["summary"] == top["summary"]
    assert "package-lock.json" in inside["root_reason"]
    text = run_cli("check", cwd=FIXED / "src" / "workers")
    assert text.stdout.splitlines()[0] == f"root  {FIXED} (nearest folder with package.json, beside package-lock.json)"
    packed = run_cli("pack", "-o", str(tmp_path), "--entry", "index.js", cwd=FIXED / "src")
    assert packed.returncode == 0, packed.stderr
    assert f"root {FIXED}" in packed.stderr


def test_the_nearest_config_or_locked_package_is_the_root(tmp_path: Path) -> None:
    tree = write_tree(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            "package.json": {"name": "mono", "workspaces": ["packages/*"]},
            "package-lock.json": "{}",
            "packages/api/package.json": {"name": "api"},
            "packages/api/src/index.js": "",
            "svc/package.json": {"name": "svc"},
            "svc/package-lock.json": "{}",
            "svc/src/package.json": {"type": "module"},
            "svc/src/lib/x.js": "",
            "tools/deploysafe.toml": "",
            "tools/sub/package.json": {"name": "sub"},
            "plain/readme.txt": "",
        },
    )
    assert discover(tree / "svc" / "src" / "lib").path == tree / "svc"
    assert discover(tree / "packages" / "api" / "src").path == tree / "packages" / "api"  # a workspace
    found = discover(tree / "tools" / "sub")
    assert (found.path, found.reason) == (tree / "tools", "nearest folder with deploysafe.toml")
    assert discover(tree / "plain").path == tree  # the repository's package.json, beside its lockfile
    (tree / "package.json").unlink()
    assert discover(tree / "plain").path == tree / "plain"  # nothing above within the repository


def test_a_mistyped_target_is_an_error_naming_the_known_ones(tmp_path: Path) -> None:
    app = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app"},
            "deploysafe.toml": f'[targets.production]\npath = "{tmp_path / "srv"}"\n',
            "src/index.js": "",
        },
    )
    done = run_cli("status", "--to", "prodution", cwd=app / "src")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "deploysafe: error: unknown target 'prodution': not a [targets] name, an ssh:// URL or an existing "
        "deploy root (known targets: production)"
    )
    (tmp_path / "srv").mkdir()  # the [targets] name is found from a subfolder, too
    found = run_cli("status", "--to", "production", "--no-probe", "--format", "json", cwd=app / "src")
    assert found.returncode == 0, found.stderr
    assert run_cli("releases", "--to", str(tmp_path / "nowhere"), cwd=app).returncode == 2
