"""Health probes (HTTP status + optional body match, TCP connect, or a command) and the health window.

A probe is judged from the host's point of view: over SSH the HTTP probe goes through a port forwarded
by the SSH connection, the TCP and command probes run on the host.

A probe that passes says something answered, not that the new release did: an old process that still
holds the port answers healthy too. Two things close that gap. ``health_expect`` may name the release
it wants with :data:`PLACEHOLDERS` (``'"version":"{version}"'``), expanded per release judged; and a
window may carry a ``watch`` (for pm2: :class:`deploysafe.release.pm2.Watch`) that vets every probe.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

from deploysafe.errors import ConfigError
from deploysafe.hosts.base import Host, run_configured

_TCP_JS = (
    "const s=require('net').connect(+process.argv[2],process.argv[1]);"
    "s.setTimeout(+process.argv[3]);"
    "s.on('connect',()=>{s.destroy();process.exit(0)});"
    "s.on('timeout',()=>{console.error('connect timed out');process.exit(1)});"
    "s.on('error',e=>{console.error(e.code||e.message);process.exit(1)})"
)


@dataclass(frozen=True)
class Probe:
    """What "healthy" means: ``http(s)://host:port/path``, ``tcp://host:port`` or a shell command."""

    kind: str  # "http" | "tcp" | "command"
    url: str = ""
    host: str = ""
    port: int = 0
    command: str = ""
    expect: str | None = None
    timeout: float = 2.0
    expect_template: str | None = None  # health_expect as configured, when placeholders were expanded
    expanded_for: str = ""  # "version 1.5.0 of release X": what the placeholders became

    def for_release(self, version: str | None, release: str) -> Probe:
        """The probe with ``{version}`` and ``{release}`` in its expectation filled in for one release.

        Only those two exact tokens are replaced (a JSON body's own braces stay). Raises
        :class:`MissingVersion` when ``{version}`` is asked for and the release has none.
        """
        template = self.expect_template or self.expect
        if not template or not any(token in template for token in PLACEHOLDERS):
            return self
        if "{version}" in template and not version:
            raise MissingVersion(
                f"health_expect {template!r} needs {{version}}, but release {release} records no version "
                "(no manifest, no package.json version)"
            )
        expect = template.replace("{release}", release).replace("{version}", version or "")
        what = f"version {version} of release {release}" if "{version}" in template else f"release {release}"
        return replace(self, expect=expect, expect_template=template, expanded_for=what)

    def lacks(self) -> str:
        """How a failure names the expectation: the text, and where it came from when it was a template."""
        if self.expect_template:
            return f"{self.expect!r} (health_expect {self.expect_template!r} for {self.expanded_for})"
        return repr(self.expect)

    def with_port(self, port: int) -> Probe:
        """The same probe aimed at another port (the boot test's spare port)."""
        if self.kind == "http":
            parts = urlsplit(self.url)
            netloc = f"{parts.hostname}:{port}"
            return replace(self, url=urlunsplit(parts._replace(netloc=netloc)), port=port)
        if self.kind == "tcp":
            return replace(self, port=port)
        return self

    def describe(self) -> str:
        if self.kind == "http":
            return self.url + (f" (body contains {self.expect!r})" if self.expect else "")
        if self.kind == "tcp":
            return f"tcp://{self.host}:{self.port}"
        return f"`{self.command}`" + (f" (output contains {self.expect!r})" if self.expect else "")


PLACEHOLDERS = ("{version}", "{release}")


class MissingVersion(ConfigError):
    """``health_expect`` asks for ``{version}`` and the release judged has none."""


def parse_probe(text: str, expect: str | None = None, timeout: float = 2.0) -> Probe:
    text = text.strip()
    if not text:
        raise ConfigError("empty health probe")
    if text.startswith(("http://", "https://")):
        parts, port = _split(text)
        if not parts.hostname:
            raise ConfigError(f"health probe {text!r} has no host")
        port = port or (443 if parts.scheme == "https" else 80)
        return Probe("http", url=text, host=parts.hostname, port=port, expect=expect, timeout=timeout)
    if text.startswith("tcp://"):
        parts, port = _split(text)
        if not parts.hostname or not port:
            raise ConfigError(f"health probe {text!r} needs tcp://host:port")
        return Probe("tcp", host=parts.hostname, port=port, timeout=timeout)
    command = text.removeprefix("command:").strip()
    return Probe("command", command=command, expect=expect, timeout=timeout)


