"""Deploys over SSH to a real OpenSSH sshd on 127.0.0.1 (asyncssh client, SFTP upload, port forward).

The good deploy and the health-gated rollback over SSH run on the bundled example under pm2 (test_pm2.py).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from deploysafe import release
from deploysafe.errors import TargetError
from deploysafe.release.ssh import SshTarget, parse_ssh_url
from tests.support.netcut import CuttingProxy

from .conftest import current_of, history_of, serving

pytestmark = pytest.mark.slow


def test_dropped_connection_mid_upload_never_makes_a_partial_release_current(
    make_artifact, ssh_spec, sshd, host_root, live_port, tmp_path
):
    good = release.deploy(make_artifact("1.0.0"), ssh_spec)
    big = make_artifact("1.1.0", extra={"public/video.bin": os.urandom(3 * 1024 * 1024)})
    proxy = CuttingProxy(sshd.port, cut_after=1024 * 1024)
    known = sshd.write_known_hosts(tmp_path / "known_hosts_proxy", proxy.port)
    via_proxy = release.target(ssh_spec, known_hosts=str(known))
    via_proxy = release.TargetSpec(
        **{
            **via_proxy.__dict__,
            "url": sshd.url(str(host_root), proxy.port),
            "ssh": parse_ssh_url(sshd.url(str(host_root), proxy.port)),
        }
    )
    try:
        with pytest.raises(TargetError, match="connection lost") as err:
            release.deploy(big, via_proxy)
    finally:
        proxy.close()
    assert proxy.cut.is_set()
    assert "\n" not in str(err.value)
    assert current_of(host_root) == good.release
    assert serving(live_port)["version"] == "1.0.0"
    leftovers = [p.name for p in (host_root / "releases").iterdir()]
    assert any(name.startswith(".incoming-") for name in leftovers)
    assert not any(name.startswith("release-app-1.1.0") for name in leftovers)

    result = release.deploy(big, ssh_spec)  # straight to sshd: recovers the lock, removes .incoming-
    assert result.status == "good"
    assert serving(live_port)["version"] == "1.1.0"
    assert not any(p.name.startswith(".incoming-") for p in (host_root / "releases").iterdir())
    assert history_of(host_root)[-2]["status"] == "interrupted"


def test_unknown_host_key_is_refused_unless_trusted_on_first_use(sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    address = parse_ssh_url(sshd.url(str(tmp_path / "t")))
    with pytest.raises(TargetError, match="--trust-new-host-key"):
        SshTarget(address, known_hosts=str(empty), identity=str(sshd.key))

    target = SshTarget(address, known_hosts=str(empty), identity=str(sshd.key), trust_new_host_key=True)
    target.close()
    assert sshd.host_public_key.split()[1] in empty.read_text()
    SshTarget(address, known_hosts=str(empty), identity=str(sshd.key)).close()  # now known


def test_changed_host_key_is_refused_even_with_trust_on_first_use(sshd, tmp_path, sshd_factory):
    other = sshd_factory()
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd.port} {other.host_public_key}\n")
    address = parse_ssh_url(sshd.url(str(tmp_path / "t")))
    with pytest.raises(TargetError, match="HOST KEY MISMATCH"):
        SshTarget(address, known_hosts=str(wrong), identity=str(sshd.key), trust_new_host_key=True)


def test_many_concurrent_commands_stay_under_the_session_limit(sshd, tmp_path):
    target = SshTarget(
        parse_ssh_url(sshd.url(str(tmp_path))), known_hosts=str(sshd.known_hosts), identity=str(sshd.key)
    )
    results: list[int] = []
    try:
        target.read_file(str(tmp_path / "nothing"))  # the SFTP channel is open too

        def work() -> None:
            results.append(target.run(["sleep", "0.3"]).returncode)

        threads = [threading.Thread(target=work) for _ in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        target.close()
    assert results == [0] * 24


def test_paths_and_commands_with_shell_metacharacters_are_quoted(make_artifact, sshd, tmp_path, live_port):
    root = tmp_path / "srv" / "it's $(touch PWNED) app"
    spec = release.target(
        sshd.url(str(root)),
        config={},
        restart="sh bin/restart.sh",
        health=f"http://127.0.0.1:{live_port}/health",
        env={"PORT": str(live_port), "GREETING": "a b; $(touch PWNED2)"},
        known_hosts=str(sshd.known_hosts),
        identity=str(sshd.key),
        health_interval=0.2,
        health_passes=2,
    )
    result = release.deploy(make_artifact("1.0.0"), spec)
    assert result.status == "good"
    assert serving(live_port)["version"] == "1.0.0"
    assert not list(Path("/").glob("PWNED*")) and not list(Path.home().glob("PWNED*"))
    assert not list(tmp_path.rglob("PWNED*"))
