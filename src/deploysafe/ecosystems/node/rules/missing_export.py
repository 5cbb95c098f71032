"""`missing-export`: a named or default import asks for a name the target does not export (ESM, CommonJS
as cjs-module-lexer sees it, built-ins, conflicting star exports). A CommonJS importer gets `undefined`
instead (warning); a name only a package's types declare is erased by tsc. A TypeScript importer may name a
type the target exports only as a type while it uses it as one (the compiler erases the import); read as a
value, the import is kept and fails as any missing export."""

from __future__ import annotations

from collections.abc import Iterator

from deploysafe.check.facts import ImportedName, ImportKind
from deploysafe.check.findings import UNKNOWN_EXPORTS
from deploysafe.check.graph import Edge, Module
from deploysafe.check.resolution import ResolvedModule
from deploysafe.check.rules import Result, Rule
from deploysafe.ecosystems.node.declared_types import is_declared_type
from deploysafe.ecosystems.node.exports import ExportNames
from deploysafe.ecosystems.node.files import is_source
from deploysafe.ecosystems.node.formats import Format, is_typescript
from deploysafe.ecosystems.node.rules.context import RuleContext, when_it_fails

ID = "missing-export"


class MissingExportRule(Rule):
    id = ID
    summary = "A named or default import asks for a name the target module does not export."
    predicts = (
        "`The requested module 'x' does not provide an export named 'y'`, `Named export 'y' not found` "
        "(CommonJS), conflicting star exports"
    )
    help = "Import a name the module does export (the message lists them), or export the name from the module."
    edges = "resolved"

    def check_edge(self, ctx: RuleContext, module: Module, edge: Edge) -> Iterator[Result]:  # type: ignore[override]
        if isinstance(edge.resolution, ResolvedModule):
            yield from missing_exports(ctx, module, edge, edge.resolution)


def missing_exports(ctx: RuleContext, module: Module, edge: Edge, res: ResolvedModule) -> Iterator[Result]:
    imp = edge.imp
    if not imp.names or imp.kind not in (ImportKind.STATIC, ImportKind.REEXPORT):
        return
    importer_ts = is_typescript(module.path)
    names = ctx.exports.of_builtin(res.builtin) if res.builtin else ctx.exports.of(res.path) if res.path else None
    if names is None:
        # A project file that does not parse is the syntax-error rule's finding; anything else whose exports
        # are unknown (a package file deploysafe cannot parse, an addon) is said to be unchecked, never passed.
        issues = ctx.analysis.loader.get(res.path).facts.syntax_errors if res.path and is_source(res.path) else ()
        if (res.path or res.builtin) and not (issues and ctx.analysis.is_project_file(res.path or "")):
            target = res.builtin or ctx.rel(res.path or "")
            why = (
                f"{target} did not parse at {issues[0].line}:{issues[0].column}"
                if issues
                else f"the exports of {target} could not be read"
            )
            yield ctx.unverified(
                UNKNOWN_EXPORTS,
                module,
                imp.line,
                imp.column,
                f"the names imported from '{imp.specifier}' were not checked: {why}",
            )
        return
    # A CommonJS importer (TypeScript compiled to require()) gets `undefined`, not a crash at link time.
    lenient = module.format is Format.COMMONJS
    for wanted in imp.names:
        if wanted.type_only:
            continue
        if wanted.name in names.values or (importer_ts and wanted.name in names.types and not wanted.value_read):
            continue
        yield from _missing_name(ctx, module, edge, res, names, wanted, lenient, importer_ts)


def _missing_name(
    ctx: RuleContext,
    module: Module,
    edge: Edge,
    res: ResolvedModule,
    names: ExportNames,
    wanted: ImportedName,
    lenient: bool,
    importer_ts: bool,
) -> Iterator[Result]:
    imp = edge.imp
    spec = imp.specifier or ""
    if not names.complete:
        yield ctx.unverified(
            UNKNOWN_EXPORTS,
            module,
            wanted.line,
            wanted.column,
            f"'{wanted.name}' was not found in '{spec}', but part of its export * chain could not be read",
        )
        return
    from_package_types = importer_ts and res.package is not None
    if from_package_types and res.package_dir and is_declared_type(res.package_dir, res.package or "", wanted.name):
        return  # an interface or type alias: the compiled import is erased
    if importer_ts and wanted.name in names.types:
        message = (
            f"SyntaxError: The requested module '{spec}' does not provide an export named '{wanted.name}' "
            f"(it exports '{wanted.name}' only as a type, and this file reads it as a value)"
        )
        yield ctx.finding(
            ID,
            module,
            wanted.line,
            wanted.column,
            f"'{wanted.name}' is undefined at run time: " + message.removeprefix("SyntaxError: ")
            if lenient
            else f"{when_it_fails(imp)}: {message}",
            warning=lenient,
            specifier=spec,
            name=wanted.name,
        )
        return
    if wanted.name in names.conflicts:
        message = f"The requested module '{spec}' contains conflicting star exports for name '{wanted.name}'"
    elif names.format is Format.COMMONJS and not is_typescript(res.path or ""):
        message = (
            f"SyntaxError: Named export '{wanted.name}' not found. The requested module '{spec}' is a CommonJS "
            "module, which may not support all module.exports as named exports"
        )
    else:
        message = f"SyntaxError: The requested module '{spec}' does not provide an export named '{wanted.name}'"
    offered = names.values | (names.types if importer_ts else frozenset())
    suggestion = _closest(wanted.name, offered)
    listed = sorted(n for n in offered if n != "default")
    if suggestion:
        message += f" (did you mean '{suggestion}'?)"
    elif 0 < len(listed) <= 6:
        message += f" (it exports {', '.join(listed)})"
    if lenient:
        message = f"'{wanted.name}' is undefined at run time: " + message.removeprefix("SyntaxError: ")
    elif from_package_types:
        message = f"{when_it_fails(imp)} unless '{wanted.name}' is only a type: {message}"
    else:
        message = f"{when_it_fails(imp)}: {message}"
    yield ctx.finding(
        ID,
        module,
        wanted.line,
        wanted.column,
        message,
        warning=lenient or from_package_types,
        specifier=spec,
        name=wanted.name,
    )


def _closest(name: str, candidates: frozenset[str]) -> str | None:
    options = [c for c in candidates if c != "default"]
    for option in options:
        if option.lower() == name.lower():
            return option
    import difflib  # only for a name that is missing

    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return close[0] if close else None
