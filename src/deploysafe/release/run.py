"""One deploy, rollback or adopt in progress: its named steps, its record, and what it returns.

The record is rewritten to ``.deploysafe/run.json`` after every step while the lock is held, so a run
killed with ``kill -9`` leaves an exact account of how far it got; the next run that takes the lock
over appends that account to history.jsonl (status ``interrupted`` unless it had reached a verdict).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from deploysafe import safejson
from deploysafe.errors import DeployFailed, DeploysafeError, TargetError
from deploysafe.hosts.base import Host
from deploysafe.release import history
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.layout import Layout
from deploysafe.release.lock import Lock, LockInfo


@dataclass
class StepOutcome:
    step: str
    status: str  # ok | skipped | failed
    seconds: float
    detail: str = ""


@dataclass
class Result:
    """What a deploy, rollback or adopt did. ``status``: good, failed, rolled-back, planned.

    ``previous`` is the release that was current before the run, ``current`` the one ``current`` points
    at when it ended (None when that is unknown: the connection was lost after the switch).
    """

    kind: str
    status: str
    release: str
    target: str
    previous: str | None = None
    steps: list[StepOutcome] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""
    report: str = ""
    plan: list[tuple[str, str]] = field(default_factory=list)
    current: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in (history.GOOD, "planned")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["plan"] = [{"step": s, "detail": d} for s, d in self.plan]
        return data


# The names the public API exports.
DeployResult = Result


class ReleaseFailed(DeployFailed):
    """A deploy or rollback ran and failed; ``result`` has the steps and the one-screen report.

    ``exit_code`` is 1, or the shell's code for the signal that interrupted the run (130 SIGINT, 143
    SIGTERM, 129 SIGHUP; 141 when its output was closed).
    """

    def __init__(self, message: str, result: Result, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.result = result
        if exit_code is not None:
            self.exit_code = exit_code


class StepFailed(DeploysafeError):
    """A step judged the release bad (boot test, health, missing shared file); ``report`` explains."""

    exit_code = 1

    def __init__(self, message: str, report: str = "") -> None:
        super().__init__(message)
        self.report = report


class StepHandle:
    def __init__(self, detail: str) -> None:
        self.detail = detail
        self.status = "ok"

    def skip(self, detail: str) -> None:
        self.status = "skipped"
        self.detail = detail


def is_connection_lost(err: BaseException) -> bool:
    return isinstance(err, TargetError) and "connection lost" in str(err)


def describe(err: BaseException) -> str:
    """One line for how a step or a run ended: our own message, an interrupt's cause, or the exception."""
    if isinstance(err, DeploysafeError | KeyboardInterrupt):
        return str(err) or "interrupted: SIGINT"
    return f"{type(err).__name__}: {err}"


class Run:
    """Named steps with their outcomes, reported as they happen and saved after each one."""

    def __init__(
        self,
        kind: str,
        target: Host,
        layout: Layout,
        release: str,
        reporter: Reporter | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self.target = target
        self.layout = layout
        self.reporter = reporter or NullReporter()
        self.started = time.monotonic()
        self.info = LockInfo.for_this_process(kind)
        self.lock = Lock(target, layout, self.info)
        self.steps: list[StepOutcome] = []
        self.record: dict[str, Any] = {
            "kind": kind,
            "run": self.info.run,
            "release": release,
            "who": self.info.who,
            "pid": self.info.pid,
            "target": target.url,
            "started": history.now(),
            "status": "running",
            **(extra or {}),
        }
        self.connection_lost = False
        self.appended = False  # the record is in history.jsonl

    @property
    def release(self) -> str:
        return str(self.record["release"])

    @contextlib.contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[StepHandle]:
        handle = StepHandle(detail)
        start = time.monotonic()
        try:
            self.reporter.step_started(name, detail)  # inside: an interrupt once it is said is the step's
            yield handle
        except BaseException as err:
            if is_connection_lost(err):
                self.connection_lost = True
            self._finish(name, "failed", start, describe(err))
            if isinstance(err, DeploysafeError | KeyboardInterrupt | SystemExit):
                raise
            raise TargetError(f"{name}: unexpected {type(err).__name__}: {err}") from err
        self._finish(name, handle.status, start, handle.detail)

    def _finish(self, name: str, status: str, start: float, detail: str) -> None:
        seconds = time.monotonic() - start
        self.steps.append(StepOutcome(name, status, round(seconds, 3), detail))
        self.save()  # saved before it is reported: a reader gone away cannot cost the record
        self.reporter.step_finished(name, status, seconds, detail)

    def save(self) -> None:
        """Rewrite run.json (only while we hold the lock and the connection is up)."""
        if not self.lock.held or self.connection_lost:
            return
        self.record["steps"] = [asdict(s) for s in self.steps]
        with contextlib.suppress(DeploysafeError):
            self.target.write_file(self.layout.run_file, json.dumps(self.record, indent=1).encode())

    def set_status(self, status: str, message: str = "") -> None:
        self.record["status"] = status
        if message:
            self.record["message"] = message
        self.save()

    def finish(self) -> None:
        """Append the record to history, remove run.json and release the lock (best effort if cut off)."""
        self.record["finished"] = history.now()
        self.record["seconds"] = round(time.monotonic() - self.started, 3)
        self.record["steps"] = [asdict(s) for s in self.steps]
        if self.connection_lost or not self.lock.held:
            self.lock.forget()
            return
        try:
            if not self.appended:  # a finish cut short by an interrupt is finished again, once
                history.append(self.target, self.layout, self.record)
                self.appended = True
            self.target.remove(self.layout.run_file)
            self.lock.release()
        except DeploysafeError:
            self.lock.forget()

    def result(
        self,
        status: str,
        message: str = "",
        report: str = "",
        previous: str | None = None,
        *,
        current: str | None = None,
    ) -> Result:
        return Result(
            kind=self.kind,
            status=status,
            release=self.release,
            target=self.target.url,
            previous=previous,
            steps=list(self.steps),
            seconds=round(time.monotonic() - self.started, 3),
            message=message,
            report=report,
            current=current,
        )


def recover_interrupted(target: Host, layout: Layout) -> dict[str, Any] | None:
    """Append the record a killed run left in run.json to history; return it. Call with the lock held."""
    data = target.read_file(layout.run_file)
    if data is None:
        return None
    try:
        record = safejson.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        record = None
    if isinstance(record, dict):
        already = any(r.get("run") == record.get("run") for r in history.read(target, layout)[-20:])
        if not already:
            if record.get("status") not in (history.GOOD, history.FAILED, history.ROLLED_BACK):
                record["status"] = history.INTERRUPTED
            record.setdefault("finished", history.now())
            record["recovered"] = True
            history.append(target, layout, record)
    target.remove(layout.run_file)
    return record if isinstance(record, dict) else None
