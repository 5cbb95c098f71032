"""``deploy``, ``rollback``, ``releases``, ``status``, ``unlock``, ``adopt``: a thin shell over
:mod:`deploysafe.release`. Text output uses rich (plain lines when not a terminal); ``--format json``
prints one JSON object per line on stdout: ``step`` events as they happen, then a ``result``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from deploysafe import release
from deploysafe.cli.app import main
from deploysafe.config import CONFIG_NAME, read_toml
from deploysafe.errors import ConfigError
from deploysafe.release import ReleaseFailed, Result

_MARK = {"ok": "[green]✓[/]", "skipped": "[dim]–[/]", "failed": "[red]✗[/]"}


class TextReporter:
    """Step lines as they finish, a progress bar for the upload, a spinner while installing."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress_bar: Progress | None = None
        self.task: Any = None

    def step_started(self, step: str, detail: str = "") -> None:
        pass

    def _stop_progress(self) -> None:
        if self.progress_bar is not None:
            self.progress_bar.stop()
            self.progress_bar = None

    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None:
        self._stop_progress()
        text = f" {_MARK.get(status, '?')} [bold]{step:<16}[/] {seconds:6.2f}s  {escape(detail)}"
        self.console.print(text, highlight=False, soft_wrap=True)

    def progress(self, step: str, done: int, total: int | None) -> None:
        if step == "health" or not self.console.is_terminal:
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
        self.console.print(f"   {escape(text)}", style=style, highlight=False, soft_wrap=True)


