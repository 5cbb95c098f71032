"""What goes wrong while reading a tree says so in one line: files that vanish or cannot be read, a
host without the tools, a host that drops, a path that is not there. Never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deploysafe.drift import drift, inventory_directory, open_source
from tests.drift.conftest import BASE_TOOLS, build_local, build_prod, ssh_args
from tests.support.netcut import CuttingProxy
from tests.support.projects import run_cli
from tests.support.sshd import Sshd


def vanishing(victim: Path):
    """A progress callback that deletes ``victim`` once the listing is done, before any hashing."""

    def progress(phase: str, done: int, total: int | None) -> None:
        if done == 0 and victim.exists():
            victim.unlink()

    return progress


def one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr


def test_a_file_vanishing_mid_scan_is_reported_not_raised(tmp_path):
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    for name in ("a.js", "b.js", "sub/c.js"):
        (root / name).write_text(name)
    found = inventory_directory(root, progress=vanishing(root / "b.js"))
    assert sorted(found.files) == ["a.js", "sub/c.js"]
    assert [(p.path, p.message) for p in found.problems] == [
        ("b.js", "vanished during the scan (deleted or renamed while deploysafe read the tree)")
    ]


@pytest.mark.parametrize("tool", ["python3", "sha256sum"])
def test_a_file_vanishing_on_the_host_mid_scan_is_reported(tmp_path, host_with, tool):
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("a.js", "b.js", "c.js"):
        (root / name).write_text(name)
    host = host_with(*BASE_TOOLS, tool)
    tree, _ = open_source(host.url(root), **host.options())
    try:
        found = tree.inventory(vanishing(root / "b.js"))
    finally:
        tree.close()
    assert sorted(found.files) == ["a.js", "c.js"]
    assert [p.path for p in found.problems] == ["b.js"]
    assert found.problems[0].message.startswith("vanished during the scan")


def test_drift_goes_on_when_a_production_file_vanishes_and_lists_it(tmp_path):
    local, prod = build_local(tmp_path / "local"), build_prod(tmp_path / "prod")
    gone = prod / "src/routes/admin-agents.js"
    report = drift(
        local,
        str(prod),
        progress=lambda phase, done, total: vanishing(gone)(phase, done, total) if str(prod) in phase else None,
    )
    assert [(u.side, u.path) for u in report.unreadable] == [("source", "src/routes/admin-agents.js")]
    assert "src/routes/admin-agents.js" not in {s.path for s in report.source_only_dormant}
    assert len(report.needed) == 3


SETPRIV = shutil.which("setpriv")
NO_DAC = "-dac_override,-dac_read_search"


def run_without_root_override(*args: str) -> subprocess.CompletedProcess:
    """The real CLI as root without the capabilities that let root read any file: mode 000 then binds."""
    assert SETPRIV is not None
    env = {**os.environ, "NO_COLOR": "1"}
    argv = [SETPRIV, f"--inh-caps={NO_DAC}", f"--bounding-set={NO_DAC}", sys.executable, "-m", "deploysafe", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.skipif(SETPRIV is None or os.geteuid() != 0, reason="needs root and setpriv (util-linux)")
def test_an_unreadable_production_file_is_listed_and_the_rest_compared(tmp_path):
    local, prod = build_local(tmp_path / "local"), build_prod(tmp_path / "prod")
    (prod / "src/routes/admin-agents.js").chmod(0o000)
    done = run_without_root_override("drift", str(local), "--against", str(prod), "--format", "json")
    assert "Traceback" not in done.stderr, done.stderr
    data = json.loads(done.stdout)
    assert data["unreadable"] == [
        {"side": "source", "path": "src/routes/admin-agents.js", "message": "permission denied: cannot read it"}
    ]
    assert sorted(n["path"] for n in data["needed"]) == [
        "src/config/database.js",
        "src/config/dialplan.xml",
        "src/services/freeswitch.js",
    ]
    assert done.returncode == 1
    text = run_without_root_override("drift", str(local), "--against", str(prod))
    assert "unreadable (1)" in text.stdout and "permission denied" in text.stdout, text.stdout + text.stderr


def test_a_host_without_sha256sum_or_python3_is_one_line(tmp_path, host_with):
    local, prod = build_local(tmp_path / "local"), build_prod(tmp_path / "prod", node_modules=False)
    host = host_with("sh", "find", "xargs", "readlink", "cat")
    done = run_cli(
        "drift",
        str(local),
        "--against",
        host.url(prod),
        "--known-hosts",
        str(host.known_hosts),
        "--identity",
        str(host.key),
    )
    one_line_error(done, "it has neither python3 nor sha256sum", "install one of them")


def test_a_host_that_drops_mid_inventory_is_one_line(tmp_path, sshd: Sshd):
    local = build_local(tmp_path / "local")
    prod = tmp_path / "prod"
    for i in range(3000):  # enough names that the client is still sending them when the link is cut
        path = prod / f"dir{i % 30}" / f"file-{i:05d}-with-a-long-name-to-send.js"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(i))
    proxy = CuttingProxy(sshd.port, cut_after=40_000)
    try:
        known = sshd.write_known_hosts(tmp_path / "known", proxy.port)
        done = run_cli(
            "drift", str(local), "--against", sshd.url(str(prod), port=proxy.port),
            "--known-hosts", str(known), "--identity", str(sshd.key), timeout=60,
        )  # fmt: skip
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    one_line_error(done, "connection")


def test_a_missing_remote_directory_is_one_line(tmp_path, sshd: Sshd):
    local = build_local(tmp_path / "local")
    done = run_cli("drift", str(local), "--against", sshd.url(str(tmp_path / "nowhere")), *ssh_args(sshd))
    one_line_error(done, "no such directory on 127.0.0.1", str(tmp_path / "nowhere"))


def test_an_unknown_host_key_is_refused_in_one_line(tmp_path, sshd: Sshd):
    local = build_local(tmp_path / "local")
    (tmp_path / "empty_known_hosts").write_text("")
    done = run_cli(
        "drift", str(local), "--against", sshd.url(str(tmp_path)),
        "--known-hosts", str(tmp_path / "empty_known_hosts"), "--identity", str(sshd.key),
    )  # fmt: skip
    one_line_error(done, "host key of 127.0.0.1 is not in")
