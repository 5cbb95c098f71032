"""drift against production on a real sshd (127.0.0.1): the same classes as against the directory,
deployed layouts read through ``current``, targets named in deploysafe.toml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from deploysafe import check
from deploysafe.drift import drift
from tests.drift.conftest import BASE_TOOLS, EXPECTED, build_prod, classes, json_classes, ssh_args, ssh_options
from tests.drift.test_classes import load_entry
from tests.support.projects import run_cli, write_tree
from tests.support.sshd import Sshd


def deployed(root: Path, tree: Path, release: str = "20251103-1526-ab12cd34") -> Path:
    """A deploysafe host layout: releases/<id> holding ``tree``, an older release, current -> the new one."""
    (root / "releases").mkdir(parents=True)
    (root / "shared").mkdir()
    old = root / "releases" / "20251030-0900-00000000"
    old.mkdir()
    (old / "package.json").write_text('{"name": "seed-api", "version": "0.9.0", "type": "module"}\n')
    shutil.move(str(tree), root / "releases" / release)
    (root / "current").symlink_to(f"releases/{release}")
    return root


def test_a_host_gives_the_same_classes_as_the_directory(local, prod, sshd: Sshd):
    report = drift(local, sshd.url(str(prod)), **ssh_options(sshd))
    assert classes(report) == EXPECTED
    assert (report.source.kind, report.tool, report.release) == ("ssh", "python3", None)
    assert report.source_closure is not None and report.source_closure.complete is True
    assert report.source_closure.packages == "root"


def test_a_host_with_only_sha256sum_gives_the_same_classes(local, prod, host_with):
    host = host_with(*BASE_TOOLS, "sha256sum")
    report = drift(local, host.url(prod), **host.options())
    assert report.tool == "sha256sum"
    assert classes(report) == EXPECTED


def test_a_login_script_that_prints_a_banner_does_not_confuse_the_streams(local, prod, host_with):
    host = host_with(*BASE_TOOLS, "python3", chatter="Welcome to production. Authorized use only.")
    report = drift(local, host.url(prod), **host.options())
    assert classes(report) == EXPECTED
    assert report.after is not None and report.after.deployable  # the needed files were fetched intact


def test_a_deployed_host_is_compared_through_current(local, tmp_path, sshd: Sshd):
    root = deployed(tmp_path / "srv/api", build_prod(tmp_path / "build", node_modules=False))
    done = run_cli("drift", str(local), "--against", sshd.url(str(root)), *ssh_args(sshd), "--format", "json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert json_classes(data) == EXPECTED
    assert data["source"]["release"] == "releases/20251103-1526-ab12cd34"
    assert data["source_closure"]["complete"] is True


def test_a_deployed_release_whose_own_closure_is_broken_says_so(local, tmp_path, sshd: Sshd):
    build = build_prod(tmp_path / "build", node_modules=False)
    (build / "src/services/freeswitch.js").unlink()  # production itself lost it: the seeds' crash
    root = deployed(tmp_path / "srv/api", build)
    report = drift(local, sshd.url(str(root)), **ssh_options(sshd))
    closure = report.source_closure
    assert closure is not None and closure.complete is False
    assert [(f.file, f.specifier) for f in closure.missing] == [("src/routes/voice.js", "../services/freeswitch.js")]
    assert closure.missing[0].chain == ("src/index.js", "src/routes/index.js", "src/routes/voice.js")
    assert report.needed == []  # nothing to take from it: the file is missing there too
    text = run_cli("drift", str(local), "--against", sshd.url(str(root)), *ssh_args(sshd)).stdout
    assert "own closure: INCOMPLETE — 1 import(s)" in text


def test_pull_needed_from_a_host_makes_check_pass_and_node_load(local, prod, sshd: Sshd):
    done = run_cli("drift", str(local), "--against", sshd.url(str(prod)), *ssh_args(sshd), "--pull-needed")
    assert done.returncode == 0, done.stdout + done.stderr
    for rel in EXPECTED["needed"]:
        assert (local / rel).read_bytes() == (prod / rel).read_bytes()
    assert check(local).deployable
    assert load_entry(local).returncode == 0


def test_a_target_name_reaches_its_host(local, tmp_path, sshd: Sshd):
    root = deployed(tmp_path / "srv/api", build_prod(tmp_path / "build", node_modules=False))
    write_tree(
        local,
        {
            "deploysafe.toml": (
                "[targets.production]\n"
                f'host = "ssh://{sshd.user}@127.0.0.1:{sshd.port}"\n'
                f'path = "{root}"\n'
                f'known_hosts = "{sshd.known_hosts}"\n'
                f'identity = "{sshd.key}"\n'
            )
        },
    )
    done = run_cli("drift", str(local), "--against", "production", cwd=local)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("NEEDED 3 files production has are needed by src/index.js")
    assert "release releases/20251103-1526-ab12cd34" in done.stdout


def test_a_target_on_this_machine_is_compared_through_current(local, tmp_path):
    root = deployed(tmp_path / "srv/api", build_prod(tmp_path / "build"))
    write_tree(local, {"deploysafe.toml": f'[targets.staging]\npath = "{root}"\n'})
    report = drift(local, "staging")
    assert classes(report) == {**EXPECTED, "local-only": {**EXPECTED["local-only"], "deploysafe.toml": "config"}}
    assert report.release == "releases/20251103-1526-ab12cd34"
    assert report.source.target == "staging"
