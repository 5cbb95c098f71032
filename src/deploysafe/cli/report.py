"""`deploysafe graph` (the import map as HTML, dot or Mermaid) and `deploysafe why FILE`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from deploysafe.check.why import MISSING
from deploysafe.check.why import why as run_why
from deploysafe.cli import output as outputs
from deploysafe.cli.app import main
from deploysafe.cli.check import run_with_progress
from deploysafe.cli.output import format_for
from deploysafe.cli.progress import StageProgress
from deploysafe.cli.project import project_root, rebased_entries, say_root
from deploysafe.errors import ConfigError
from deploysafe.report import graph_formats
from deploysafe.report import why as why_report
from deploysafe.report.console import rich_console

GRAPH_FORMATS = ("html", "dot", "mermaid")


@main.command()
@click.argument("root", default=".", type=click.Path(path_type=Path))
@click.option("--entry", "entries", multiple=True, metavar="FILE", help="Entry file (repeatable). Default: detected.")
@click.option("--format", "fmt", type=click.Choice(GRAPH_FORMATS), help="[html; or from --output's suffix]")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the graph here (.html, .dot/.gv or .mmd/.mermaid pick the format).",
)
@click.option(
    "--folders",
    type=click.IntRange(min=0),
    metavar="DEPTH",
    help="dot and mermaid: draw one node per folder, DEPTH levels down (the HTML map folds folders itself).",
)
@click.option("--node", "node_version", metavar="VERSION", help="Node version production runs (e.g. 20.19).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Files not to count as dormant (repeatable).")
@click.option("--no-cache", is_flag=True, help="Parse every file again instead of reusing cached results.")
def graph(
    root: Path,
    entries: tuple[str, ...],
    fmt: str | None,
    output: Path | None,
    folders: int | None,
    node_version: str | None,
    exclude: tuple[str, ...],
    no_cache: bool,
) -> None:
    """Draw the import graph of the service in ROOT.

    Reachable files, dormant files (grey), packages, and the imports that fail (red, with the message).
    html is one self-contained page that works offline: search by file name, click a file for its
    imports, importers and chain from the entry; big projects open folded by folder. dot is for
    Graphviz (`dot -Tsvg`), mermaid for Markdown (GitHub renders it).

    \b
    Exit code 0 whatever the graph shows (use `deploysafe check` as the gate); 2 on usage errors.

    \b
    Examples:
      deploysafe graph -o graph.html
      deploysafe graph api --format dot | dot -Tsvg > graph.svg
      deploysafe graph --format mermaid --folders 2 > graph.mmd
    """
    fmt = fmt or (format_for(output, GRAPH_FORMATS) if output is not None else "html")
    if fmt == "html" and output is None and sys.stdout.isatty():
        raise ConfigError("--format html writes a whole page: give --output FILE (or redirect stdout)")
    report = run_with_progress(root, entries, node_version, exclude, no_cache, label="reading")
    if fmt == "html":
        from deploysafe.report import html

        rendered = html.render(report)
    else:
        view = graph_formats.graph_view(report)
        if folders is not None:
            view = graph_formats.collapsed(view, folders)
        rendered = graph_formats.to_dot(view) if fmt == "dot" else graph_formats.to_mermaid(view)
    outputs.write(output, rendered)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("root", default=".", type=click.Path(path_type=Path))
@click.option("--entry", "entries", multiple=True, metavar="FILE", help="Entry file (repeatable). Default: detected.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--node", "node_version", metavar="VERSION", help="Node version production runs (e.g. 20.19).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Files not to count as dormant (repeatable).")
@click.option("--no-cache", is_flag=True, help="Parse every file again instead of reusing cached results.")
def why(
    file: Path,
    root: Path,
    entries: tuple[str, ...],
    fmt: str,
    node_version: str | None,
    exclude: tuple[str, ...],
    no_cache: bool,
) -> None:
    """Say which entries load FILE, and through which imports.

    For a file the service loads: every entry that reaches it, each with its shortest import chain.
    For a dormant file: that no entry reaches it, and which (dormant) files import it. For a file that
    does not exist: the imports that name it anyway. FILE is relative to ROOT (or to the current
    folder, or absolute).

    \b
    Exit codes: 0 answered; 2 when FILE neither exists nor is named by any import.

    \b
    Examples:
      deploysafe why src/routes/chat.js
      deploysafe why src/legacy/public-signup.js api --format json
    """
    found = project_root(root)
    say_root(found)
    if found is not None and found.moved and not file.is_absolute() and (found.start / file).exists():
        file = found.start / file
    with StageProgress() as progress:
        result = run_why(
            found.path if found else root,
            file,
            list(rebased_entries(found, entries)) or None,
            node_version=node_version,
            exclude=list(exclude),
            cache=not no_cache,
            progress=progress.stage("reading"),
        )
    if result.status == MISSING and not result.importers:
        raise ConfigError(f"{result.file}: no such file in {result.root}, and no import names it")
    if fmt == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        why_report.render(result, rich_console())
