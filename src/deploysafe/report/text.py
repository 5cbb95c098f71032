"""The check report for people: one line per finding with its chain, errors first, then a summary.

It prints to a :class:`~deploysafe.report.console.Printer`: rich's Console on a terminal (lines wrapped to
its width), a plain one on a pipe or file (one line per finding, and rich is not loaded)."""

from __future__ import annotations

from deploysafe.check.findings import Finding, Severity
from deploysafe.check.pipeline import Report
from deploysafe.report.console import Printer as Console
from deploysafe.report.console import escape

MAX_LISTED = 20  # dormant files and unverified edges shown before "... and N more"
MAX_WARNINGS = 50  # warnings shown before "... and N more" (errors are always all shown)


def render(report: Report, console: Console, *, verbose: bool = False) -> None:
    out = console.print
    if report.root_moved:
        _line(console, f"[bold]root[/]  {escape(report.root)} [dim]({escape(report.root_reason or '')})[/]")
    for entry in report.entries:
        _line(console, f"[bold]entry[/] {escape(entry.path)} [dim]({escape(entry.reason)})[/]")
    out(f"[bold]node[/]  {report.node} [dim]({escape(report.node.source)})[/]", soft_wrap=True)
    if report.typescript is not None:
        _line(console, f"[bold]typescript[/] {escape(report.typescript.describe(report.root))}")

    errors, warnings = report.errors, report.warnings
    if errors:
        out()
        out(f"[bold red]errors ({len(errors)})[/] [dim]— Node fails on these in production[/]")
        for finding in errors:
            _finding(console, finding)
    if warnings:
        out()
        out(f"[bold yellow]warnings ({len(warnings)})[/] [dim]— dormant files or faults that do not stop loading[/]")
        shown = warnings if verbose else warnings[:MAX_WARNINGS]
        for finding in shown:
            _finding(console, finding)
        if len(warnings) > len(shown):
            out(
                f"[dim]... and {len(warnings) - len(shown)} more warnings (--verbose lists all; --format json has them)[/]"
            )
    if report.dormant:
        out()
        out(f"[bold]dormant ({len(report.dormant)})[/] [dim]— no entry loads these; not shipped by pack[/]")
        _listing(console, report.dormant, verbose)
    if report.nested:
        out()
        out(
            f"[bold]other projects ({len(report.nested)})[/] [dim]— not scanned"
            f" ({escape('[check]')} include_nested = true scans them)[/]"
        )
        for nested in report.nested:
            _line(console, f"  {escape(nested.path)} [dim]— {escape(nested.reason)}[/]", hang=4)
    if report.unverified:
        out()
        out(f"[bold]unverified ({len(report.unverified)})[/] [dim]— edges that could not be followed[/]")
        lines = [str(u) for u in report.unverified]
        _listing(console, lines, verbose)

    out()
    summary(report, console)


def summary(report: Report, console: Console) -> None:
    """The verdict in one line: DEPLOYABLE or BLOCKED, and the counts."""
    s = report.summary()
    counts = (
        f"{len(report.entries)} entr{'y' if len(report.entries) == 1 else 'ies'} · {s['files']} files · "
        f"{s['reachable']} reachable · {s['dormant']} dormant · {s['errors']} errors · "
        f"{s['warnings']} warnings · {s['unverified']} unverified · {report.seconds:.2f} s"
    )
    if report.deployable:
        _line(console, f"[bold green]DEPLOYABLE[/] {counts}", hang=11)
    else:
        _line(console, f"[bold red]BLOCKED[/] {counts}", hang=8)


def render_changes(before: Report, after: Report, console: Console) -> None:
    """What a re-check changed (``check --watch``): each finding that appeared (``new``) or is gone
    (``fixed``), with its chain, then the summary line."""
    from deploysafe.check.watch import changes

    found = changes(before, after)
    for finding in found.new:
        colour = "red" if finding.severity is Severity.ERROR else "yellow"
        console.print(f"[bold {colour}]new[/]", end=" ", highlight=False)
        _finding(console, finding)
    for finding in found.fixed:
        _line(console, "[bold green]fixed[/] " + finding.render(text=escape))
    summary(after, console)


def _finding(console: Console, finding: Finding) -> None:
    colour = "red" if finding.severity is Severity.ERROR else "yellow"
    _line(console, finding.render(text=escape, rule=lambda rule: f"[{colour}]{rule}[/]"))
    if finding.chain and len(finding.chain) > 1:
        _line(console, f"    [dim]chain: {escape(' → '.join(finding.chain))}[/]")
    elif not finding.reachable:
        console.print("    [dim]dormant: no entry loads this file[/]", highlight=False)


def _line(console: Console, markup: str, hang: int = 6) -> None:
    """One finding per line when piped (grep, editors, CI logs); wrapped to the terminal's width, with
    the continuation indented, when a person reads it in a terminal."""
    if not console.is_terminal:
        console.print(markup, soft_wrap=True, highlight=False)
        return
    from rich.console import Console as RichConsole
    from rich.text import Text

    assert isinstance(console, RichConsole)  # a terminal's console is rich's (report.console.console_for)
    lines = Text.from_markup(markup).wrap(console, max(console.width - hang, 20))
    for i, line in enumerate(lines):
        line.rstrip()
        console.print(line if i == 0 else Text(" " * hang) + line, soft_wrap=True, highlight=False)


def _listing(console: Console, lines: list[str], verbose: bool) -> None:
    shown = lines if verbose else lines[:MAX_LISTED]
    for line in shown:
        console.print(f"  {escape(line)}", soft_wrap=True, highlight=False)
    if len(lines) > len(shown):
        console.print(f"  [dim]... and {len(lines) - len(shown)} more (--verbose lists all)[/]")
