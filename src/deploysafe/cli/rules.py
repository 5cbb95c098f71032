"""`deploysafe rules`: list every rule the check applies, with its one-line summary."""

from __future__ import annotations

import click

from deploysafe.cli.app import main
from deploysafe.report.console import rich_console


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format [text].")
@click.option("--verbose", "-v", is_flag=True, help="Also say what the runtime does and how to fix each.")
def rules(fmt: str, verbose: bool) -> None:
    """List every rule `check` applies: its id (as findings, JSON and SARIF name it) and what it finds.

    \b
    Exit codes: 0 listed, 2 usage error.

    \b
    Examples:
      deploysafe rules
      deploysafe rules --verbose
      deploysafe rules --format json
    """
    from deploysafe.ecosystems import registered
    from deploysafe.report import rules as report

    rulesets = [ecosystem.rules for ecosystem in registered()]
    if fmt == "json":
        click.echo(report.render_json(rulesets), nl=False)
    else:
        report.render_text(rulesets, rich_console(), verbose=verbose)
