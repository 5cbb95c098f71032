"""``deploy``, ``rollback``, ``releases``, ``status``, ``unlock``, ``adopt``: a thin shell over
:mod:`deploysafe.release`. Text output uses rich (plain lines when not a terminal); ``--format json``
prints one JSON object per line on stdout: ``step`` events as they happen (each with its ``host``),
then a ``result``. A fleet (``--fleet NAME`` or a repeated ``--to``) adds ``phase`` and ``host`` events.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
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
from deploysafe.config import CONFIG_NAME, Config, load, load_file
from deploysafe.errors import ConfigError, DeploysafeError, TargetError
from deploysafe.release import FleetFailed, FleetResult, FleetSpec, HostOutcome, ReleaseFailed, Result, TargetSpec
from deploysafe.release.fleetspec import ON_FAILURE, label

_MARK = {"ok": "[green]✓[/]", "skipped": "[dim]–[/]", "failed": "[red]✗[/]"}


class TextReporter:
    """Step lines as they finish, a progress bar for the upload, a spinner while installing."""

    def __init__(self, console: Console, host: str = "", *, bars: bool = True) -> None:
        self.console = console
        self.prefix = f" {escape(host)}" if host else ""
        self.bars = bars
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


_WRITE = threading.Lock()


class JsonReporter:
    """One JSON object per line on stdout, flushed at once (CI and the crash-walk test read them)."""

    def __init__(self, host: str | None = None) -> None:
        self.tag = host
        self._last_progress = 0.0

    def emit(self, event: dict[str, Any]) -> None:
        if self.tag is not None and event.get("event") != "result":
            event = {"event": event["event"], "host": self.tag, **event}
        line = json.dumps(event) + "\n"
        with _WRITE:  # a fleet's hosts report from their own threads
            sys.stdout.write(line)
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


def _load_config(config: str | None, source: str | None) -> Config:
    if config:
        path = Path(config)
        if path.is_dir():
            return load(path)
        if not path.is_file():
            raise ConfigError(f"--config {config}: no such file")
        return load_file(path)
    if source and Path(source).is_dir():
        return load(Path(source))
    return load(Path.cwd())


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
            multiple=True,
            metavar="TARGET",
            help="a directory, ssh://user@host[:port]/path, or a [targets.NAME] in deploysafe.toml "
            "(repeat it for a fleet, in deploy order)",
        ),
        click.option("--fleet", "fleet", metavar="NAME", help="the targets of [fleets.NAME] in deploysafe.toml"),
        click.option("--config", "config", metavar="PATH", help=f"{CONFIG_NAME} (or its directory) to read"),
        click.option("--health", help="probe: http(s)://host:port/path, tcp://host:port, or a command"),
        click.option(
            "--health-expect",
            help="substring the health body (or command output) must contain; {version} and {release} in it "
            "become the version and id of the release judged, so an old process still holding the port "
            """fails it (e.g. '"version":"{version}"')""",
        ),
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


def _where(kwargs: dict[str, Any], source: str | None = None, fleet_options: dict[str, Any] | None = None) -> Any:
    """The TargetSpec, or the FleetSpec when --fleet, a repeated --to or a [fleets] name is given."""
    config = _load_config(kwargs.pop("config"), source)
    to: tuple[str, ...] = kwargs.pop("to")
    fleet_name: str | None = kwargs.pop("fleet")
    overrides = {
        **kwargs,
        "shared": list(kwargs.pop("shared")) or None,
        "logs": list(kwargs.pop("logs")) or None,
        "env": _env_pairs(kwargs.pop("env")),
    }
    fleets, targets = config.fleets, config.targets
    if fleet_name and to:
        raise ConfigError("say where with --fleet NAME or with --to TARGET, not both")
    if not fleet_name and len(to) == 1 and to[0] in fleets and to[0] not in targets:
        fleet_name, to = to[0], ()  # `--to web` naming a fleet: never a directory called web
    if fleet_name or len(to) > 1:
        chosen = fleet_name if fleet_name else list(to)
        return release.fleet(chosen, config=config, **(fleet_options or {}), **overrides)
    if not to:
        raise ConfigError("say where: --to TARGET (repeat it for a fleet) or --fleet NAME")
    given = {k: v for k, v in (fleet_options or {}).items() if v is not None}
    if given:
        raise ConfigError(f"--{next(iter(given)).replace('_', '-')} is for a fleet: give --fleet NAME or several --to")
    return release.target(to[0], config=config, **overrides)


def _one(kwargs: dict[str, Any], command: str) -> TargetSpec:
    where = _where(kwargs)
    if isinstance(where, FleetSpec):
        raise ConfigError(f"{command} works on one target at a time: run it with --to for each host")
    return where


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


def _run(fmt: str, action: Callable[[Any], Result], host: str | None = None) -> None:
    """Run a deploy/rollback/adopt with the chosen reporter and print its outcome."""
    _quiet_transport_logs()
    console = Console(highlight=False)
    reporter: Any = JsonReporter(host) if fmt == "json" else TextReporter(console)
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


def _run_fleet(fmt: str, action: Callable[[Any], FleetResult]) -> None:
    """Run a fleet deploy/rollback; print each host's outcome, then the fleet's report."""
    _quiet_transport_logs()
    console = Console(highlight=False)
    reporter: Any = JsonFleetReporter() if fmt == "json" else TextFleetReporter(console)
    try:
        result = action(reporter)
    except FleetFailed as failure:
        if fmt == "json":
            reporter.emit({"event": "result", **failure.result.to_dict()})
        else:
            Console(stderr=True, highlight=False).print(escape(failure.result.report), style="red", soft_wrap=True)
        raise
    if fmt == "json":
        reporter.emit({"event": "result", **result.to_dict()})
        return
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


_FLEET_HELP = """
    \b
    A fleet (--fleet NAME, or --to repeated) gets the same artifact on every host:
      survey   every host is read first; if one is unreachable, locked, not a
               deploysafe layout or has its circuit breaker open, no host is touched.
      canary   the first --canary hosts [1]; if one fails (blocked at its boot
               test, or rolled back by its own health gate) the fleet stops there
               and no other host is touched.
      batches  the rest, --batch hosts at a time [1], in parallel; each host keeps
               its own lock, history and automatic rollback. When a host fails, the
               rest of its batch finishes and no later batch starts.
    Every host then runs the new release (it passed its own health gate) or the
    release it had; the report says which, host by host, and exits 1. With
    --on-failure rollback the hosts this run upgraded are put back as well, so
    the fleet ends as it began; the default, stop, leaves them on the new release.
    Run the same deploy again to resume: hosts already on the release are skipped.
