"""The health gate's parts, each on its own against real servers on 127.0.0.1: the status, the body, the
count of consecutive passes, the deadline, the probe timeout, TCP and command probes, and what a window's
``alive`` and ``watch`` may say. Each test fails when its part is broken, whatever the others do (the
deploy tests' unhealthy releases fail status *and* body at once, so they cannot tell).
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploysafe.errors import ConfigError
from deploysafe.hosts.local import LocalHost
from deploysafe.release.health import (
    MissingVersion,
    Patience,
    Probe,
    ProbeResult,
    Vetting,
    parse_probe,
    session,
    window,
)


class _QuietServer(ThreadingHTTPServer):
    """A probe that gives up on a slow answer closes its connection: the write that follows is expected to
    fail, and is not printed as a traceback. Any other error still is."""

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class Scripted:
    """A real HTTP server answering from a script of (status, body, delay); the last answer repeats."""

    def __init__(self, answers: list[tuple[int, str, float]], tls: ssl.SSLContext | None = None) -> None:
        self.answers = list(answers)
        self.served = 0
        self.location = "/elsewhere"  # where a 3xx answer points
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                index = min(script.served, len(script.answers) - 1)
                script.served += 1
                status, body, delay = script.answers[index]
                if delay:
                    time.sleep(delay)
                data = body.encode()
                self.send_response(status)
                self.send_header("content-length", str(len(data)))
                if 300 <= status < 400:
                    self.send_header("location", script.location)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)  # the kernel picks a free port: no race
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator:
    started: list[Scripted] = []

    def start(*answers: tuple[int, str] | tuple[int, str, float]) -> Scripted:
        server = Scripted([(a[0], a[1], a[2] if len(a) > 2 else 0.0) for a in answers])
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def judge(probe: Probe, tmp_path: Path, *, passes: int = 1, deadline: float = 2.0, interval: float = 0.01, **kwargs):
    with session(LocalHost(tmp_path), probe, cwd=str(tmp_path), env={}) as probing:
        return window(probing, passes=passes, interval=interval, deadline=deadline, poll=interval, **kwargs)


def http(server: Scripted, expect: str | None = None, timeout: float = 2.0) -> Probe:
    return parse_probe(f"http://127.0.0.1:{server.port}/health", expect=expect, timeout=timeout)


# ---- status ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 204, 299])
def test_a_2xx_status_passes(serve, tmp_path, status):
    verdict = judge(http(serve((status, "ok"))), tmp_path)
    assert verdict.ok, verdict.results
    assert verdict.results[0].detail.startswith(f"HTTP {status}")
    assert 0 <= verdict.seconds < 2.0  # the window's own time, as the report shows it


@pytest.mark.parametrize("status", [300, 301, 404, 500, 503])
def test_any_other_status_fails_even_with_the_expected_body(serve, tmp_path, status):
    verdict = judge(http(serve((status, '{"status":"healthy"}')), expect="healthy"), tmp_path, deadline=0.3)
    assert not verdict.ok
    assert all(r.detail.startswith(f"HTTP {status}") for r in verdict.results)
    assert verdict.reason == "no pass within 0.3s"
    assert 0 <= verdict.seconds < 5.0


def test_a_proxy_named_in_the_environment_is_not_used(serve, tmp_path, monkeypatch):
    proxy = serve((200, "a proxy answering for everything"))  # a deploy from behind a proxy: it is never asked
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    service = serve((200, "healthy"))
    verdict = judge(http(service, expect="healthy"), tmp_path)
    assert verdict.ok, verdict.results
    assert proxy.served == 0 and service.served == 1


def test_a_redirect_is_not_followed(serve, tmp_path):
    healthy = serve((200, "healthy"))
    moved = serve((302, "moved"))
    moved.location = f"http://127.0.0.1:{healthy.port}/health"  # following it would find a healthy answer
    verdict = judge(http(moved, expect="healthy"), tmp_path, deadline=0.2)
    assert not verdict.ok
    assert verdict.results[0].detail.startswith("HTTP 302")
    assert healthy.served == 0


# ---- body --------------------------------------------------------------------------------------------


def test_a_2xx_without_the_expected_text_fails_and_the_reason_says_so(serve, tmp_path):
    verdict = judge(http(serve((200, '{"status":"starting"}')), expect='"status":"healthy"'), tmp_path, deadline=0.3)
    assert not verdict.ok
    assert verdict.results[-1].detail.startswith('HTTP 200 but body lacks \'"status":"healthy"\'')
    assert verdict.reason == 'no pass within 0.3s: the body lacks \'"status":"healthy"\''


def test_the_expected_text_anywhere_in_the_body_passes(serve, tmp_path):
    verdict = judge(http(serve((200, '{"status":"healthy","version":"1.2.0"}')), expect='"version":"1.2.0"'), tmp_path)
    assert verdict.ok


def test_the_expected_text_late_in_a_long_body_passes_and_the_report_quotes_its_first_160_characters(serve, tmp_path):
    verdict = judge(http(serve((200, "x" * 5000 + "ready")), expect="ready"), tmp_path)
    assert verdict.ok, verdict.results
    assert verdict.results[0].detail == "HTTP 200: " + "x" * 160


def test_without_an_expectation_any_2xx_body_passes(serve, tmp_path):
    assert judge(http(serve((200, ""))), tmp_path).ok


# ---- consecutive passes ------------------------------------------------------------------------------


def test_the_window_needs_the_asked_number_of_consecutive_passes(serve, tmp_path):
    server = serve((200, "ok"), (500, "blip"), (200, "ok"), (200, "ok"), (200, "ok"))
    verdict = judge(http(server), tmp_path, passes=3)
    assert verdict.ok
    assert [r.ok for r in verdict.results] == [True, False, True, True, True]  # the blip reset the count


def test_passes_that_are_never_consecutive_never_pass(serve, tmp_path):
    server = serve(*[(200, "ok"), (500, "blip")] * 50)
    verdict = judge(http(server), tmp_path, passes=2, deadline=0.5)
    assert not verdict.ok
    assert verdict.reason == "no 2 consecutive passes within 0.5s"
    assert sum(r.ok for r in verdict.results) >= 2


def test_one_pass_is_enough_when_one_is_asked(serve, tmp_path):
    server = serve((200, "ok"), (500, "down"))
    verdict = judge(http(server), tmp_path, passes=1)
    assert verdict.ok and len(verdict.results) == 1


# ---- deadline ----------------------------------------------------------------------------------------


def test_a_service_that_never_passes_fails_at_the_deadline_not_before_and_not_long_after(serve, tmp_path):
    server = serve((503, "down"))
    started = time.monotonic()
    verdict = judge(http(server), tmp_path, deadline=0.6, interval=0.05)
    took = time.monotonic() - started
    assert not verdict.ok
    assert 0.5 <= took < 0.6 + 1.0
    assert verdict.reason == "no pass within 0.6s"
    assert len(verdict.results) >= 5  # it kept probing until the deadline


def test_a_service_that_passes_before_the_deadline_passes(serve, tmp_path):
    server = serve(*[(503, "starting")] * 5, (200, "ok"))
    verdict = judge(http(server), tmp_path, passes=2, deadline=5.0, interval=0.02)
    assert verdict.ok
    assert [r.ok for r in verdict.results] == [False] * 5 + [True, True]


def test_a_probe_that_gets_no_answer_within_its_timeout_fails(serve, tmp_path):
    server = serve((200, "ok", 1.5))
    verdict = judge(http(server, timeout=0.3), tmp_path, deadline=0.2)
    assert not verdict.ok
    assert verdict.results[0].detail == "no answer within 0.3s"


def test_nothing_listening_fails_with_no_response(tmp_path):
    with socket.socket() as held:  # a port the kernel gave us and nobody listens on while we hold it
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        verdict = judge(parse_probe(f"http://127.0.0.1:{port}/"), tmp_path, deadline=0.2)
    assert not verdict.ok
    assert verdict.results[0].detail.startswith("no response")


# ---- tcp and command probes --------------------------------------------------------------------------


def test_tcp_probe_passes_when_the_port_accepts_and_fails_when_not(tmp_path):
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert judge(parse_probe(f"tcp://127.0.0.1:{port}"), tmp_path).ok
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        verdict = judge(parse_probe(f"tcp://127.0.0.1:{port}"), tmp_path, deadline=0.2)
    assert not verdict.ok
    assert "ECONNREFUSED" in verdict.results[0].detail


def test_command_probe_is_judged_by_exit_status_and_output(tmp_path):
    assert judge(parse_probe("command: echo ready", expect="ready"), tmp_path).ok
    failing = judge(parse_probe("command: echo ready; exit 3", expect="ready"), tmp_path, deadline=0.2)
    assert not failing.ok and failing.results[0].detail.startswith("exit 3")
    lacking = judge(parse_probe("command: echo starting", expect="ready"), tmp_path, deadline=0.2)
    assert not lacking.ok
    assert lacking.reason == "no pass within 0.2s: the output lacks 'ready'"
    long = judge(parse_probe("command: printf '%0300d ready' 0", expect="ready"), tmp_path)
    assert long.ok and long.results[0].detail == "exit 0: " + "0" * 160  # the report quotes 160 characters


# ---- alive and watch ---------------------------------------------------------------------------------


def test_a_dead_service_ends_the_window_at_once(serve, tmp_path):
    server = serve((200, "ok"))
    verdict = judge(http(server), tmp_path, passes=3, deadline=30.0, alive=lambda: "process exited with 1")
    assert not verdict.ok and verdict.reason == "process exited with 1"
    assert server.served == 0 and verdict.seconds < 5


def test_a_fatal_watch_ends_the_window_and_a_pending_one_turns_passes_into_failures(serve, tmp_path):
    server = serve((200, "ok"))
    fatal = judge(http(server), tmp_path, passes=3, deadline=30.0, watch=lambda: Vetting(fatal="crash loop"))
    assert not fatal.ok and fatal.reason == "crash loop" and len(fatal.results) == 1
    assert 0 <= fatal.seconds < 5.0  # ended at once, not at the 30 s deadline
    assert not fatal.results[0].ok and fatal.results[0].detail == "HTTP 200: ok; but crash loop"

    pending = judge(http(server), tmp_path, deadline=0.3, watch=lambda: Vetting(pending="old process answers"))
    assert not pending.ok
    assert all(not r.ok for r in pending.results)
    assert pending.reason == "no pass within 0.3s: old process answers"


def test_a_waiting_watch_holds_a_finished_streak_open_until_it_clears(serve, tmp_path):
    server = serve((200, "ok"))
    said = iter([Vetting(waiting="up 1s of 3s")] * 4)
    seen: list[tuple[ProbeResult, int]] = []
    with session(LocalHost(tmp_path), http(server), cwd=str(tmp_path), env={}) as probing:
        verdict = window(
            probing,
            passes=2,
            interval=1.0,
            poll=0.02,
            deadline=20.0,
            watch=lambda: next(said, Vetting()),
            on_result=lambda r, n: seen.append((r, n)),
        )
    assert verdict.ok
    assert len(verdict.results) == 5  # four held open, then the streak counts
    assert verdict.seconds < 1.0  # held open, it asks again at the poll pace, not a passing interval later
    assert [n for _, n in seen][:4] == [1, 1, 1, 1]


def test_the_window_never_sleeps_past_its_deadline(serve, tmp_path):
    """A failing probe at 0.8 s, with 0.8 s to wait before the next, ends the 1 s window then; it does not
    sleep on and probe again after the deadline."""
    server = serve((503, "down"))
    verdict = judge(http(server), tmp_path, deadline=1.0, interval=0.8)
    assert not verdict.ok
    assert verdict.seconds < 1.0 + 0.5
    assert len(verdict.results) <= 2


def test_a_probe_that_cannot_even_run_fails_instead_of_raising(tmp_path):
    probe = parse_probe("command: echo ready", expect="ready")
    with session(LocalHost(tmp_path), probe, cwd=str(tmp_path / "gone"), env={}) as probing:
        verdict = window(probing, passes=1, interval=0.01, deadline=0.1)
    assert not verdict.ok
    assert verdict.results[0].detail.startswith("TargetError: cannot run")


def test_the_last_results_of_a_verdict_are_its_latest_three(serve, tmp_path):
    server = serve(*[(503, str(n)) for n in range(6)], (200, "ok"))
    verdict = judge(http(server), tmp_path, deadline=5.0)
    assert verdict.ok and len(verdict.results) == 7
    assert [r.detail for r in verdict.last()] == ["HTTP 503: 4", "HTTP 503: 5", "HTTP 200: ok"]


# ---- what a probe says it checks, and placeholders ----------------------------------------------------


def test_each_kind_of_probe_describes_what_it_checks():
    assert parse_probe("http://127.0.0.1:8080/health", expect="ok").describe() == (
        "http://127.0.0.1:8080/health (body contains 'ok')"
    )
    assert parse_probe("http://127.0.0.1:8080/health").describe() == "http://127.0.0.1:8080/health"
    assert parse_probe("tcp://127.0.0.1:5432").describe() == "tcp://127.0.0.1:5432"
    assert parse_probe("command: curl -sf localhost", expect="up").describe() == (
        "`curl -sf localhost` (output contains 'up')"
    )
    assert parse_probe("command: true").describe() == "`true`"


def test_placeholders_are_filled_per_release_and_a_release_placeholder_needs_no_version():
    probe = parse_probe("http://127.0.0.1:1/", expect='"version":"{version}","id":"{release}"')
    filled = probe.for_release("1.2.0", "r42")
    assert filled.expect == '"version":"1.2.0","id":"r42"'
    assert filled.lacks() == (
        '\'"version":"1.2.0","id":"r42"\' (health_expect \'"version":"{version}","id":"{release}"\' '
        "for version 1.2.0 of release r42)"
    )
    only_release = parse_probe("http://127.0.0.1:1/", expect='"id":"{release}"').for_release(None, "r7")
    assert only_release.expect == '"id":"r7"'
    assert only_release.lacks() == '\'"id":"r7"\' (health_expect \'"id":"{release}"\' for release r7)'
    assert parse_probe("http://127.0.0.1:1/", expect="plain").for_release(None, "r7").expect == "plain"
    bare = parse_probe("http://127.0.0.1:1/")
    assert bare.for_release("1.0.0", "r7") is bare  # no expectation: nothing to fill


def test_a_version_placeholder_for_a_release_without_a_version_is_a_clear_error():
    probe = parse_probe("http://127.0.0.1:1/", expect='"version":"{version}"')
    with pytest.raises(MissingVersion, match=r"needs \{version\}, but release r9 records no version"):
        probe.for_release(None, "r9")


def test_probe_urls_are_read_with_their_default_ports_and_timeout():
    assert (parse_probe("http://app.internal/health").port, parse_probe("https://app.internal/health").port) == (
        80,
        443,
    )
    assert parse_probe("https://app.internal:8443/health").port == 8443
    assert parse_probe("tcp://db.internal:5432").port == 5432
    assert parse_probe("http://app.internal/").timeout == 2.0


def test_a_probe_aimed_at_the_boot_tests_spare_port():
    assert parse_probe("http://127.0.0.1:3000/health?x=1").with_port(4100).url == "http://127.0.0.1:4100/health?x=1"
    assert parse_probe("tcp://127.0.0.1:3000").with_port(4100).port == 4100
    command = parse_probe("command: curl -sf localhost:3000")
    assert command.with_port(4100) == command


@pytest.mark.parametrize(
    "text", ["tcp://db.internal", "tcp://:5432", "http://[::1/health", "http://app:70000/", "https:///health", " "]
)
def test_a_malformed_probe_is_a_configuration_error(text):
    with pytest.raises(ConfigError, match="health probe"):
        parse_probe(text)


def test_failing_probes_are_repeated_at_the_poll_pace_and_passing_ones_at_the_interval(serve, tmp_path):
    server = serve(*[(503, "starting")] * 4, (200, "ok"))
    probe = http(server)
    with session(LocalHost(tmp_path), probe, cwd=str(tmp_path), env={}) as probing:
        started = time.monotonic()
        verdict = window(probing, passes=2, interval=1.0, poll=0.02, deadline=20.0)
        took = time.monotonic() - started
    assert verdict.ok and len(verdict.results) == 6
    assert 1.0 <= took < 1.0 + 3.0  # four quick retries while failing, one 1 s wait between the passes


def test_an_https_probe_accepts_the_services_own_self_signed_certificate(tmp_path):
    """Health is probed on the host's loopback, where services often serve a self-signed certificate."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
    )
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = Scripted([(200, "healthy", 0.0)], tls=tls)
    try:
        verdict = judge(parse_probe(f"https://127.0.0.1:{server.port}/health", expect="healthy"), tmp_path)
    finally:
        server.close()
    assert verdict.ok, verdict.results


