"""Pack and verify results for people (rich; plain text when not a terminal). JSON is the manifest itself."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape

from deploysafe.pack.api import PackResult
from deploysafe.pack.select import (
    ASSET,
    ENTRY,
    INCLUDE,
    LOCKFILE,
    MANIFEST,
    MODULE,
    NODE_MODULES,
    PROCESS,
    RUNTIME_CONFIG,
    SETTINGS,
)
from deploysafe.pack.verify import VerifyResult
from deploysafe.report.words import count

MAX_LISTED = 20
_KINDS = (
    ((ENTRY, MODULE), "module", "modules"),
    ((ASSET,), "asset", "assets"),
    ((INCLUDE,), "included file", "included files"),
    ((MANIFEST, LOCKFILE, SETTINGS, PROCESS, RUNTIME_CONFIG), "manifest", "manifests"),
    ((NODE_MODULES,), "node_modules file", "node_modules files"),
)


def size(n: int) -> str:
    """Bytes for people: 950 B, 3.9 kB, 1.5 MB."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def _red(rule: str) -> str:
    return f"[red]{rule}[/]"


def render_pack(result: PackResult, console: Console, *, verbose: bool = False) -> None:
    out = console.print
    report, selection = result.report, result.selection
    for entry in report.entries:
        out(f"[bold]entry[/] {escape(entry.path)} [dim]({escape(entry.reason)})[/]", soft_wrap=True)
    out(f"[bold]node[/]  {report.node} [dim]({escape(report.node.source)})[/]", soft_wrap=True)
    if result.forced and report.errors:
        out()
        out(f"[bold red]forced[/]: check found {len(report.errors)} error(s); packed anyway, recorded in the manifest")
        for finding in report.errors[:MAX_LISTED]:
            out(
                f"  {finding.render(text=escape, rule=_red)}",
                soft_wrap=True,
            )

    counts = Counter(p.reason for p in selection.files.values())
    parts = []
    for reasons, one, many in _KINDS:
        n = sum(counts[r] for r in reasons)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    out()
    out(
        f"[bold]packed[/] {count(len(selection.files), 'file')} ({size(result.unpacked_size)}): {', '.join(parts)}",
        soft_wrap=True,
    )
    if verbose:
        for picked in sorted(selection.files.values(), key=lambda p: p.path):
            out(f"  {escape(picked.path)} [dim]{picked.reason}: {escape(picked.detail)}[/]", soft_wrap=True)
    else:
        shown = [p for p in selection.files.values() if p.reason in (ASSET, INCLUDE)]
        for picked in sorted(shown, key=lambda p: p.path)[:MAX_LISTED]:
            why = f"read by {picked.detail}" if picked.reason == ASSET else f"include '{picked.detail}'"
            out(f"  {escape(picked.path)} [dim]← {escape(why)}[/]", soft_wrap=True)
        if len(shown) > MAX_LISTED:
            out(f"  [dim]... and {len(shown) - MAX_LISTED} more (-v lists every file)[/]")
    if selection.node_modules is not None:
        modules = selection.node_modules
        out(
            f"  node_modules: {len(modules.packages)} production packages from {escape(modules.source)}", soft_wrap=True
        )

    if result.unverified:
        out()
        out(
            f"[bold yellow]unverified ({len(result.unverified)})[/] [dim]— computed at run time, reachable from "
            "an entry: what they load is not proven packed[/]"
        )
        for edge in result.unverified:
            state = "[green]covered by include[/]" if edge.covered else "[yellow]not covered[/]"
            out(f"  {escape(edge.file)}:{edge.line} {escape(edge.call)} {state}", soft_wrap=True, highlight=False)
            if edge.candidates:
                candidates = ", ".join(edge.candidates[:MAX_LISTED])
                more = f" and {len(edge.candidates) - MAX_LISTED} more" if len(edge.candidates) > MAX_LISTED else ""
                out(f"    may load: {escape(candidates)}{more}", soft_wrap=True, highlight=False)
            if not edge.covered:
                out(f"    add: {escape(edge.include)}", soft_wrap=True, highlight=False)
    if selection.dormant:
        out()
        out(f"[bold]left out: dormant ({len(selection.dormant)})[/] [dim]— no entry loads these[/]")
        _listing(console, selection.dormant, verbose)
    excluded = selection.excluded_list()
    if excluded:
        out()
        out(f"[bold]left out: excluded ({len(excluded)})[/]")
        _listing(console, [f"{e.path} — {e.reason}" for e in excluded], True)
    if selection.warnings:
        out()
        out(f"[bold yellow]warnings ({len(selection.warnings)})[/]")
        for warning in selection.warnings:
            out(f"  {escape(warning)}", soft_wrap=True)
    if result.verification is not None:
        out()
        out(f"[bold]verified[/] {escape(verify_line(result.verification))}", soft_wrap=True)
    out()
    verdict = "[bold yellow]PACKED (forced)[/]" if result.forced else "[bold green]PACKED[/]"
    out(
        f"{verdict} {escape(result.id)} → {escape(str(result.path))} ({size(result.size)}) · {result.seconds:.2f} s",
        soft_wrap=True,
    )


