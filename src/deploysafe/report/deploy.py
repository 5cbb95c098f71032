"""What ``deploy``, ``rollback``, ``adopt``, ``releases`` and ``status`` show: text for people (rich; plain
lines when not a terminal) and JSON for CI.

A run reports as it goes through a reporter: :class:`TextReporter` (a line per finished step, a bar for the
upload) or :class:`JsonReporter` (one JSON object per line: ``step``, ``progress``, ``message`` events, each
with its ``host``, then a ``result``); the fleet reporters add ``phase`` and ``host`` events. The other
functions print a finished result, a failure report, a release table or a target's status.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from deploysafe.errors import DeploysafeError
from deploysafe.release import FleetResult, HostOutcome, ReleaseInfo, Result, StatusInfo
from deploysafe.report.console import rich_console
from deploysafe.report.contract import JSON_VERSION, now, versioned
from deploysafe.report.words import count

_MARK = {"ok": "[green]✓[/]", "skipped": "[dim]–[/]", "failed": "[red]✗[/]"}


class TextReporter:
    """Step lines as they finish, a progress bar for the upload, a spinner while installing."""

    def __init__(self, console: Console, host: str = "", *, bars: bool = True) -> None:
        self.console = console
        self.prefix = f" {escape(host)}" if host else ""
        self.bars = bars
        self.progress_bar: Progress | None = None
        self.task: Any = None
        self._last_probe: tuple[str, bool, str] | None = None

    def step_started(self, step: str, detail: str = "") -> None:
        pass

    def _stop_progress(self) -> None:
        if self.progress_bar is not None:
            self.progress_bar.stop()
            self.progress_bar = None

    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None:
        self._stop_progress()
        text = f"{self.prefix} {_MARK.get(status, '?')} [bold]{step:<16}[/] {seconds:6.2f}s  {escape(detail)}"
        self.console.print(text, highlight=False, soft_wrap=True)

    def progress(self, step: str, done: int, total: int | None) -> None:
        if step == "health" or not self.bars or not self.console.is_terminal:
            return
        if self.progress_bar is None:
            columns: list[Any] = [SpinnerColumn(), TextColumn(f"{step}")]
            if total:
                columns += [BarColumn(), DownloadColumn()]
            columns.append(TimeElapsedColumn())
            self.progress_bar = Progress(*columns, console=self.console, transient=True)
            self.progress_bar.start()
            self.task = self.progress_bar.add_task(step, total=total)
        self.progress_bar.update(self.task, completed=done, total=total)

    def message(self, text: str, level: str = "info") -> None:
        style = {"warning": "yellow", "error": "red"}.get(level, "")
        self.console.print(f"{self.prefix}   {escape(text)}", style=style, highlight=False, soft_wrap=True)

    def probe(self, step: str, ok: bool, detail: str, streak: int, needed: int) -> None:
        """A line when what answers the probes changes (a pass, a refusal, another status), not per probe."""
        kind = _probe_kind(detail)
        if self._last_probe == (step, ok, kind):
            return
        self._last_probe = (step, ok, kind)
        self._stop_progress()
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        text = f"{self.prefix}   {step} probe {mark} {streak}/{needed}  {escape(detail[:160])}"
        self.console.print(text, highlight=False, soft_wrap=True)


def _probe_kind(detail: str) -> str:
    """What kind of answer a probe got ("HTTP 200", "no response", "exit 1"), for telling changes apart."""
    return detail.split(":", 1)[0].split(" (", 1)[0]


_WRITE = threading.Lock()


class JsonReporter:
    """One JSON object per line on stdout, flushed at once (CI and the crash-walk test read them)."""

    def __init__(self, host: str | None = None) -> None:
        self.tag = host
        self._last_progress = 0.0

    def emit(self, event: dict[str, Any]) -> None:
        """One line: ``version``, ``event``, ``time``, ``host`` (null outside a fleet, and on a fleet's own
        events), then the event's fields."""
        host = event.get("host", self.tag) if event.get("event") != "result" else event.get("host")
        event = {"version": JSON_VERSION, "event": event["event"], "time": now(), **event, "host": host}
        line = json.dumps(event) + "\n"
        with _WRITE:  # a fleet's hosts report from their own threads
            sys.stdout.write(line)
            sys.stdout.flush()

    def step_started(self, step: str, detail: str = "") -> None:
        self.emit({"event": "step", "step": step, "status": "start", "detail": detail})

    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None:
        self.emit({"event": "step", "step": step, "status": status, "seconds": round(seconds, 3), "detail": detail})

    def progress(self, step: str, done: int, total: int | None) -> None:
        moment = time.monotonic()
        if total and done < total and moment - self._last_progress < 0.5:
            return
        self._last_progress = moment
        if total is not None and done > total:  # health passes beyond those required (waiting on pm2 uptime)
            done = total
        self.emit({"event": "progress", "step": step, "done": done, "total": total})

    def message(self, text: str, level: str = "info") -> None:
        self.emit({"event": "message", "level": level, "text": text})

    def probe(self, step: str, ok: bool, detail: str, streak: int, needed: int) -> None:
        self.emit({"event": "probe", "step": step, "ok": ok, "detail": detail, "streak": streak, "needed": needed})