# ---- patience ----------------------------------------------------------------------------------------


def test_patience_ends_a_window_that_never_passed_while_what_is_judged_is_up(serve, tmp_path):
    server = serve((503, "down"))
    patience = Patience(0.4, "the restart has finished")
    verdict = judge(http(server), tmp_path, deadline=30.0, interval=0.05, patience=patience)
    assert not verdict.ok and 0.4 <= verdict.seconds < 2.0
    assert verdict.reason == "no pass within 0.4s: the restart has finished"


def test_patience_waits_while_the_watch_says_what_answers_is_not_up_yet_and_not_after_a_pass(serve, tmp_path):
    server = serve((503, "down"))
    pending = judge(
        http(server),
        tmp_path,
        deadline=1.0,
        interval=0.05,
        patience=Patience(0.2, "up"),
        watch=lambda: Vetting(pending="pm2 app is launching, not online"),
    )
    assert pending.reason == "no pass within 1s: pm2 app is launching, not online"  # the deadline decided

    flaky = serve((200, "ok"), (503, "down"), (503, "down"), (503, "down"), (200, "ok"))
    verdict = judge(http(flaky), tmp_path, passes=2, deadline=5.0, interval=0.1, patience=Patience(0.1, "up"))
    assert verdict.ok  # one pass already: patience does not apply


def test_patience_after_a_boot_test_is_a_multiple_of_its_time_with_a_floor():
    # as the README says: 3 times the boot test's time to answer, at least 1.5 s
    assert Patience.after_boot(0.2, "up").seconds == Patience.FLOOR == 1.5
    assert Patience.after_boot(2.0, "pm2 reports every app online").seconds == 2.0 * Patience.MULTIPLE == 6.0
    assert Patience.after_boot(2.0, "pm2 reports every app online").why == (
        "pm2 reports every app online, and the boot test answered 2.0s after its start"
    )
