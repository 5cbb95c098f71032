"""A bounded HTTP load generator for tests and the bench: a few threads, each with its own keep-alive
client, sending GETs to one URL until stopped, a request budget or a time limit is reached. Every
answer other than a 2xx, and every connection error or timeout, counts as a failed request.

One exception, as browsers and Go's and Python's own HTTP clients make it: a GET sent on a reused
keep-alive connection that the server closed before answering (a proxy's old worker leaving at a
graceful reload closes its idle connections; the request crossed the close, seen as a connection closed
or reset before any byte of an answer) is sent again once on a new connection. Such retries are counted apart (``retried``); a retry that fails too is a failed request."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class LoadResult:
    requests: int = 0
    failed: int = 0
    retried: int = 0  # GETs sent again once: their keep-alive connection closed before any answer
    seconds: float = 0.0
    bodies: Counter[str] = field(default_factory=Counter)  # the answers' first line, counted
    failures: list[str] = field(default_factory=list)  # the first few, for an assertion's message
    outage: float = 0.0  # the longest run of seconds with only failed requests

    def served(self, text: str) -> int:
        return sum(n for body, n in self.bodies.items() if text in body)


class Load:
    """``with Load(url) as load: ...``; ``load.result`` once the block ends."""

    def __init__(
        self, url: str, *, threads: int = 4, pause: float = 0.005, max_requests: int = 20000, max_seconds: float = 120.0
    ) -> None:
        self.url = url
        self.pause = pause  # seconds each client waits between requests: steady load, not a saturating one
        self.threads = threads
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.result = LoadResult()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._last_ok = 0.0
        self._first_failure: float | None = None

    def __enter__(self) -> Load:
        self._started = time.monotonic()
        self._last_ok = self._started
        for _ in range(self.threads):
            worker = threading.Thread(target=self._work, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=10)
        end = time.monotonic()
        self.result.seconds = end - self._started
        if self._first_failure is not None:
            self.result.outage = max(self.result.outage, end - self._first_failure)

    def _work(self) -> None:
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while not self._stop.is_set():
                if time.monotonic() - self._started > self.max_seconds:
                    return
                try:
                    try:
                        response = client.get(self.url)
                    except (httpx.RemoteProtocolError, httpx.ReadError) as err:
                        if not _crossed_a_close(err):
                            raise
                        with self._lock:
                            self.result.retried += 1
                        response = client.get(self.url)
                    ok, what = 200 <= response.status_code < 300, response.text.split("\n")[0][:80]
                    if not ok:
                        what = f"HTTP {response.status_code}: {what}"
                except httpx.HTTPError as err:
                    ok, what = False, f"{type(err).__name__}: {err}"
                self._count(ok, what)
                self._stop.wait(self.pause)

    def _count(self, ok: bool, what: str) -> None:
        now = time.monotonic()
        with self._lock:
            self.result.requests += 1
            if ok:
                self.result.bodies[what] += 1
                if self._first_failure is not None:
                    self.result.outage = max(self.result.outage, now - self._first_failure)
                    self._first_failure = None
            else:
                self.result.failed += 1
                if len(self.result.failures) < 5:
                    self.result.failures.append(what)
                if self._first_failure is None:
                    self._first_failure = now
            if self.result.requests >= self.max_requests:
                self._stop.set()


def _crossed_a_close(err: httpx.HTTPError) -> bool:
    """The request met a close of its keep-alive connection before any answer: closed without a response,
    or reset because the request arrived in the closing socket's buffer (the kernel answers that with RST)."""
    text = str(err)
    return "without sending a response" in text or "Connection reset by peer" in text
