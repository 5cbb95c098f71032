"""How a run is cut short from outside, and how the engine holds that off while it restores a good state.

While a flow runs (:func:`trapped`, in the main thread only), SIGINT, SIGTERM and SIGHUP raise
:class:`Interrupted` in the engine instead of ending the process, and a reporter whose reader went away
(a closed stdout pipe, a hung-up terminal) does the same through :class:`GuardedReporter`: the run then
ends as the engine decides (before the switch: the incoming release and the lock are removed; after it:
the previous good release is put back and health-gated). Once the engine has started putting things
right (:meth:`Trap.deferred`), a further signal is only noted; it is reported when that work is done.
A command that must not be cut in half (a restart: killed between starting the service and writing its
pidfile, it would leave a service nothing can stop) runs inside :meth:`Trap.finishing`: the first signal
waits until the command has ended (it is bounded by its own timeout), a second one ends it at once.
The previous handlers come back when the run ends. Outside the main thread nothing is installed.

A fleet runs its hosts in threads, where no handler can be installed and no signal arrives. While it
runs (:func:`relayed`), its :class:`Relay` holds the handlers instead and passes each signal to every
host's run: the one in the main thread (a canary) is interrupted at once, the others at their next
report (every step's start and end, every health poll), as a closed output is. Each then ends as a lone
run would; the fleet starts no new host and ends with the signal's code.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from deploysafe.release.events import Reporter

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
OUTPUT_CLOSED = "its output was closed"
OUTPUT_CLOSED_EXIT = 128 + signal.SIGPIPE  # as if SIGPIPE had ended the process
WAITING = "letting the restart command finish first (send the signal again to stop it now)"


class Interrupted(KeyboardInterrupt):
    """The run was told to stop: by a signal (``cause`` is its name) or by its output going away.

    A KeyboardInterrupt, so that ``except Exception`` never swallows it; ``exit_code`` is the one a shell
    reports for the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 141 a closed output).
    """

    def __init__(self, cause: str, exit_code: int) -> None:
        super().__init__(cause)
        self.cause = cause
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"interrupted: {self.cause}"

    @classmethod
    def by_signal(cls, signum: int) -> Interrupted:
        return cls(signal.Signals(signum).name, 128 + signum)


def as_interrupt(err: BaseException) -> Interrupted | None:
    """``err`` as an :class:`Interrupted` when it is one (a bare KeyboardInterrupt is a SIGINT), else None."""
    if isinstance(err, Interrupted):
        return err
    if isinstance(err, KeyboardInterrupt):
        return Interrupted("SIGINT", 128 + signal.SIGINT)
    return None


class Trap:
    """Turns the signals of :data:`SIGNALS` into :class:`Interrupted`, or notes them while deferring."""

    def __init__(self) -> None:
        self.deferring = False
        self.held: list[Interrupted] = []
        self.shielding = False  # inside finishing(): a command runs that the first signal lets finish
        self.waiting: Interrupted | None = None  # that first signal, raised once the command has ended
        self.owner = threading.current_thread()  # the thread the run is in
        self.requested: Interrupted | None = None  # by another thread, for the next checkpoint()

    def request(self, interrupt: Interrupted) -> None:
        """From another thread (a fleet's signal handler): the run is interrupted at its next checkpoint."""
        if self.requested is None:
            self.requested = interrupt
        else:
            self.held.append(interrupt)

    def checkpoint(self) -> None:
        """In the run's own thread: act on what another thread requested, as :meth:`fire` does."""
        interrupt = self.requested
        if interrupt is not None and threading.current_thread() is self.owner:
            self.requested = None
            self.fire(interrupt)

    def fire(self, interrupt: Interrupted) -> None:
        """Raise ``interrupt`` now, hold it while the engine is restoring a good state, or keep it until
        the command of :meth:`finishing` has ended.

        The first interrupt also starts deferring: whatever the engine does about it is not cut short
        by the next one (an impatient second Ctrl-C).
        """
        if self.deferring:
            self.held.append(interrupt)
            return
        if self.shielding and self.waiting is None:
            self.waiting = interrupt
            with contextlib.suppress(OSError):  # a signal handler: one plain write, nothing buffered
                os.write(2, f"{interrupt.cause}: {WAITING}\n".encode())
            return
        self.deferring = True
        raise self.waiting or interrupt

    @contextlib.contextmanager
    def finishing(self) -> Iterator[None]:
        """The command run inside is let finish when the first signal comes; the signal is raised once it
        has. A second signal raises at once (the command is then killed by whoever runs it)."""
        if self.deferring:
            yield
            return
        self.shielding = True
        try:
            yield
        except BaseException:
            self.shielding = False
            if self.waiting is not None and not self.deferring:
                self.deferring = True
                raise self.waiting from None
            raise
        self.shielding = False
        if self.waiting is not None and not self.deferring:
            self.deferring = True
            raise self.waiting
        self.checkpoint()

    def handler(self, signum: int, frame: FrameType | None) -> None:
        self.fire(Interrupted.by_signal(signum))

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Signals arriving inside are held, not raised (the run is ending; its cleanup must finish)."""
        self.deferring = True
        yield

    def held_note(self) -> str:
        """A line about the signals that arrived while deferred ("" when none did)."""
        if not self.held:
            return ""
        names = ", ".join(dict.fromkeys(i.cause for i in self.held))
        return f"{names} arrived while the run was being ended safely: held until it was done"


class Relay:
    """A fleet's signals, passed on to the :class:`Trap` of every host's run (see the module's doc)."""

    def __init__(self) -> None:
        self.interrupt: Interrupted | None = None  # the first signal
        self.held: list[Interrupted] = []  # the later ones
        self.traps: list[Trap] = []
        self.calm = False  # the fleet is putting things right after the signal: later ones are only noted
        self._lock = threading.Lock()

    def join(self, trap: Trap) -> None:
        """A host's run starts; one that starts after the signal is stopped at its first report."""
        with self._lock:
            self.traps.append(trap)
            if self.interrupt is not None and not self.calm:
                trap.request(self.interrupt)

    def leave(self, trap: Trap) -> None:
        with self._lock:
            self.traps.remove(trap)

    def handler(self, signum: int, frame: FrameType | None) -> None:
        interrupt = Interrupted.by_signal(signum)
        if self.interrupt is None:
            self.interrupt = interrupt
        else:
            self.held.append(interrupt)
        if self.calm:
            return
        with self._lock:
            traps = list(self.traps)
        here = [t for t in traps if t.owner is threading.current_thread()]
        for trap in traps:
            if trap not in here:
                trap.request(interrupt)
        for trap in here:  # last: it raises
            trap.fire(interrupt)

    @contextlib.contextmanager
    def calmed(self) -> Iterator[None]:
        """Runs started inside (a rollback of what the fleet did) are not stopped by the signal already had."""
        self.calm = True
        yield


_relay: Relay | None = None  # the fleet running in this process, which holds the signal handlers


@contextlib.contextmanager
def relayed() -> Iterator[Relay]:
    """A :class:`Relay` holding the signal handlers for the duration (main thread only; elsewhere, or
    inside another fleet, one that no signal reaches)."""
    global _relay
    relay = Relay()
    if threading.current_thread() is not threading.main_thread() or _relay is not None:
        yield relay
        return
    with _installed(relay.handler):
        _relay = relay
        try:
            yield relay
        finally:
            _relay = None


@contextlib.contextmanager
def _installed(handler: Any) -> Iterator[None]:
    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in SIGNALS:
            previous[signum] = signal.signal(signum, handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def trapped() -> Iterator[Trap]:
    """A :class:`Trap` with its handlers installed for the duration (main thread only), or, inside a
    fleet's run, one its :class:`Relay` passes the signals to."""
    trap = Trap()
    relay = _relay
    if relay is not None:
        relay.join(trap)
        try:
            yield trap
        finally:
            relay.leave(trap)
        return
    if threading.current_thread() is not threading.main_thread():
        yield trap
        return
    with _installed(trap.handler):
        yield trap


class GuardedReporter:
    """A reporter whose reader may go away: a write that fails (EPIPE, EIO) interrupts the run once,
    through the trap, and every later report is dropped (there is nobody left to read it).

    The interrupt is raised in the thread that runs the flow, never in another one: a transport reports
    upload progress from its own thread, where an exception would only kill that thread and leave the
    flow waiting for it. A failure seen there interrupts the flow at its next report (every step ends
    with one).
    """

    def __init__(self, inner: Reporter, trap: Trap) -> None:
        self.inner = inner
        self.trap = trap
        self.owner = threading.current_thread()
        self.closed = False
        self.pending = False  # closed, and the flow not yet interrupted for it

    def _call(self, method: str, *args: Any) -> None:
        if not self.closed:
            try:
                getattr(self.inner, method)(*args)
                return
            except OSError:
                self.closed = self.pending = True
        if self.pending and threading.current_thread() is self.owner:
            self.pending = False
            self.trap.fire(Interrupted(OUTPUT_CLOSED, OUTPUT_CLOSED_EXIT))
        self.trap.checkpoint()  # a signal the fleet passed on

    def step_started(self, step: str, detail: str = "") -> None:
        self._call("step_started", step, detail)

    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None:
        self._call("step_finished", step, status, seconds, detail)

    def progress(self, step: str, done: int, total: int | None) -> None:
        self._call("progress", step, done, total)

    def message(self, text: str, level: str = "info") -> None:
        self._call("message", text, level)

    def probe(self, step: str, ok: bool, detail: str, streak: int, needed: int) -> None:
        self._call("probe", step, ok, detail, streak, needed)