"""


@main.command()
@click.argument("source", required=False, default=".", metavar="[ARTIFACT|ROOT]")
@target_options
@_format_option
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@click.option("--lock-wait", type=float, default=0.0, metavar="SECONDS", help="wait for another deploy's lock")
@click.option("--force", is_flag=True, help="deploy even with the circuit breaker open")
@click.option("--canary", type=int, metavar="N", help="fleet: hosts deployed first, before any other [1]")
@click.option("--batch", type=int, metavar="N", help="fleet: hosts deployed at once after the canary [1]")
@click.option(
    "--on-failure",
    type=click.Choice(ON_FAILURE),
    help="fleet: after a failed host, stop (upgraded hosts keep the new release) or also roll back the "
    "hosts this run upgraded [stop]",
)
def deploy(
    source: str,
    fmt: str,
    dry_run: bool,
    lock_wait: float,
    force: bool,
    canary: int | None,
    batch: int | None,
    on_failure: str | None,
    **kwargs: Any,
) -> None:
    """Upload, verify, install, boot-test, switch atomically, health-gate; roll back by itself on failure.

    \b
    Steps: preflight lock upload verify rename link-shared install boot-test
           switch restart health mark-good prune unlock

    \b
    The health gate passes only when the answer comes from the new release:
      --health-expect with {version} / {release} rejects an old process that
               still answers on the port (it is filled in per release judged);
      --pm2    also requires every app of the process file to be online, running
               from the new release (its real working directory), up for
               pm2_min_uptime seconds [5] and not restarting during the window:
               a crash loop fails the gate even while something else answers.
    """
    options = {"canary": canary, "batch": batch, "on_failure": on_failure}
    where = _where(kwargs, source, options)
    if isinstance(where, FleetSpec):
        _run_fleet(
            fmt,
            lambda r: release.deploy_fleet(
                source, where, reporter=r, dry_run=dry_run, lock_wait=lock_wait, force=force
            ),
        )
        return
    _run(
        fmt,
        lambda r: release.deploy(source, where, reporter=r, dry_run=dry_run, lock_wait=lock_wait, force=force),
        label(where),
    )


deploy.help = (deploy.help or "") + _FLEET_HELP


@main.command()
@target_options
@_format_option
@click.option("--release", "release_id", metavar="ID", help="release to put back [the previous good one]")
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@click.option("--lock-wait", type=float, default=0.0, metavar="SECONDS")
@click.option("--batch", type=int, metavar="N", help="fleet: hosts rolled back at once [the fleet's batch]")
def rollback(
    fmt: str, release_id: str | None, dry_run: bool, lock_wait: float, batch: int | None, **kwargs: Any
) -> None:
    """Put an earlier release back (verified, restarted, health-gated).

    \b
    On a fleet every host is rolled back, --batch at a time, without stopping
    early: a host whose chosen release is unhealthy gets the one it had back.
    Without --release all hosts must run the same release (after a stopped
    fleet deploy, name the release to put back).
    """
    where = _where(kwargs, None, {"batch": batch})
    if isinstance(where, FleetSpec):
        _run_fleet(
            fmt,
            lambda r: release.rollback_fleet(
                where, release=release_id, reporter=r, lock_wait=lock_wait, dry_run=dry_run
            ),
        )
        return
    _run(
        fmt,
        lambda r: release.rollback(where, release=release_id, reporter=r, lock_wait=lock_wait, dry_run=dry_run),
        label(where),
    )


@main.command()
@target_options
@_format_option
@click.option(
    "--restart-service/--no-restart-service",
    "do_restart",
    default=False,
    help="restart the service from current (pm2 apps started from the old paths included) and check health",
)
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
def adopt(fmt: str, do_restart: bool, dry_run: bool, **kwargs: Any) -> None:
    """Make a hand-managed tree the first release, in place, keeping every file."""
    spec = _one(kwargs, "adopt")
    _run(fmt, lambda r: release.adopt(spec, reporter=r, dry_run=dry_run, restart=do_restart), label(spec))


@main.command()
@target_options
@_format_option
def releases(fmt: str, **kwargs: Any) -> None:
    """List the releases on a target (or on every host of a fleet), newest first."""
    _quiet_transport_logs()
    where = _where(kwargs)
    if isinstance(where, FleetSpec):
        _fleet_releases(fmt, where)
        return
    items = release.releases(where)
    if fmt == "json":
        click.echo(json.dumps({"releases": [i.to_dict() for i in items]}))
        return
    Console(highlight=False).print(_release_table(items))


def _release_table(items: list[release.ReleaseInfo]) -> Table:
    table = Table(box=None, header_style="bold")
    for column in ("", "release", "status", "when", "version"):
        table.add_column(column)
    for item in items:
        table.add_row("→" if item.current else "", item.id, item.status, item.when, item.version)
    return table


def _fleet_releases(fmt: str, fleet: FleetSpec) -> None:
    views = release.fleet_releases(fleet)
    if fmt == "json":
        hosts = [
            {"host": host, "error": str(items)}
            if isinstance(items, DeploysafeError)
            else {"host": host, "releases": [i.to_dict() for i in items]}
            for host, items in views
        ]
        click.echo(json.dumps({"fleet": fleet.title, "hosts": hosts}))
    else:
        console = Console(highlight=False)
        for host, items in views:
            console.print(f"[bold]{escape(host)}[/]")
            if isinstance(items, DeploysafeError):
                console.print(f"  [red]cannot read: {escape(str(items))}[/]", soft_wrap=True)
            else:
                console.print(_release_table(items))
    _unreadable([(host, items) for host, items in views if isinstance(items, DeploysafeError)])


def _unreadable(errors: list[tuple[str, Any]]) -> None:
    if errors:
        raise TargetError("cannot read " + "; ".join(f"{host}: {err}" for host, err in errors))


@main.command()
@target_options
@_format_option
@click.option("--no-probe", is_flag=True, help="do not probe the live service")
def status(fmt: str, no_probe: bool, **kwargs: Any) -> None:
    """Current release, lock, last deploy, circuit breaker and a live health probe (per host of a fleet)."""
    _quiet_transport_logs()
    where = _where(kwargs)
    if isinstance(where, FleetSpec):
        _fleet_status(fmt, where, probe=not no_probe)
        return
    info = release.status(where, probe=not no_probe)
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


def _fleet_status(fmt: str, fleet: FleetSpec, *, probe: bool) -> None:
    views = release.fleet_status(fleet, probe=probe)
    if fmt == "json":
        hosts = [
            {"host": host, "error": str(info)}
            if isinstance(info, DeploysafeError)
            else {"host": host, **info.to_dict()}
            for host, info in views
        ]
        click.echo(json.dumps({"fleet": fleet.title, "hosts": hosts}))
    else:
        table = Table(box=None, header_style="bold", title=fleet.title, title_justify="left")
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
        Console(highlight=False).print(table)
        running = {info.current for _, info in views if not isinstance(info, DeploysafeError)}
        if len(running) > 1:
            Console(highlight=False).print(f"  [yellow]mixed: the hosts run {len(running)} different releases[/]")
    _unreadable([(host, info) for host, info in views if isinstance(info, DeploysafeError)])


@main.command()
@target_options
@click.option("--force", is_flag=True, help="break the lock even if its holder is still running here")
def unlock(force: bool, **kwargs: Any) -> None:
    """Break a target's deploy lock by hand."""
    holder = release.unlock(_one(kwargs, "unlock"), force=force)
    click.echo(f"unlocked (was held by {holder.describe()})" if holder else "not locked")
