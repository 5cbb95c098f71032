"""Real headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``).

No websocket client and no browser download: Debian's ``chromium`` reads JSON commands on fd 3 and
writes replies and events on fd 4, each message ended by a NUL byte.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)


class CdpError(RuntimeError):
    pass


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Console:
    """What the page said: console calls, uncaught exceptions, log entries and network requests."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Process:
    """The browser's process id, waited for without blocking the test forever."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def kill(self) -> None:
        if self.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)  # its own session: the renderers and helpers go too
            os.waitpid(self.pid, 0)
            self.returncode = -signal.SIGKILL


class Browser:
    """One Chromium process and one page in it, attached with a flat session."""

    def __init__(self, process: Process, to_browser: int, from_browser: int) -> None:
        self.process = process
        self._out = to_browser
        self._in = from_browser
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self.console = Console()
        self.session: str | None = None
        self.target: str | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # ---- the wire -----------------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._changed:
                    self._changed.notify_all()
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                self._dispatch(json.loads(raw))

    def _dispatch(self, message: dict[str, Any]) -> None:
        with self._changed:
            if "id" in message:
                self._replies[message["id"]] = message
            else:
                self._events.append(message)
                self._observe(message)
            self._changed.notify_all()

    def _observe(self, event: dict[str, Any]) -> None:
        if event.get("sessionId") != self.session:
            return  # a page closed earlier still reporting
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            self.console.errors.append("console.error: " + " ".join(texts))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            described = details.get("exception", {}).get("description") or details.get("text", "")
            self.console.errors.append("exception: " + described)
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.console.errors.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            self.console.requests.append(params.get("request", {}).get("url", ""))

    def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._changed:
            while ident not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise CdpError(f"{method}: no reply within {timeout} s")
                self._changed.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, method: str, *, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for i, event in enumerate(self._events):
                    if event.get("method") == method and event.get("sessionId") == self.session:
                        return self._events.pop(i).get("params", {})
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CdpError(f"no {method} within {timeout} s")
                self._changed.wait(left)

    # ---- the page -----------------------------------------------------------------------------------

    def open_page(self, width: int = 1440, height: int = 900) -> None:
        """A new tab, attached; what it logs and requests is recorded from here on."""
        self.close_page()
        self.target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        with self._changed:
            self._events.clear()
            self.console = Console()
        self.session = self.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def close_page(self) -> None:
        if self.target is not None:
            self.send("Target.closeTarget", {"targetId": self.target})
            self.target = None
            self.session = None

    def goto(self, url: str, *, timeout: float = 60) -> None:
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", timeout=timeout)

    def evaluate(self, expression: str, *, timeout: float = 60) -> Any:
        """Evaluate ``expression`` in the page (promises are awaited) and return its JSON value."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(details.get("exception", {}).get("description") or details.get("text"))
        return result.get("result", {}).get("value")

    def settle(self, *, timeout: float = 30) -> None:
        """Return once the page has nothing left to do: loaded, two frames drawn, the task queue turned.

        CDP sends a page's events in order, before the reply to this evaluation, so whatever the page
        logged or requested until now is recorded when this returns: no fixed sleep needed.
        """
        self.evaluate(
            "new Promise(done => { const idle = () => requestAnimationFrame(() => requestAnimationFrame("
            "() => setTimeout(done, 0))); if (document.readyState === 'complete') idle();"
            " else addEventListener('load', idle, { once: true }); })",
            timeout=timeout,
        )

    def click(self, x: float, y: float) -> None:
        """A real mouse click (press and release) at page coordinates."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left" if kind != "mouseMoved" else "none", "clickCount": 1},
            )

    def click_selector(self, selector: str) -> None:
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        self.click(*box)

    def type_text(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})

    def press(self, key: str, code: int) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code})

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def chromium(executable: str | None = None) -> Iterator[Browser]:
    """Start headless Chromium with a fresh profile and stop it afterwards."""
    binary = executable or chromium_path()
    if binary is None:
        raise CdpError("chromium is not installed")
    profile = tempfile.mkdtemp(prefix="deploysafe-chromium-")
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    devnull = os.open(os.devnull, os.O_RDWR)
    # The protocol's fixed descriptors: 3 carries commands in, 4 replies out. Every other descriptor of
    # this process is close-on-exec (Python's default), so the browser inherits only these and /dev/null.
    actions = [
        (os.POSIX_SPAWN_DUP2, devnull, 0),
        (os.POSIX_SPAWN_DUP2, devnull, 1),
        (os.POSIX_SPAWN_DUP2, devnull, 2),
        (os.POSIX_SPAWN_DUP2, to_child_r, 3),
        (os.POSIX_SPAWN_DUP2, from_child_w, 4),
    ]
    argv = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
    process = Process(os.posix_spawn(binary, argv, dict(os.environ), file_actions=actions, setsid=True))
    for fd in (to_child_r, from_child_w, devnull):
        os.close(fd)
    browser = Browser(process, to_child_w, from_child_r)
    try:
        browser.send("Target.setDiscoverTargets", {"discover": False}, timeout=60)
        yield browser
    finally:
        try:
            browser.session = browser.target = None
            browser.send("Browser.close", timeout=5)
        except (CdpError, OSError):
            pass
        if not process.wait(timeout=10):
            process.kill()
        os.close(to_child_w)
        os.close(from_child_r)
        shutil.rmtree(profile, ignore_errors=True)