class JsonReporter:
    """One JSON object per line on stdout, flushed at once (CI and the crash-walk test read them)."""

    def __init__(self) -> None:
        self._last_progress = 0.0

    def emit(self, event: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def step_started(self, step: str, detail: str = "") -> None:
        self.emit({"event": "step", "step": step, "status": "start", "detail": detail})

    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None:
        self.emit({"event": "step", "step": step, "status": status, "seconds": round(seconds, 3), "detail": detail})

    def progress(self, step: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if total and done < total and now - self._last_progress < 0.5:
            return
        self._last_progress = now
        self.emit({"event": "progress", "step": step, "done": done, "total": total})

    def message(self, text: str, level: str = "info") -> None:
        self.emit({"event": "message", "level": level, "text": text})


def _load_config(config: str | None, source: str | None) -> dict[str, Any]:
    if config:
        path = Path(config)
        if path.is_dir():
            return read_toml(path)
        if not path.is_file():
            raise ConfigError(f"--config {config}: no such file")
        return read_toml(path.parent) if path.name == CONFIG_NAME else _read_file(path)
    if source and Path(source).is_dir():
        return read_toml(Path(source))
    return read_toml(Path.cwd())


def _read_file(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from err


def _env_pairs(values: tuple[str, ...]) -> dict[str, str] | None:
    if not values:
        return None
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--env {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def target_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """TARGET and the options that override its [targets.NAME] table."""
    options = [
        click.option(
            "--to",
            "to",
            required=True,
            metavar="TARGET",
            help="a directory, ssh://user@host[:port]/path, or a [targets.NAME] in deploysafe.toml",
        ),
        click.option("--config", "config", metavar="PATH", help=f"{CONFIG_NAME} (or its directory) to read"),
        click.option("--health", help="probe: http(s)://host:port/path, tcp://host:port, or a command"),
        click.option("--health-expect", help="substring the health body (or command output) must contain"),
        click.option("--health-interval", type=float, help="seconds between passing probes [1]"),
        click.option("--health-deadline", type=float, help="seconds the health window may take [30]"),
        click.option("--health-passes", type=int, help="consecutive passes required [3]"),
        click.option("--restart", help="command that restarts the service (run in current/)"),
        click.option("--pm2", "pm2", metavar="ECOSYSTEM", help="restart with pm2 startOrReload ECOSYSTEM"),
        click.option("--start", help="boot-test command [the artifact's start]"),
        click.option("--install", help="dependency install command [npm ci --omit=dev]"),
        click.option("--shared", multiple=True, help="path linked from shared/ (repeat; dir/ for a directory)"),
        click.option("--env", "env", multiple=True, metavar="KEY=VALUE", help="environment for commands"),
        click.option("--log", "logs", multiple=True, metavar="PATH", help="log file to tail in a failure report"),
        click.option("--keep", type=int, help="releases to keep [5]"),
        click.option("--boot-port", type=int, help="port for the boot test [a free one]"),
        click.option("--known-hosts", metavar="FILE", help="known_hosts for ssh targets [~/.ssh/known_hosts]"),
        click.option("--identity", metavar="FILE", help="private key for ssh targets"),
        click.option(
            "--trust-new-host-key",
            is_flag=True,
            default=None,
            help="accept and record an unknown ssh host key (a changed key is still refused)",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _spec(kwargs: dict[str, Any], source: str | None = None) -> release.TargetSpec:
    config = _load_config(kwargs.pop("config"), source)
    to = kwargs.pop("to")
    shared = kwargs.pop("shared")
    logs = kwargs.pop("logs")
    env = _env_pairs(kwargs.pop("env"))
    return release.target(to, config=config, shared=list(shared) or None, logs=list(logs) or None, env=env, **kwargs)


def _format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="text for people, json lines for CI",
    )(func)


def _quiet_transport_logs() -> None:
    """A dropped SSH link makes asyncio log one warning per write still queued; the one-line error says it all."""
    for name in ("asyncio", "asyncssh"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _run(fmt: str, action: Callable[[Any], Result]) -> None:
    """Run a deploy/rollback/adopt with the chosen reporter and print its outcome."""
    _quiet_transport_logs()
    console = Console(highlight=False)
    reporter: Any = JsonReporter() if fmt == "json" else TextReporter(console)
    try:
        result = action(reporter)
    except ReleaseFailed as failure:
        if fmt == "json":
            reporter.emit({"event": "result", **failure.result.to_dict()})
        else:
            Console(stderr=True, highlight=False).print(escape(failure.result.report), style="red", soft_wrap=True)
        raise
    if fmt == "json":
        reporter.emit({"event": "result", **result.to_dict()})
        return
    if result.plan:
        console.print(f"[bold]plan[/] for {result.kind} of {escape(result.release)} to {escape(result.target)}:")
        for step, detail in result.plan:
            console.print(f"   [bold]{step:<12}[/] {escape(detail)}", soft_wrap=True)
    message = escape(result.message)
    console.print(f"[bold green]{message}[/] ({result.seconds:.1f}s)" if result.steps else message)


@main.command()
@click.argument("source", required=False, default=".", metavar="[ARTIFACT|ROOT]")
@target_options
@_format_option
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@click.option("--lock-wait", type=float, default=0.0, metavar="SECONDS", help="wait for another deploy's lock")
@click.option("--force", is_flag=True, help="deploy even with the circuit breaker open")
def deploy(source: str, fmt: str, dry_run: bool, lock_wait: float, force: bool, **kwargs: Any) -> None:
    """Upload, verify, install, boot-test, switch atomically, health-gate; roll back by itself on failure.

    \b
    Steps: preflight lock upload verify rename link-shared install boot-test
           switch restart health mark-good prune unlock
    """
    spec = _spec(kwargs, source)
    _run(fmt, lambda r: release.deploy(source, spec, reporter=r, dry_run=dry_run, lock_wait=lock_wait, force=force))


@main.command()
@target_options
@_format_option
@click.option("--release", "release_id", metavar="ID", help="release to put back [the previous good one]")
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@click.option("--lock-wait", type=float, default=0.0, metavar="SECONDS")
def rollback(fmt: str, release_id: str | None, dry_run: bool, lock_wait: float, **kwargs: Any) -> None:
    """Put an earlier release back (verified, restarted, health-gated)."""
    spec = _spec(kwargs)
    _run(fmt, lambda r: release.rollback(spec, release=release_id, reporter=r, lock_wait=lock_wait, dry_run=dry_run))


@main.command()
@target_options
@_format_option
@click.option("--restart/--no-restart", "do_restart", default=False, help="restart from current and check health")
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
def adopt(fmt: str, do_restart: bool, dry_run: bool, **kwargs: Any) -> None:
    """Make a hand-managed tree the first release, in place, keeping every file."""
    spec = _spec(kwargs)
    _run(fmt, lambda r: release.adopt(spec, reporter=r, dry_run=dry_run, restart=do_restart))


@main.command()
@target_options
@_format_option
def releases(fmt: str, **kwargs: Any) -> None:
    """List the releases on a target, newest first."""
    _quiet_transport_logs()
    items = release.releases(_spec(kwargs))
    if fmt == "json":
        click.echo(json.dumps({"releases": [i.to_dict() for i in items]}))
        return
    table = Table(box=None, header_style="bold")
    for column in ("", "release", "status", "when", "version"):
        table.add_column(column)
    for item in items:
        table.add_row("→" if item.current else "", item.id, item.status, item.when, item.version)
    Console(highlight=False).print(table)


@main.command()
@target_options
@_format_option
@click.option("--no-probe", is_flag=True, help="do not probe the live service")
def status(fmt: str, no_probe: bool, **kwargs: Any) -> None:
    """Current release, lock, last deploy, circuit breaker and a live health probe."""
    _quiet_transport_logs()
    info = release.status(_spec(kwargs), probe=not no_probe)
    if fmt == "json":
        click.echo(json.dumps(info.to_dict()))
        return
    console = Console(highlight=False)
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
    console.print(f"  breaker   {breaker}; {info.failures} failed deploys in a row; {info.releases} releases")
    for process in info.processes:
        console.print(f"  process   {escape(process)}")


@main.command()
@target_options
@click.option("--force", is_flag=True, help="break the lock even if its holder is still running here")
def unlock(force: bool, **kwargs: Any) -> None:
    """Break a target's deploy lock by hand."""
    holder = release.unlock(_spec(kwargs), force=force)
    click.echo(f"unlocked (was held by {holder.describe()})" if holder else "not locked")
