"""`deploysafe drift`'s report: text for people (rich; plain when not a terminal), and JSON.

:func:`render` prints the verdict first, then the needed files with the import that loads each, the other
classes (limited to a screenful unless ``verbose``), the source's own closure and a summary line;
:func:`to_json` is the report's data with what ``--pull-needed`` copied.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TypeVar

from rich.console import Console
from rich.markup import escape

from deploysafe.drift import Changed, DriftReport, LocalOnly, PullResult, SourceOnly, display
from deploysafe.drift.compare import Usage
from deploysafe.report.words import count

LIST_LIMIT = 20
T = TypeVar("T")


def to_json(report: DriftReport, pulled: PullResult | None) -> str:
    data = report.to_json()
    data["pulled"] = pulled.to_json() if pulled is not None else None  # null without --pull-needed
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def _p(path: str) -> str:
    return escape(display(path))


def _entries(names: list[str]) -> str:
    shown = [display(e) for e in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def verdict(report: DriftReport) -> str:
    label = escape(report.source.label)
    if report.needed:
        n = len(report.needed)
        has, them = ("has is", "it") if n == 1 else ("has are", "them")
        return (
            f"[bold red]NEEDED[/] {count(n, 'file')} {label} {has} needed by {escape(_entries(report.needed_by))}: "
            f"copy {them} before deploying (--pull-needed)"
        )
    if not report.before.deployable:
        errors = len(report.before.errors)
        return (
            f"[bold red]BLOCKED[/] nothing {label} has is needed by {escape(_entries(report.entries))}, "
            f"but ROOT fails check with {errors} error{'s' if errors != 1 else ''} that {label} does not fix"
        )
    return f"[bold green]OK[/] nothing {label} has is needed by {escape(_entries(report.entries))}"


def render(report: DriftReport, pulled: PullResult | None, console: Console, verbose: bool) -> None:
    console.print(verdict(report))
    for item in report.needed:
        where = f"{_p(item.importer)}:{item.line}" if item.importer else "an entry"
        spec = f" '{escape(item.specifier)}'" if item.specifier else ""
        console.print(f"  [bold]{_p(item.path)}[/]  ({item.when}: {where}{spec})")
        console.print(f"    [dim]{' → '.join(_p(c) for c in item.chain)}[/]")
    after = report.after or report.before
    if report.needed and not after.deployable:
        console.print(
            f"[red]still blocked with them:[/] {len(after.errors)} error(s) {escape(report.source.label)} does not fix"
        )
        for finding in after.errors[:LIST_LIMIT]:
            console.print(f"  {finding.render(text=_p)}")
    elif not report.needed and not report.before.deployable:
        for finding in report.before.errors[:LIST_LIMIT]:
            console.print(f"  {finding.render(text=_p)}")
    _classes(report, console, verbose)
    _closure(report, console)
    _summary(report, console)
    if pulled is not None:
        _pulled(report, pulled, console)


def _limited(items: list[T], verbose: bool) -> tuple[list[T], int]:
    if verbose or len(items) <= LIST_LIMIT:
        return items, 0
    return items[:LIST_LIMIT], len(items) - LIST_LIMIT


def _classes(report: DriftReport, console: Console, verbose: bool) -> None:
    label = escape(report.source.label)
    if report.source_only_dormant:
        _source_only(report.source_only_dormant, label, console, verbose)
    if report.changed:
        _changed(report.changed, console, verbose)
    if report.local_only:
        _local_only(report.local_only, console, verbose)
    if report.unreadable:
        console.print(f"\n[bold yellow]unreadable[/] ({len(report.unreadable)}) — not compared")
        shown, more = _limited(report.unreadable, verbose)
        for problem in shown:
            side = "ROOT" if problem.side == "local" else label
            console.print(f"  {side}: {_p(problem.path)}: {escape(problem.message)}")
        _more(console, more)
    if verbose and report.same:
        console.print(f"\n[bold]same[/] ({len(report.same)})")
        for path in report.same:
            console.print(f"  {_p(path)}")


def _source_only(items: list[SourceOnly], label: str, console: Console, verbose: bool) -> None:
    console.print(
        f"\n[bold]source-only-dormant[/] ({len(items)}) — only in {label}; "
        "nothing the entries load needs them: do not ship them blindly"
    )
    ordered = sorted(items, key=lambda s: (not s.faults, s.in_source != "reachable", s.path))
    shown, more = _limited(ordered, verbose)
    for item in shown:
        notes = [f"loaded by {label}'s own entries"] if item.in_source == "reachable" else []
        if item.faults:
            notes.append("[yellow]broken[/]: " + escape(item.faults[0]))
        console.print(f"  {_p(item.path)}" + (f"  [dim]({'; '.join(notes)})[/]" if notes else ""))
    _more(console, more, [s.path for s in ordered[len(shown) :]])


def _changed(items: list[Changed], console: Console, verbose: bool) -> None:
    console.print(f"\n[bold]changed[/] ({len(items)}) — {_counts([c.usage for c in items])}")
    ordered = sorted(items, key=lambda c: (not c.usage.reachable, c.path))
    shown, more = _limited(ordered, verbose)
    for item in shown:
        console.print(
            f"  {_tag(item.usage.via)}  {_p(item.path)}  [dim]{item.source.size} → {item.local.size} bytes[/]"
        )
    _more(console, more, [c.path for c in ordered[len(shown) :]])


def _local_only(items: list[LocalOnly], console: Console, verbose: bool) -> None:
    console.print(f"\n[bold]local-only[/] ({len(items)}) — {_counts([x.usage for x in items])}")
    ordered = sorted(items, key=lambda x: (not x.usage.reachable, x.path))
    shown, more = _limited(ordered, verbose)
    for item in shown:
        console.print(f"  {_tag(item.usage.via)}  {_p(item.path)}")
    _more(console, more, [x.path for x in ordered[len(shown) :]])


def _counts(usages: list[Usage]) -> str:
    """``3 reachable, 1 asset, 2 config files, 0 dormant``: modules the entries load, files they read, the manifests
    and lockfile the install reads, and the rest (asset and config only when there are some)."""
    vias = [usage.via if usage.reachable else None for usage in usages]
    parts = [f"{vias.count('import')} reachable"]
    parts += [
        count(vias.count(via), noun) for via, noun in (("asset", "asset"), ("config", "config file")) if via in vias
    ]
    return ", ".join([*parts, f"{vias.count(None)} dormant"])


def _tag(via: str | None) -> str:
    return {"import": "reachable", "asset": "asset    ", "config": "config   "}.get(via or "", "[dim]dormant[/]  ")


def _more(console: Console, more: int, rest: list[str] | None = None) -> None:
    if not more:
        return
    where = ""
    if rest:
        folders = Counter(p.split("/", 1)[0] + ("/" if "/" in p else "") for p in rest)
        where = " in " + ", ".join(f"{_p(name)} ({count})" for name, count in folders.most_common(4))
        if len(folders) > 4:
            where += ", …"
    console.print(f"  [dim]… {more} more{where} (--verbose or --format json)[/]")


def _closure(report: DriftReport, console: Console) -> None:
    closure = report.source_closure
    if closure is None:
        return
    label = escape(report.source.label)
    if closure.complete is None:
        console.print(f"\n{label}'s own closure: not judged ({escape(closure.note)})")
        return
    names = escape(_entries(list(closure.entries)))
    if closure.complete:
        console.print(f"\n{label}'s own closure: [green]complete[/] — {names} find every file they import in {label}")
        return
    console.print(
        f"\n{label}'s own closure: [red]INCOMPLETE[/] — {len(closure.missing)} import(s) of {names} "
        f"miss their file in {label} itself"
    )
    for finding in closure.missing[:LIST_LIMIT]:
        console.print(f"  {_p(finding.file)}:{finding.line} {escape(finding.specifier or '')}")
        console.print(f"    [dim]{' → '.join(_p(c) for c in finding.chain)}[/]")


def _summary(report: DriftReport, console: Console) -> None:
    source = report.source
    parts = [source.kind]
    if report.release:
        parts.append(f"release {escape(display(report.release))}")
    parts.append(f"hashed with {report.tool}")
    console.print(
        f"\nagainst {escape(source.label)} ({', '.join(parts)}) · {report.local_files} local files · "
        f"{report.source_files} in {escape(source.label)} · {len(report.same)} same · {report.seconds:.2f} s",
        style="dim",
    )


def _pulled(report: DriftReport, pulled: PullResult, console: Console) -> None:
    console.print(
        f"\n[bold]pulled[/] {count(len(pulled.written), 'file')} from {escape(report.source.label)} into ROOT"
    )
    for path in pulled.written:
        console.print(f"  + {_p(path)}")
    for path in pulled.already:
        console.print(f"  = {_p(path)} [dim](already there, same bytes)[/]")
    for path, why in pulled.refused:
        console.print(f"  [red]not copied[/] {_p(path)}: {escape(why)}")
    if pulled.check.deployable:
        console.print("[bold green]check now: DEPLOYABLE[/] — every entry's import closure loads")
        return
    console.print(f"[bold red]check now: BLOCKED[/] — {len(pulled.check.errors)} error(s); run deploysafe check")
    for finding in pulled.check.errors[:LIST_LIMIT]:
        console.print(f"  {finding.render(text=_p)}")
