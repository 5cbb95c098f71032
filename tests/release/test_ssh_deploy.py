"""Deploys over SSH to a real OpenSSH sshd on 127.0.0.1 (asyncssh client, SFTP upload, port forward).

The good deploy and the health-gated rollback over SSH run on the bundled example under pm2 (test_pm2.py).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from deploysafe import release
from deploysafe.errors import TargetError
from deploysafe.hosts.ssh import MAX_CHANNELS, OPEN_ATTEMPTS, SshHost, parse_ssh_url
from deploysafe.release.events import NullReporter
from deploysafe.release.run import ReleaseFailed
from tests.support.netcut import CuttingProxy

from .conftest import current_of, history_of, serving

pytestmark = pytest.mark.slow


def test_dropped_connection_mid_upload_never_makes_a_partial_release_current(
    make_artifact, ssh_spec, sshd, host_root, live_port, tmp_path
):
    good = release.deploy(make_artifact("1.0.0"), ssh_spec)
    big = make_artifact("1.1.0", extra={"public/video.bin": os.urandom(3 * 1024 * 1024)})
    proxy = CuttingProxy(sshd.port, cut_after=1024 * 1024)
    via_proxy = _through(proxy, ssh_spec, sshd, host_root, tmp_path)
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


def _through(
    proxy: CuttingProxy, spec: release.TargetSpec, sshd, host_root: Path, tmp_path: Path
) -> release.TargetSpec:
    """``spec``'s target reached through ``proxy``."""
    known = sshd.write_known_hosts(tmp_path / "known_hosts_proxy", proxy.port)
    url = sshd.url(str(host_root), proxy.port)
    return release.TargetSpec(
        **{**release.target(spec, known_hosts=str(known)).__dict__, "url": url, "ssh": parse_ssh_url(url)}
    )