class TextFleetReporter:
    """Step lines prefixed with their host (no progress bars: hosts of a batch run at once)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def host(self, name: str) -> TextReporter:
        return TextReporter(self.console, name, bars=False)

    def phase(self, name: str, hosts: list[str]) -> None:
        self.console.print(f"[bold]── {escape(name)}:[/] {escape(', '.join(hosts))}", soft_wrap=True)

    def host_finished(self, outcome: HostOutcome) -> None:
        mark = "[green]✓[/]" if outcome.status in ("good", "already-live", "reverted") else "[red]✗[/]"
        text = f" {escape(outcome.host)} {mark} [bold]{outcome.status}[/]"
        if outcome.status not in ("good", "already-live") and outcome.message:
            text += f": {escape(outcome.message)}"
        self.console.print(text, soft_wrap=True)

    def message(self, text: str, level: str = "info") -> None:
        self.console.print(f"   {escape(text)}", style={"warning": "yellow"}.get(level, ""), soft_wrap=True)


class JsonFleetReporter(JsonReporter):
    """JSON lines: each host's step events carry ``host``; ``phase`` and ``host`` events mark progress."""

    def host(self, name: str) -> JsonReporter:
        return JsonReporter(name)

    def phase(self, name: str, hosts: list[str]) -> None:
        self.emit({"event": "phase", "phase": name, "hosts": hosts})

    def host_finished(self, outcome: HostOutcome) -> None:
        data = outcome.to_dict()
        data.pop("report")
        data.pop("steps")
        self.emit({"event": "host", **data})


# ---- a finished run ---------------------------------------------------------------------------------------


def print_failure(report: str) -> None:
    """The one-screen report of a failed run, on stderr."""
    rich_console(stderr=True).print(escape(report), style="red", soft_wrap=True)


def print_result(result: Result, console: Console) -> None:
    if result.plan:
        console.print(f"[bold]plan[/] for {result.kind} of {escape(result.release)} to {escape(result.target)}:")
        for step, detail in result.plan:
            console.print(f"   [bold]{step:<12}[/] {escape(detail)}", soft_wrap=True)
    message = escape(result.message)
    console.print(f"[bold green]{message}[/] ({result.seconds:.1f}s)" if result.steps else message, soft_wrap=True)


def print_fleet_result(result: FleetResult, console: Console) -> None:
    if result.plans:
        console.print(
            f"[bold]plan[/] for the fleet {result.kind} of {escape(result.release)} to {escape(result.fleet)}:"
        )
        for outcome in result.hosts:
            note = " (already runs it: skipped)" if outcome.status == "already-live" else ""
            console.print(f"[bold]{escape(outcome.phase)}: {escape(outcome.host)}[/]{note}", soft_wrap=True)
            for step, detail in result.plans.get(outcome.host, []):
                console.print(f"   [bold]{step:<12}[/] {escape(detail)}", soft_wrap=True)
    elif result.report:
        console.print(escape(result.report), soft_wrap=True)
    console.print(f"[bold green]{escape(result.message)}[/] ({result.seconds:.1f}s)", soft_wrap=True)