def _split(text: str) -> tuple[SplitResult, int | None]:
    """The probe URL's parts and port; a malformed host (``[::1``) or a port past 65535 is a ConfigError."""
    try:
        parts = urlsplit(text)
        return parts, parts.port
    except ValueError as err:
        raise ConfigError(f"health probe {text!r} is not a valid URL: {err}") from err


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    at: float = field(default_factory=time.monotonic)


class ProbeSession:
    """Probes one :class:`Probe` repeatedly against a target, reusing the forward and HTTP client."""

    def __init__(self, target: Host, probe: Probe, *, cwd: str, env: Mapping[str, str]) -> None:
        self.target = target
        self.probe = probe
        self.cwd = cwd
        self.env = dict(env)
        self._stack = contextlib.ExitStack()
        self._client: httpx.Client | None = None
        self._url = probe.url

    def __enter__(self) -> ProbeSession:
        if self.probe.kind == "http":
            host, port = self._stack.enter_context(self.target.forward(self.probe.host, self.probe.port))
            parts = urlsplit(self.probe.url)
            self._url = urlunsplit(parts._replace(netloc=f"{host}:{port}"))
            self._client = self._stack.enter_context(
                httpx.Client(
                    timeout=self.probe.timeout,
                    verify=False,
                    follow_redirects=False,
                    headers={"host": parts.netloc, "user-agent": "deploysafe-health"},
                    trust_env=False,
                )
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def check(self) -> ProbeResult:
        try:
            if self.probe.kind == "http":
                return self._http()
            if self.probe.kind == "tcp":
                return self._tcp()
            return self._command()
        except Exception as err:  # a probe never raises: it fails
            return ProbeResult(False, f"{type(err).__name__}: {err}")

    def _http(self) -> ProbeResult:
        assert self._client is not None
        try:
            response = self._client.get(self._url)
        except httpx.TimeoutException:
            return ProbeResult(False, f"no answer within {self.probe.timeout:g}s")
        except httpx.HTTPError as err:
            return ProbeResult(False, f"no response ({type(err).__name__}: connection refused or closed)")
        body = response.text  # the whole of it: the expected text may come late in a long answer
        snippet = " ".join(body.split())[:160]
        if not 200 <= response.status_code < 300:
            return ProbeResult(False, f"HTTP {response.status_code}: {snippet}")
        if self.probe.expect and self.probe.expect not in body:
            return ProbeResult(False, f"HTTP {response.status_code} but body lacks {self.probe.lacks()}: {snippet}")
        return ProbeResult(True, f"HTTP {response.status_code}: {snippet}")

    def _tcp(self) -> ProbeResult:
        ms = str(int(self.probe.timeout * 1000))
        done = self.target.run(
            ["node", "-e", _TCP_JS, self.probe.host, str(self.probe.port), ms], timeout=self.probe.timeout + 5
        )
        if done.ok:
            return ProbeResult(True, f"tcp {self.probe.host}:{self.probe.port} accepts connections")
        return ProbeResult(False, f"tcp {self.probe.host}:{self.probe.port}: {done.tail(1) or 'refused'}")

    def _command(self) -> ProbeResult:
        done = run_configured(
            self.target, self.probe.command, cwd=self.cwd, env=self.env, timeout=self.probe.timeout + 10
        )
        out = " ".join(done.stdout.split())[:160]
        if not done.ok:
            return ProbeResult(False, f"exit {done.returncode}: {out}")
        if self.probe.expect and self.probe.expect not in done.stdout:
            return ProbeResult(False, f"output lacks {self.probe.lacks()}: {out}")
        return ProbeResult(True, f"exit 0: {out}")


@dataclass
class Verdict:
    ok: bool
    results: list[ProbeResult]
    seconds: float
    reason: str = ""
    logs: list[str] = field(default_factory=list)  # log files of what was judged (pm2's), for a report

    def last(self, n: int = 3) -> list[ProbeResult]:
        return self.results[-n:]


@dataclass(frozen=True)
class Vetting:
    """What a window's watch says of the answer to the latest probe."""

    fatal: str | None = None  # ends the window: what is judged is known bad (a crash loop)
    pending: str | None = None  # the probe does not count: the answer did not come from what is judged
    waiting: str | None = None  # the probe counts, but the window may not pass yet (not up long enough)


Watch = Callable[[], Vetting]


@dataclass(frozen=True)
class Patience:
    """When a window gives up before its deadline: no probe has passed after ``seconds`` although the
    processes judged are up (a watch reports nothing pending), so the release is failing, not slow."""

    seconds: float
    why: str  # why this is certain, for the verdict ("the boot test answered 0.2s after its start")

    FLOOR = 1.5  # seconds: never less, whatever the boot test showed
    MULTIPLE = 3.0  # times the boot test's time to answer (counted from its start)

    @classmethod
    def after_boot(cls, boot_seconds: float, up: str) -> Patience:
        seconds = max(cls.FLOOR, cls.MULTIPLE * boot_seconds)
        return cls(seconds, f"{up}, and the boot test answered {boot_seconds:.1f}s after its start")


def window(
    session: ProbeSession,
    *,
    passes: int,
    interval: float,
    deadline: float,
    alive: Callable[[], str | None] | None = None,
    poll: float | None = None,
    on_result: Callable[[ProbeResult, int], None] | None = None,
    watch: Watch | None = None,
    patience: Patience | None = None,
) -> Verdict:
    """Probe until ``passes`` consecutive passes (ok) or ``deadline`` seconds pass (not ok).

    ``interval`` separates probes once they pass; ``poll`` (default: ``interval``) separates probes while
    they fail, and while a watch holds a finished streak open (so the window ends soon after it clears). ``alive`` returns a reason when the thing probed is known dead, which ends the window.
    ``watch`` is asked after every probe (see :class:`Vetting`): ``fatal`` ends the window, ``pending``
    turns a pass into a failure, ``waiting`` holds a finished streak open until it clears. ``patience``
    ends the window early (see :class:`Patience`): nothing has passed yet although what is judged is up.
    """
    poll = interval if poll is None else poll
    start = time.monotonic()
    results: list[ProbeResult] = []
    streak = 0
    while True:
        if alive is not None:
            gone = alive()
            if gone:
                return Verdict(False, results, time.monotonic() - start, gone)
        result = session.check()
        vetting = watch() if watch is not None else Vetting()
        if vetting.fatal:
            results.append(ProbeResult(False, f"{result.detail}; but {vetting.fatal}"))
            return Verdict(False, results, time.monotonic() - start, vetting.fatal)
        if vetting.pending and result.ok:
            result = ProbeResult(False, f"{result.detail}; but {vetting.pending}", result.at)
        elif vetting.waiting and result.ok:
            result = ProbeResult(True, f"{result.detail}; waiting: {vetting.waiting}", result.at)
        results.append(result)
        streak = streak + 1 if result.ok else 0
        if on_result:
            on_result(result, min(streak, passes - 1) if vetting.waiting else streak)
        if streak >= passes and not vetting.waiting:
            return Verdict(True, results, time.monotonic() - start)
        pause = interval if result.ok and not vetting.waiting else poll  # held open: ask again soon
        elapsed = time.monotonic() - start
        hopeless = patience is not None and elapsed >= patience.seconds and not vetting.pending
        if hopeless and patience is not None and not any(r.ok for r in results):
            reason = f"no pass within {patience.seconds:.1f}s: {patience.why}"
            return Verdict(False, results, elapsed, reason + _lacking(session, result, "; "))
        if elapsed + pause > deadline:
            need = f"{passes} consecutive passes" if passes > 1 else "pass"
            reason = f"no {need} within {deadline:g}s"
            if vetting.pending or vetting.waiting:
                reason += f": {vetting.pending or vetting.waiting}"
            else:
                reason += _lacking(session, result, ": ")
            return Verdict(False, results, time.monotonic() - start, reason)
        time.sleep(pause)


def _lacking(session: ProbeSession, result: ProbeResult, joint: str) -> str:
    """What a verdict adds when the last probe got an answer without the expected text (an old process)."""
    if result.ok or " lacks " not in result.detail:
        return ""
    what = "the body" if session.probe.kind == "http" else "the output"
    return f"{joint}{what} lacks {session.probe.lacks()}"


@contextlib.contextmanager
def session(target: Host, probe: Probe, *, cwd: str, env: Mapping[str, str]) -> Iterator[ProbeSession]:
    with ProbeSession(target, probe, cwd=cwd, env=env) as s:
        yield s