def _sockets_to(port: int) -> list[str]:
    """This process's open TCP sockets connected to 127.0.0.1:``port`` (from /proc), as "local -> remote"."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            link = os.readlink(fd)
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    lines = Path("/proc/self/net/tcp").read_text().splitlines()[1:]
    return [
        f"{fields[1]} -> {fields[2]} (state {fields[3]})"
        for fields in (line.split() for line in lines)
        if fields[9] in inodes and fields[2] == f"0100007F:{port:04X}"
    ]


class _DropAt(NullReporter):
    """Drops every connection through ``proxy`` when the run starts ``step``, as a network blip would."""

    def __init__(self, proxy: CuttingProxy, step: str) -> None:
        self.proxy, self.step = proxy, step

    def step_started(self, step: str, detail: str = "") -> None:
        if step == self.step and not self.proxy.cut.is_set():
            self.proxy.cut.set()
            self.proxy.drop()


def test_a_connection_lost_after_the_switch_is_opened_again_to_put_the_previous_release_back_then_closed(
    make_artifact, ssh_spec, sshd, host_root, live_port, tmp_path
):
    good = release.deploy(make_artifact("1.0.0"), ssh_spec)
    proxy = CuttingProxy(sshd.port, cut_after=1 << 62)
    try:
        with pytest.raises(ReleaseFailed) as failed:
            release.deploy(
                make_artifact("1.1.0"),
                _through(proxy, ssh_spec, sshd, host_root, tmp_path),
                reporter=_DropAt(proxy, "health"),
            )
        left = _sockets_to(proxy.port)
    finally:
        proxy.close()
    steps = {s.step: s.status for s in failed.value.result.steps}
    assert steps.get("rollback-reconnect") == steps.get("rollback-health") == "ok", steps
    assert current_of(host_root) == good.release and serving(live_port)["version"] == "1.0.0"
    assert left == []  # neither the lost connection nor the one opened again stays open


def test_a_connection_lost_as_the_switch_starts_stops_the_deploy_with_current_untouched(
    make_artifact, ssh_spec, sshd, host_root, live_port, tmp_path
):
    """Lost before the switch's rename: ``current`` still names the previous release, so nothing is put back
    and the run says the connection was lost (not that the host refused sessions, nor that it rolled back)."""
    good = release.deploy(make_artifact("1.0.0"), ssh_spec)
    new = make_artifact("1.1.0")
    proxy = CuttingProxy(sshd.port, cut_after=1 << 62)
    try:
        with pytest.raises(TargetError, match="connection lost during") as lost:
            release.deploy(new, _through(proxy, ssh_spec, sshd, host_root, tmp_path), reporter=_DropAt(proxy, "switch"))
    finally:
        proxy.close()
    assert not isinstance(lost.value, ReleaseFailed), lost.value
    assert current_of(host_root) == good.release and serving(live_port)["version"] == "1.0.0"
    assert release.deploy(new, ssh_spec).status == "good"  # straight to sshd: recovers what the lost run left
    assert history_of(host_root)[-2]["status"] == "interrupted"


def test_unknown_host_key_is_refused_unless_trusted_on_first_use(sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    address = parse_ssh_url(sshd.url(str(tmp_path / "t")))
    with pytest.raises(TargetError, match="--trust-new-host-key"):
        SshHost(address, known_hosts=str(empty), identity=str(sshd.key))

    target = SshHost(address, known_hosts=str(empty), identity=str(sshd.key), trust_new_host_key=True)
    target.close()
    assert sshd.host_public_key.split()[1] in empty.read_text()
    SshHost(address, known_hosts=str(empty), identity=str(sshd.key)).close()  # now known


def test_changed_host_key_is_refused_even_with_trust_on_first_use(sshd, tmp_path, sshd_factory):
    other = sshd_factory()
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd.port} {other.host_public_key}\n")
    address = parse_ssh_url(sshd.url(str(tmp_path / "t")))
    with pytest.raises(TargetError, match="HOST KEY MISMATCH"):
        SshHost(address, known_hosts=str(wrong), identity=str(sshd.key), trust_new_host_key=True)


def _target(server, path) -> SshHost:
    return SshHost(parse_ssh_url(server.url(str(path))), known_hosts=str(server.known_hosts), identity=str(server.key))


def _run_at_once(target: SshHost, argv: list[str], threads: int, each: int = 1) -> list[int | str]:
    results: list[int | str] = []

    def work() -> None:
        for _ in range(each):
            try:
                results.append(target.run(argv).returncode)
            except TargetError as err:
                results.append(str(err))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def test_many_concurrent_commands_stay_under_the_session_limit(sshd_factory, tmp_path):
    # sshd allowing exactly MAX_CHANNELS sessions: the tightest host the cap promises to work with. Short
    # commands from many threads churn sessions as fast as they can, which is when sshd, freeing a
    # session only after reaping its child, lags behind the client (a refused open, once seen in CI).
    server = sshd_factory(max_sessions=MAX_CHANNELS)
    target = _target(server, tmp_path)
    try:
        target.read_file(str(tmp_path / "nothing"))  # the SFTP channel is open too
        results = _run_at_once(target, ["true"], threads=24, each=8) + _run_at_once(target, ["sleep", "0.2"], 24)
    finally:
        target.close()
    assert results == [0] * (24 * 8 + 24)


def test_a_refused_session_open_is_retried_until_a_session_is_free(sshd_factory, tmp_path):
    server = sshd_factory(max_sessions=3)  # SFTP and two commands: the other commands are refused at first
    target = _target(server, tmp_path)
    try:
        target.read_file(str(tmp_path / "nothing"))
        results = _run_at_once(target, ["sleep", "0.2"], threads=6)
    finally:
        target.close()
    assert results == [0] * 6
    assert target.refused_opens > 0


def test_a_host_that_keeps_refusing_sessions_fails_in_one_line(sshd_factory, tmp_path):
    server = sshd_factory(max_sessions=1)  # the SFTP session takes the only one
    target = _target(server, tmp_path)
    try:
        target.read_file(str(tmp_path / "nothing"))
        with pytest.raises(TargetError, match=f"refused a new SSH session {OPEN_ATTEMPTS} times") as err:
            target.run(["true"])
    finally:
        target.close()
    assert "\n" not in str(err.value) and "MaxSessions" in str(err.value)


def test_byte_stream_carries_bytes_that_are_not_text_both_ways(sshd, tmp_path):
    payload = bytes(range(256)) * 64 + b"\0\xff\xfe end"
    target = _target(sshd, tmp_path)
    try:
        done = target.run_bytes(["cat"], stdin=(payload[i : i + 1000] for i in range(0, len(payload), 1000)))
        assert done.ok and done.stdout == payload
        with target.stream(["sh", "-c", 'printf "ready\\0"; cat; echo oops >&2; exit 3']) as stream:
            assert stream.read() == b"ready\0"
            stream.send(payload)
            echoed = b"".join(stream)
            status, stderr = stream.wait()
        assert (echoed, status, stderr) == (payload, 3, b"oops\n")
        assert target.run(["true"]).ok  # the stream gave its channel back
    finally:
        target.close()


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
