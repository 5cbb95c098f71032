"""`deploysafe check`: the import closure from the entries, proven to load (or not)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from deploysafe.check.ecosystem import RuntimeChoice
from deploysafe.check.pipeline import CheckSession, Report
from deploysafe.cli import output as outputs
from deploysafe.cli.app import main
from deploysafe.cli.output import format_for
from deploysafe.cli.progress import StageProgress
from deploysafe.cli.project import project_root, rebased_entries
from deploysafe.errors import ConfigError
from deploysafe.report import text as text_report
from deploysafe.report.console import PlainConsole, console_for
from deploysafe.rootfind import Root

# --format choices; every format but text is a module deploysafe.report.<name> with render(report) -> str.
FORMATS = ("text", "json", "sarif", "html")


def render_to(fmt: str, report, output: Path | None, verbose: bool) -> None:
    """Write ``report`` in ``fmt`` to ``output`` (or stdout)."""
    if fmt == "text":
        if output is None:
            text_report.render(report, console_for(), verbose=verbose)
        else:
            with outputs.opened(output) as handle:
                text_report.render(report, PlainConsole(handle, width=200), verbose=verbose)
        return
    try:
        renderer = importlib.import_module(f"deploysafe.report.{fmt}")
    except ModuleNotFoundError as err:
        raise ConfigError(f"--format {fmt} is not available in this build") from err
    rendered = renderer.render(report)
    outputs.write(output, rendered)


def target_node(root: Path, node_version: str | None, to: str | None) -> str | RuntimeChoice | None:
    """--node, else with --to the Node version the target's last good deploy recorded (a note on stderr
    when it has none yet)."""
    if node_version or not to:
        return node_version
    from deploysafe.release.node_record import target_runtime

    found = project_root(root)
    choice, note = target_runtime(found.path if found else root, to)
    if choice is None:
        click.echo(f"note: {note}; the Node version is chosen as without --to", err=True)
    return choice


def run_with_progress(
    root: Path,
    entries: tuple[str, ...],
    node_version: str | RuntimeChoice | None,
    exclude: tuple[str, ...],
    no_cache: bool,
    label: str = "checking",
):
    """`deploysafe.check` on the project ``root`` is inside, with a progress bar on stderr when it takes more
    than a second."""
    session, found = open_session(root, entries, node_version, exclude, no_cache)
    try:
        with StageProgress() as progress:
            return with_root(session.check(progress=progress.stage(label)), found)
    finally:
        session.close()


def open_session(
    root: Path,
    entries: tuple[str, ...],
    node_version: str | RuntimeChoice | None,
    exclude: tuple[str, ...],
    no_cache: bool,
) -> tuple[CheckSession, Root | None]:
    """A check of the project ``root`` is inside (the entries given relative to ``root`` rebased onto it)."""
    found = project_root(root)
    session = CheckSession(
        found.path if found else root,
        list(rebased_entries(found, entries)) or None,
        node_version=node_version,
        exclude=list(exclude),
        cache=not no_cache,
    )
    return session, found


def with_root(report: Report, found: Root | None) -> Report:
    """The report, saying how its root was found when it is not the folder given."""
    if found is not None:
        report.root_reason, report.root_start = found.reason, str(found.start)
    return report


@main.command()
@click.argument("root", default=".", type=click.Path(path_type=Path))
@click.option("--entry", "entries", multiple=True, metavar="FILE", help="Entry file (repeatable). Default: detected.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Report format [text; or from --output's suffix].")
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here (repeatable: .json .sarif .html .txt pick the format, another suffix is an error; text still goes to stdout).",
)
@click.option("--node", "node_version", metavar="VERSION", help="Node version production runs (e.g. 20.19).")
@click.option(
    "--to",
    "to",
    metavar="TARGET",
    help="Check for this deploy target: assume the Node version its last good deploy recorded (--node wins).",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Files not to count as dormant (repeatable).")
@click.option("--no-cache", is_flag=True, help="Parse every file again instead of reusing cached results.")
@click.option("--verbose", "-v", is_flag=True, help="List every dormant file and unverified edge.")
@click.option(
    "--watch",
    is_flag=True,
    help="Check again whenever a file changes and print what changed in the verdict; Ctrl-C stops.",
)
def check(
    root: Path,
    entries: tuple[str, ...],
    fmt: str | None,
    outputs: tuple[Path, ...],
    node_version: str | None,
    to: str | None,
    exclude: tuple[str, ...],
    no_cache: bool,
    verbose: bool,
    watch: bool,
) -> None:
    """Prove that the service in ROOT will load in production.

    From the entry points (detected from a PM2 ecosystem file, a Procfile, package.json
    scripts.start or main, or given with --entry) deploysafe follows every import the way Node does
    and reports what would crash: missing files, wrong letter case, names a module does not export,
    packages that are not installed or only dev dependencies, syntax errors. Files no entry loads are
    listed as dormant; their faults are warnings and never block.

    \b
    Exit codes: 0 deployable, 1 blocked (at least one error), 2 usage or configuration error.

    \b
    Examples:
      deploysafe check                       # the project in this directory
      deploysafe check api --entry src/index.js --entry src/worker.js
      deploysafe check --format json -o report.json
      deploysafe check -o deploysafe.sarif -o deploysafe.html   # one run, several reports, text on stdout
      deploysafe check --watch               # re-check on every save; prints new and fixed findings
      deploysafe check --to web              # against the Node version target web runs
    """
    if watch:
        if fmt not in (None, "text") or outputs:
            raise ConfigError("--watch prints to the terminal: it takes no --format or --output")
        sys.exit(watch_check(root, entries, target_node(root, node_version, to), exclude, no_cache, verbose))
    if fmt is not None and len(outputs) > 1:
        raise ConfigError("--format is for one --output: with several, each file's suffix chooses its format")
    chosen = [fmt if fmt is not None and len(outputs) == 1 else format_for(o, FORMATS) for o in outputs]  # before work
    report = run_with_progress(root, entries, target_node(root, node_version, to), exclude, no_cache)
    if not outputs:
        render_to(fmt or "text", report, None, verbose)
    elif fmt is not None:
        render_to(fmt, report, outputs[0], verbose)
    else:
        for output, kind in zip(outputs, chosen, strict=True):
            render_to(kind, report, output, verbose)
        render_to("text", report, None, verbose)
    sys.exit(report.exit_code)


def watch_check(
    root: Path,
    entries: tuple[str, ...],
    node_version: str | RuntimeChoice | None,
    exclude: tuple[str, ...],
    no_cache: bool,
    verbose: bool,
) -> int:
    """The full report once, then what each re-check changed, until Ctrl-C; the last verdict's exit code."""
    from deploysafe.check.watch import watch

    console = console_for()
    session, found = open_session(root, entries, node_version, exclude, no_cache)
    last: list[int] = []

    def show(before, after) -> None:
        with_root(after, found)
        if before is None:
            text_report.render(after, console, verbose=verbose)
        else:
            text_report.render_changes(before, after, console)
        console.print("[dim]watching for changes (Ctrl-C stops)[/]")
        last[:] = [after.exit_code]

    try:
        watch(session, show)
    except KeyboardInterrupt:  # during a check; between checks watchfiles returns
        pass
    finally:
        session.close()
    return last[0] if last else 130