def verify_line(result: VerifyResult) -> str:
    parts = [f"{count(len(result.manifest.files), 'file')} match their sha256"]
    report = result.report
    if report is not None:
        parts.append(
            "check of the unpacked tree: " + (f"{len(result.errors)} error(s)" if result.errors else "no errors")
        )
    if result.undeclared_from_lockfile:
        names = ", ".join(result.undeclared_from_lockfile)
        parts.append(f"undeclared, installed by the lockfile (hoisted; declare them): {names}")
    if result.installed:
        parts.append(f"dependencies from {result.installed}")
    elif result.awaiting_install:
        lock = result.manifest.lockfile or "package.json"
        names = ", ".join(result.awaiting_install[:5]) + (" ..." if len(result.awaiting_install) > 5 else "")
        parts.append(f"to install from {lock}: {names}")
    return "; ".join(parts)


def render_verify(result: VerifyResult, console: Console, *, verbose: bool = False) -> None:
    out = console.print
    manifest = result.manifest
    out(f"[bold]artifact[/] {escape(manifest.id)} [dim]({escape(str(result.artifact))})[/]", soft_wrap=True)
    out(
        f"[bold]hashes[/]   {count(len(manifest.files), 'file')} match the manifest "
        f"[dim](content sha256 {manifest.content_sha256[:16]}…)[/]",
        soft_wrap=True,
    )
    if result.installed:
        out(f"[bold]install[/]  {escape(result.installed)}", soft_wrap=True)
    elif result.awaiting_install:
        out(
            f"[bold]install[/]  not run: {len(result.awaiting_install)} package(s) come from "
            f"{escape(manifest.lockfile or 'package.json')} ({escape(', '.join(result.awaiting_install))}); "
            "--install checks what is imported from them",
            soft_wrap=True,
        )
    report = result.report
    if report is not None:
        s = report.summary()
        out(
            f"[bold]check[/]    {s['reachable']} reachable · {len(result.errors)} errors · {s['warnings']} warnings · "
            f"{s['unverified']} unverified",
            soft_wrap=True,
        )
        if result.undeclared_from_lockfile:
            out(
                f"  [yellow]undeclared[/] {escape(', '.join(result.undeclared_from_lockfile))} "
                "[dim](not in package.json; the lockfile installs them at the top level: declare them)[/]",
                soft_wrap=True,
            )
        for finding in result.errors:
            out(
                f"  {finding.render(text=escape, rule=_red)}",
                soft_wrap=True,
            )
    for problem in result.problems:
        out(f"  [red]{escape(problem)}[/]", soft_wrap=True)
    for missing in result.missing_assets:
        out(
            f"  [yellow]missing asset[/] {escape(missing)} [dim](not in the artifact; the code may create it)[/]",
            soft_wrap=True,
        )
    out()
    if result.self_contained:
        out(f"[bold green]SELF-CONTAINED[/] {escape(manifest.id)} · {result.seconds:.2f} s", soft_wrap=True)
    else:
        out(f"[bold red]NOT SELF-CONTAINED[/] {escape(manifest.id)} · {result.seconds:.2f} s", soft_wrap=True)


def _listing(console: Console, lines: list[str], verbose: bool) -> None:
    shown = lines if verbose else lines[:MAX_LISTED]
    for line in shown:
        console.print(f"  {escape(line)}", soft_wrap=True, highlight=False)
    if len(lines) > len(shown):
        console.print(f"  [dim]... and {len(lines) - len(shown)} more (-v lists them all)[/]")