# ---- releases -----------------------------------------------------------------------------------------------


def release_table(items: list[ReleaseInfo]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("", "release", "status", "when", "version"):
        table.add_column(column)
    for item in items:
        status = f"{item.status} (adopted original)" if item.adopted else item.status
        table.add_row("→" if item.current else "", item.id, status, item.when, item.version)
    return table


def releases_json(items: list[ReleaseInfo]) -> str:
    return json.dumps(versioned({"releases": [i.to_dict() for i in items]}))


def fleet_releases_json(title: str, views: list[tuple[str, list[ReleaseInfo] | DeploysafeError]]) -> str:
    hosts = [
        {"host": host, "error": str(items)}
        if isinstance(items, DeploysafeError)
        else {"host": host, "releases": [i.to_dict() for i in items]}
        for host, items in views
    ]
    return json.dumps(versioned({"fleet": title, "hosts": hosts}))


def print_fleet_releases(views: list[tuple[str, list[ReleaseInfo] | DeploysafeError]], console: Console) -> None:
    for host, items in views:
        console.print(f"[bold]{escape(host)}[/]")
        if isinstance(items, DeploysafeError):
            console.print(f"  [red]cannot read: {escape(str(items))}[/]", soft_wrap=True)
        else:
            console.print(release_table(items))


# ---- status -------------------------------------------------------------------------------------------------


def print_status(info: StatusInfo, console: Console) -> None:
    console.print(f"[bold]{escape(info.target)}[/]")
    console.print(f"  current   {escape(info.current or '(none)')} ({info.current_status})")
    if info.healthy is not None:
        console.print(
            f"  health    {'[green]ok[/]' if info.healthy else '[red]FAILING[/]'}  {escape(info.health or '')}"
        )
    console.print(f"  lock      {escape(info.lock + ' - ' + str(info.lock_state)) if info.lock else 'free'}")
    if info.last:
        last = f"{info.last.get('kind')} {info.last.get('release')}: {info.last.get('status')}"
        console.print(f"  last      {escape(last)}")
    breaker = (
        "[red]OPEN[/] (deploys refused until a good deploy, a rollback or --force)" if info.breaker_open else "closed"
    )
    failed = count(info.failures, "failed deploy")
    console.print(f"  breaker   {breaker}; {failed} in a row; {count(info.releases, 'release')}", soft_wrap=True)
    if info.proxy:
        console.print(f"  proxy     {escape(info.proxy)}", soft_wrap=True)
    for process in info.processes:
        console.print(f"  process   {escape(process.describe())}")


def fleet_status_json(title: str, views: list[tuple[str, StatusInfo | DeploysafeError]]) -> str:
    hosts = [
        {"host": host, "error": str(info)} if isinstance(info, DeploysafeError) else {"host": host, **info.to_dict()}
        for host, info in views
    ]
    return json.dumps(versioned({"fleet": title, "hosts": hosts}))


def status_json(info: StatusInfo) -> str:
    return json.dumps(versioned(info.to_dict()))


def print_fleet_status(title: str, views: list[tuple[str, StatusInfo | DeploysafeError]], console: Console) -> None:
    table = Table(box=None, header_style="bold", title=title, title_justify="left")
    for column in ("host", "current", "status", "health", "lock", "breaker"):
        table.add_column(column)
    for host, info in views:
        if isinstance(info, DeploysafeError):
            table.add_row(host, "[red]cannot read[/]", escape(str(info)), "", "", "")
            continue
        health = "-" if info.healthy is None else ("[green]ok[/]" if info.healthy else "[red]FAILING[/]")
        breaker = f"[red]OPEN[/] ({info.failures})" if info.breaker_open else f"closed ({info.failures})"
        table.add_row(
            host, info.current or "(none)", info.current_status, health, "held" if info.lock else "free", breaker
        )
    console.print(table)
    running = {info.current for _, info in views if not isinstance(info, DeploysafeError)}
    if len(running) > 1:
        console.print(f"  [yellow]mixed: the hosts run {len(running)} different releases[/]")
