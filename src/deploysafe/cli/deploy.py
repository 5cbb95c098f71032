"""``deploy``, ``rollback``, ``releases``, ``status``, ``unlock``, ``adopt``: a thin shell over
:mod:`deploysafe.release`. Text output uses rich (plain lines when not a terminal); ``--format json``
prints one JSON object per line on stdout: ``step`` events as they happen (each with its ``host``),
then a ``result``. A fleet (``--fleet NAME`` or a repeated ``--to``) adds ``phase`` and ``host`` events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from deploysafe import release
from deploysafe.cli import swarm as swarm_cli
from deploysafe.cli.app import main, stdout_gone
from deploysafe.cli.project import project_root
from deploysafe.config import CONFIG_NAME, Config, load, load_file
from deploysafe.errors import ConfigError, DeploysafeError, TargetError
from deploysafe.release import FleetFailed, FleetResult, FleetSpec, ReleaseFailed, Result, TargetSpec
from deploysafe.release.fleetspec import ON_FAILURE, label
from deploysafe.report import deploy as view
from deploysafe.report.console import rich_console


def _load_config(config: str | None, source: str | None) -> Config:
    """--config, else the deploysafe.toml of the project SOURCE (a tree) or the current folder is inside."""
    if config:
        path = Path(config)
        if path.is_dir():
            return load(path)
        if not path.is_file():
            raise ConfigError(f"--config {config}: no such file")
        return load_file(path)
    found = project_root(source if source and Path(source).is_dir() else Path.cwd())
    return load(found.path if found else Path.cwd())


def _known_target(to: str, config: Config, *, may_create: bool) -> None:
    """A TARGET must be a [targets] name, an ssh:// URL or a deploy root; a mistyped name is not a folder.

    ``may_create`` (deploy): a path not there yet is a new deploy root when it is written as a path
    (``./x``, ``~/x``, ``/srv/x``, ``a/b``); a bare word that names no folder is a mistyped name."""
    if to in config.targets or to in config.fleets or "://" in to:
        return
    local = Path(to).expanduser()
    if local.is_dir():
        return
    if local.exists():
        raise ConfigError(f"--to {to}: not a directory")
    if may_create and ("/" in to or to.startswith(("~", "."))):
        return
    known = [*config.targets, *(f"{name} (fleet)" for name in config.fleets)]
    names = ", ".join(known) if known else f"none: no [targets] in {config.source}"
    raise ConfigError(
        f"unknown target {to!r}: not a [targets] name, an ssh:// URL or an existing deploy root (known targets: {names})"
    )


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


_OPTIONS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "to": click.option(
        "--to",
        "to",
        multiple=True,
        metavar="TARGET",
        help="a [targets.NAME] in deploysafe.toml, ssh://user@host[:port]/path, or a deploy root directory "
        "(repeat it for a fleet, in deploy order)",
    ),
    "fleet": click.option("--fleet", "fleet", metavar="NAME", help="the targets of [fleets.NAME] in deploysafe.toml"),
    "config": click.option(
        "--config", "config", metavar="PATH", help=f"{CONFIG_NAME} (or its directory) to read [the project's]"
    ),
    "health": click.option("--health", help="probe: http(s)://host:port/path, tcp://host:port, or a command"),
    "health_expect": click.option(
        "--health-expect",
        help="substring the health body (or command output) must contain; {version} and {release} in it "
        "become the version and id of the release judged, so an old process still holding the port "
        """fails it (e.g. '"version":"{version}"')""",
    ),
    "health_interval": click.option("--health-interval", type=float, help="seconds between passing probes [0.5]"),
    "health_deadline": click.option("--health-deadline", type=float, help="seconds the health window may take [30]"),
    "health_passes": click.option("--health-passes", type=int, help="consecutive passes required [3]"),
    "restart": click.option("--restart", help="command that restarts the service (run in current/)"),
    "pm2": click.option("--pm2", "pm2", metavar="ECOSYSTEM", help="restart with pm2 startOrReload ECOSYSTEM"),
    "start": click.option("--start", help="boot-test command [the artifact's start]"),
    "install": click.option("--install", help="dependency install command [npm ci --omit=dev]"),
    "shared": click.option("--shared", multiple=True, help="path linked from shared/ (repeat; dir/ for a directory)"),
    "env": click.option("--env", "env", multiple=True, metavar="KEY=VALUE", help="environment for commands"),
    "logs": click.option("--log", "logs", multiple=True, metavar="PATH", help="log file to tail in a failure report"),
    "keep": click.option("--keep", type=int, help="releases to keep [5]"),
    "boot_port": click.option("--boot-port", type=int, help="port for the boot test [a free one]"),
    "known_hosts": click.option(
        "--known-hosts", metavar="FILE", help="known_hosts for ssh targets [~/.ssh/known_hosts]"
    ),
    "identity": click.option("--identity", metavar="FILE", help="private key for ssh targets"),
    "trust_new_host_key": click.option(
        "--trust-new-host-key",
        is_flag=True,
        default=None,
        help="accept and record an unknown ssh host key (a changed key is still refused)",
    ),
}
_WHERE = ("to", "fleet", "config", "known_hosts", "identity", "trust_new_host_key")
_HEALTH = ("health", "health_expect", "health_interval", "health_deadline", "health_passes")
_SERVICE = ("restart", "pm2", "env", "logs")


def target_options(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """TARGET and the options (of :data:`_OPTIONS`, in that order) that override its [targets.NAME] table:
    each command lists only those it uses (all of them without ``names``)."""
    chosen = [name for name in _OPTIONS if not names or name in names]

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(chosen):
            func = _OPTIONS[name](func)
        return func

    return decorate


def _where(
    kwargs: dict[str, Any],
    source: str | None = None,
    fleet_options: dict[str, Any] | None = None,
    *,
    may_create: bool = False,
) -> Any:
    """The TargetSpec, or the FleetSpec when --fleet, a repeated --to or a [fleets] name is given."""
    config = _load_config(kwargs.pop("config"), source)
    to: tuple[str, ...] = kwargs.pop("to")
    swarm_cli.swarm_target(config, to, click.get_current_context().info_name or "this command")
    for each in to:
        _known_target(each, config, may_create=may_create)
    fleet_name: str | None = kwargs.pop("fleet")
    overrides = {
        **kwargs,
        "shared": list(kwargs.pop("shared", ())) or None,
        "logs": list(kwargs.pop("logs", ())) or None,
        "env": _env_pairs(kwargs.pop("env", ())),
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


def _swarm(kwargs: dict[str, Any], command: str, source: str | None = None) -> tuple[str, Any] | None:
    """(name, table) when ``--to`` names a swarm target (the other options are then not used)."""
    if kwargs.get("fleet") or not kwargs.get("to"):
        return None
    config = _load_config(kwargs.get("config"), source)
    return swarm_cli.swarm_target(config, kwargs["to"], command)


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
    console = rich_console()
    reporter: Any = view.JsonReporter(host) if fmt == "json" else view.TextReporter(console)
    try:
        result = action(reporter)
    except ReleaseFailed as failure:
        if fmt == "json":
            _emit_result(reporter, failure.result)
        else:
            view.print_failure(failure.result.report)
        raise
    if fmt == "json":
        _emit_result(reporter, result)
        return
    view.print_result(result, console)


def _emit_result(reporter: view.JsonReporter, result: Result) -> None:
    """The closing JSON line; a reader that went away does not hide the outcome (the exit code and stderr)."""
    try:
        reporter.emit({"event": "result", **result.to_dict()})
    except BrokenPipeError:
        stdout_gone()


def _run_fleet(fmt: str, action: Callable[[Any], FleetResult]) -> None:
    """Run a fleet deploy/rollback; print each host's outcome, then the fleet's report."""
    _quiet_transport_logs()
    console = rich_console()
    reporter: Any = view.JsonFleetReporter() if fmt == "json" else view.TextFleetReporter(console)
    try:
        result = action(reporter)
    except FleetFailed as failure:
        if fmt == "json":
            reporter.emit({"event": "result", **failure.result.to_dict()})
        else:
            view.print_failure(failure.result.report)
        raise
    if fmt == "json":
        reporter.emit({"event": "result", **result.to_dict()})
        return
    view.print_fleet_result(result, console)


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
@target_options()
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
               pm2_min_uptime seconds [1.5] and not restarting during the window:
               a crash loop fails the gate even while something else answers.

    \b
    Exit codes: 0 deployed and healthy, 1 blocked or failed (rolled back when it
    had switched), 2 usage or configuration error; 130/143 interrupted.

    \b
    Examples:
      deploysafe deploy --to production                 # pack this project, then deploy it
      deploysafe deploy dist/api-1.4.0-3f88961c.tar.gz --to ssh://deploy@app1.example.com/srv/api
      deploysafe deploy --to production --dry-run
      deploysafe deploy --fleet web --canary 1 --batch 2 --format json
    """
    options = {"canary": canary, "batch": batch, "on_failure": on_failure}
    swarm = _swarm(kwargs, "deploy", None if Path(source).is_file() else source)
    if swarm is not None:
        swarm_cli.deploy(fmt, source, *swarm, dry_run=dry_run)
        return
    tree = project_root(source) if Path(source).is_dir() else None
    source = str(tree.path) if tree is not None else source
    where = _where(kwargs, source, options, may_create=True)
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
@target_options(*_WHERE, *_HEALTH, *_SERVICE)
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

    \b
    Exit codes: 0 rolled back and healthy, 1 failed (the report says what runs
    now), 2 usage or configuration error.

    \b
    Examples:
      deploysafe rollback --to production
      deploysafe rollback --to production --release 20260131T120000Z-1.4.0 --dry-run
      deploysafe rollback --fleet web --format json
    """
    swarm = _swarm(kwargs, "rollback")
    if swarm is not None:
        swarm_cli.rollback(fmt, *swarm, release_id)
        return
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
@target_options(*_WHERE, *_HEALTH, *_SERVICE, "shared")
@_format_option
@click.option(
    "--restart-service/--no-restart-service",
    "do_restart",
    default=False,
    help="restart the service from current (pm2 apps started from the old paths included) and check health",
)
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
def adopt(fmt: str, do_restart: bool, dry_run: bool, **kwargs: Any) -> None:
    """Make a hand-managed tree the first release, in place, keeping every file.

    \b
    Exit codes: 0 adopted, 1 failed (the report says what state the tree is in),
    2 usage or configuration error.

    \b
    Examples:
      deploysafe adopt --to ssh://deploy@app1.example.com/srv/api --dry-run
      deploysafe adopt --to production --restart-service --pm2 ecosystem.config.cjs
    """
    spec = _one(kwargs, "adopt")
    _run(fmt, lambda r: release.adopt(spec, reporter=r, dry_run=dry_run, restart=do_restart), label(spec))


@main.command()
@target_options(*_WHERE)
@_format_option
def releases(fmt: str, **kwargs: Any) -> None:
    """List the releases on a target (or on every host of a fleet), newest first.

    \b
    Exit codes: 0 listed, 1 a host could not be read, 2 usage or configuration error.

    \b
    Examples:
      deploysafe releases --to production
      deploysafe releases --fleet web --format json
    """
    _quiet_transport_logs()
    swarm = _swarm(kwargs, "releases")
    if swarm is not None:
        swarm_cli.releases(fmt, *swarm)
        return
    where = _where(kwargs)
    if isinstance(where, FleetSpec):
        _fleet_releases(fmt, where)
        return
    items = release.releases(where)
    if fmt == "json":
        click.echo(view.releases_json(items))
        return
    rich_console().print(view.release_table(items))


def _fleet_releases(fmt: str, fleet: FleetSpec) -> None:
    views = release.fleet_releases(fleet)
    if fmt == "json":
        click.echo(view.fleet_releases_json(fleet.title, views))
    else:
        view.print_fleet_releases(views, rich_console())
    _unreadable([(host, items) for host, items in views if isinstance(items, DeploysafeError)])


def _unreadable(errors: list[tuple[str, Any]]) -> None:
    if errors:
        raise TargetError("cannot read " + "; ".join(f"{host}: {err}" for host, err in errors))


@main.command()
@target_options(*_WHERE, "health", "health_expect")
@_format_option
@click.option("--no-probe", is_flag=True, help="do not probe the live service")
def status(fmt: str, no_probe: bool, **kwargs: Any) -> None:
    """Current release, lock, last deploy, circuit breaker and a live health probe (per host of a fleet).

    \b
    Exit codes: 0 shown (whatever the health), 1 a host could not be read,
    2 usage or configuration error.

    \b
    Examples:
      deploysafe status --to production
      deploysafe status --fleet web --no-probe --format json
    """
    _quiet_transport_logs()
    swarm = _swarm(kwargs, "status")
    if swarm is not None:
        swarm_cli.status(fmt, *swarm)
        return
    where = _where(kwargs)
    if isinstance(where, FleetSpec):
        _fleet_status(fmt, where, probe=not no_probe)
        return
    info = release.status(where, probe=not no_probe)
    if fmt == "json":
        click.echo(view.status_json(info))
        return
    view.print_status(info, rich_console())


def _fleet_status(fmt: str, fleet: FleetSpec, *, probe: bool) -> None:
    views = release.fleet_status(fleet, probe=probe)
    if fmt == "json":
        click.echo(view.fleet_status_json(fleet.title, views))
    else:
        view.print_fleet_status(fleet.title, views, rich_console())
    _unreadable([(host, info) for host, info in views if isinstance(info, DeploysafeError)])


@main.command()
@target_options(*_WHERE)
@click.option("--force", is_flag=True, help="break the lock even if its holder is still running here")
def unlock(force: bool, **kwargs: Any) -> None:
    """Break a target's deploy lock by hand.

    \b
    Exit codes: 0 unlocked (or not locked), 1 the holder still runs here (use
    --force), 2 usage or configuration error.

    \b
    Examples:
      deploysafe unlock --to production
    """
    holder = release.unlock(_one(kwargs, "unlock"), force=force)
    click.echo(f"unlocked (was held by {holder.describe()})" if holder else "not locked")
