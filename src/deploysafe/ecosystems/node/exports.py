"""Which names a module offers to an ESM importer, computed the way Node links them.

ESM targets: their own exports plus what `export *` chains forward (never `default`; a name two star
sources forward from different modules is a conflict and cannot be imported). CommonJS targets: what
cjs-module-lexer detects, plus its re-exports followed with require() rules, plus `default`.
"""

from __future__ import annotations

from dataclasses import dataclass

from deploysafe.check.facts import ImportKind
from deploysafe.check.graph import Analysis
from deploysafe.check.resolution import Target
from deploysafe.check.scan import is_source
from deploysafe.ecosystems.node.builtins import builtin_exports
from deploysafe.ecosystems.node.formats import Format, is_typescript


@dataclass(frozen=True, slots=True)
class ExportNames:
    format: Format
    values: frozenset[str]  # names an importer may take at run time
    types: frozenset[str] = frozenset()  # names only a TypeScript importer may take
    conflicts: frozenset[str] = frozenset()  # star-export conflicts
    complete: bool = True  # False when part of the chain could not be read: a miss is then unproven


class ExportIndex:
    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self._memo: dict[str, ExportNames | None] = {}
        self._active: set[str] = set()

    def of_builtin(self, name: str) -> ExportNames | None:
        names = builtin_exports(name)
        return ExportNames(Format.COMMONJS, names) if names is not None else None

    def of(self, path: str) -> ExportNames | None:
        """The names ``path`` exports, or None when they cannot be known (unreadable, addon, ...)."""
        if path in self._memo:
            return self._memo[path]
        if path in self._active:  # a cycle of star exports: what is known so far
            return None
        self._active.add(path)
        try:
            names = self._compute(path)
        finally:
            self._active.discard(path)
        self._memo[path] = names
        return names

    def _compute(self, path: str) -> ExportNames | None:
        fmt = self.analysis.format_of(path)
        if fmt is Format.JSON:
            return ExportNames(fmt, frozenset({"default"}))
        if not is_source(path):
            return None
        source = self.analysis.loader.get(path)
        if source.error or source.facts.syntax_errors:
            return None
        if fmt is Format.ESM or is_typescript(path):
            return self._esm(path, fmt)
        return self._commonjs(path)

    def _esm(self, path: str, fmt: Format) -> ExportNames:
        facts = self.analysis.loader.get(path).facts
        origin: dict[str, str] = dict.fromkeys(facts.exports, path)
        types = set(facts.type_exports)
        conflicts: set[str] = set()
        complete = True
        for imp in facts.imports:
            if imp.kind is not ImportKind.REEXPORT or not imp.star or imp.type_only or imp.specifier is None:
                continue
            resolution, sub = self._reexported(imp.specifier, path, for_require=False)
            if sub is None:
                complete = False
                continue
            complete = complete and sub.complete
            types |= sub.types
            for name in sub.values - {"default"}:
                if name in facts.exports:
                    continue  # a local export shadows star exports
                source = resolution.path or f"builtin:{resolution.builtin}"
                if name in origin and origin[name] != source:
                    conflicts.add(name)
                else:
                    origin[name] = source
        values = frozenset(n for n in origin if n not in conflicts)
        return ExportNames(fmt, values, frozenset(types), frozenset(conflicts), complete)

    def _commonjs(self, path: str) -> ExportNames:
        facts = self.analysis.loader.get(path).facts
        names = set(facts.commonjs.exports) | {"default"}
        complete = True
        for specifier in facts.commonjs.reexports:
            _, sub = self._reexported(specifier, path, for_require=True)
            if sub is None:
                complete = False
                continue
            complete = complete and sub.complete
            names |= sub.values
        return ExportNames(Format.COMMONJS, frozenset(names), complete=complete)

    def _reexported(self, specifier: str, path: str, *, for_require: bool) -> tuple[Target, ExportNames | None]:
        """The target a re-export names and what it exports (None when either is unknown)."""
        resolution = self.analysis.resolve(specifier, path, for_require=for_require)
        if not isinstance(resolution, Target):
            return Target(), None
        if resolution.builtin:
            return resolution, self.of_builtin(resolution.builtin)
        return resolution, self.of(resolution.path) if resolution.path else None
