"""`deploysafe why FILE` for people: which entries load the file and through which chain, or that it is
dormant or missing, then the files that import it. The JSON is ``WhyResult.to_json()``."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from deploysafe.check.why import DORMANT, NOT_CHECKED, REACHABLE, WhyResult


def render(result: WhyResult, console: Console) -> None:
    out = console.print
    name = f"[bold]{escape(result.file)}[/]"
    if result.status == REACHABLE:
        total = len(result.entries)
        out(f"{name} [green]is loaded[/] by {len(result.reached_by)} of {total} entr{'y' if total == 1 else 'ies'}:")
        for reach in result.reached_by:
            out(f"  {escape(' → '.join(reach.chain))}", soft_wrap=True)
    elif result.status == DORMANT:
        entries = escape(", ".join(result.entries))
        out(f"{name} [yellow]is dormant[/]: no entry reaches it (entries: {entries})", soft_wrap=True)
    elif result.status == NOT_CHECKED:
        out(f"{name} exists but is not a source file the check reads (excluded, or not code)", soft_wrap=True)
    else:
        out(f"{name} [red]does not exist[/]", soft_wrap=True)
    if not result.importers:
        out("  no file imports it")
        return
    out(f"imported by ({len(result.importers)}):")
    for x in result.importers:
        where = "[green]loaded[/]" if x.reachable else "[yellow]dormant[/]"
        broken = "" if x.resolves else " [red]does not resolve[/]"
        out(
            f"  {escape(x.file)}:{x.line}:{x.column} {escape(repr(x.specifier))} ({x.kind}, {where}){broken}",
            soft_wrap=True,
        )
    if result.status == DORMANT and result.importers and not any(x.reachable for x in result.importers):
        out("  [dim]every importer is dormant too: nothing that runs loads this file[/]")
