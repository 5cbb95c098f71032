"""`unresolved-import`: an import names a file or package path Node cannot find (missing file, ES import
without its extension, directory import, a subpath the package does not export, a tsconfig alias tsc
leaves as written). A missing package and a letter-case miss have rules of their own."""

from __future__ import annotations

import os
from collections.abc import Iterator

from deploysafe.check import resolution as r
from deploysafe.check.facts import Import
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import Unresolved
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.rules.context import RuleContext, relativize, specifier_from, when_it_fails

ID = "unresolved-import"
OTHER_RULES = frozenset({r.PACKAGE_NOT_FOUND, r.CASE_MISMATCH})  # missing-package, case-mismatch


class UnresolvedImportRule(Rule):
    id = ID
    summary = "An import names a file or package path that Node cannot find."
    predicts = (
        "`ERR_MODULE_NOT_FOUND`, `ERR_UNSUPPORTED_DIR_IMPORT`, `ERR_PACKAGE_PATH_NOT_EXPORTED`, `Cannot find "
        "module` — at start, or when that `require()`/`import()` runs"
    )
    help = (
        "Point the import at a file that exists (ES modules need the full file name, extension included), "
        "or add the missing file to the release."
    )
    edges = "unresolved"

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        res = edge.resolution
        if isinstance(res, Unresolved) and res.reason not in OTHER_RULES:
            yield from unresolved_import(ctx, module, edge, res)


def unresolved_import(ctx: RuleContext, module: Module, edge: Edge, res: Unresolved) -> Iterator[Result]:
    imp = edge.imp
    spec = imp.specifier or ""
    when = when_it_fails(imp)
    importer = ctx.rel(module.path)
    target = ctx.rel(res.path) if res.path else spec
    if res.reason == r.EXTENSIONLESS:
        message = (
            f"{when}: Cannot find module '{spec}' imported from {importer}; ES modules need the full "
            f"file name: write '{res.suggestion}'"
        )
    elif res.reason == r.DIRECTORY_IMPORT:
        message = f"{when}: Directory import '{target}' is not supported resolving ES modules imported from {importer}"
        if res.suggestion:
            message += f"; write '{res.suggestion}'"
    elif res.reason == r.NOT_FOUND:
        message = f"{when}: Cannot find module '{spec}' imported from {importer}"
        if res.package and res.detail:
            message += f" ({relativize(ctx, res.detail)})"
        elif res.path:
            message += f" (no file at {target})"
        hint = None if res.package else _suggest_file(ctx, module, imp, res)
        if hint:
            message += f"; {hint}"
    elif res.reason == r.ALIAS_NOT_REWRITTEN:
        message = (
            f"{when}: Cannot find package '{res.package or spec}' imported from {importer}: tsc leaves the path "
            f"alias '{spec}' as written in its output, so Node looks for a package of that name; import "
            f"'{_output_specifier(module.path, res.intended or '')}' by its relative path, or rewrite aliases at build "
            "time (tsc-alias) or run time (node -r tsconfig-paths/register)"
        )
    elif res.reason == r.NOT_EXPORTED:
        message = f"{when}: {relativize(ctx, res.detail)} (imported as '{spec}' from {importer})"
    else:
        message = f"{when}: cannot load '{spec}' from {importer}: {relativize(ctx, res.detail)}"
    yield ctx.edge_finding(ID, module, imp, message)


def _suggest_file(ctx: RuleContext, module: Module, imp: Import, res: Unresolved) -> str | None:
    """Where the missing file most likely is: a project file that exports every name the import asks
    for, or one with the same file name; else a file with a similar name next to the missing one."""
    wanted = {n.name for n in imp.names if not n.type_only and n.name != "default"}
    base = os.path.basename(res.path or "")
    same_name = [p for p in ctx.files_named(base) if p != res.path]
    exporting = [p for p in ctx.files_exporting(wanted)] if wanted else []
    candidates = [p for p in exporting if p in same_name] or exporting or same_name
    if 0 < len(candidates) <= 2:
        shown = " or ".join(f"'{specifier_from(module.path, p)}'" for p in candidates)
        because = (
            f" (it exports {', '.join(repr(n) for n in sorted(wanted))})" if exporting and len(candidates) == 1 else ""
        )
        return f"did you mean {shown}{because}?"
    if res.suggestion:
        return f"did you mean '{specifier_from(module.path, res.suggestion)}'?"
    return None


def _output_specifier(importer: str, source: str) -> str:
    """The relative specifier that names tsc's output of ``source`` from tsc's output of ``importer``."""
    base, ext = os.path.splitext(source)
    output = {".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs"}.get(ext, ext)
    return specifier_from(importer, base + output)
