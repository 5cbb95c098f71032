"""Which names a module offers to an ESM importer, computed the way Node links them.

ESM targets: their own exports plus what `export *` chains forward (never `default`; a name two star
sources forward from different bindings is a conflict and cannot be imported; one binding forwarded by
name through several modules is one binding). CommonJS targets: what
cjs-module-lexer detects, plus its re-exports followed with require() rules, plus `default`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploysafe.check.facts import ImportKind
from deploysafe.check.resolution import ResolvedModule
from deploysafe.ecosystems.node.analysis import Analysis
from deploysafe.ecosystems.node.builtins import builtin_exports
from deploysafe.ecosystems.node.files import is_source
from deploysafe.ecosystems.node.formats import Format, is_typescript


@dataclass(frozen=True, slots=True)
class ExportNames:
    format: Format
    values: frozenset[str]  # names an importer may take at run time
    types: frozenset[str] = frozenset()  # names only a TypeScript importer may take
    conflicts: frozenset[str] = frozenset()  # star-export conflicts
    complete: bool = True  # False when part of the chain could not be read: a miss is then unproven


class ExportIndex:
    """Export names per module, memoized.

    The walk over ``export *`` chains is iterative (a chain can be thousands of modules deep). A module
    the walk has already entered forwards nothing more, as Node's ``exportStarSet`` does, and the answer
    stays complete: a cycle of star exports is no reason for doubt. A name two star sources forward is a
    conflict only when they lead to different bindings (one binding reached twice is not, however many
    modules forward it by name on the way).
    Results that depend on a module still being walked (inside a star cycle) are memoized only at the
    cycle's first module, once the whole cycle is known (Tarjan's lowlink).
    """

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self._memo: dict[str, ExportNames | None] = {}
        self._origins: dict[str, dict[str, str]] = {}  # ESM module -> name -> binding that defines it

    def of_builtin(self, name: str) -> ExportNames | None:
        names = builtin_exports(name)
        return ExportNames(Format.COMMONJS, names) if names is not None else None

    def of(self, path: str) -> ExportNames | None:
        """The names ``path`` exports, or None when they cannot be known (unreadable, addon, ...)."""
        if path in self._memo:
            return self._memo[path]
        root = self._frame(path, 0)
        if root.fixed is not _UNSET:
            self._memo[path] = root.fixed
            return root.fixed
        stack = [root]
        entered: dict[str, _Frame] = {path: root}
        while True:
            top = stack[-1]
            resolution = top.next_star()
            if resolution is None:
                stack.pop()
                result = top.finish()
                if top.low >= top.index:
                    self._memo[top.path] = result
                    self._origins[top.path] = top.origin
                else:
                    top.origin_ready = True
                if not stack:
                    return result
                parent = stack[-1]
                parent.low = min(parent.low, top.low)
                parent.merge(parent.pending, result, top.origin)
                continue
            target = resolution.path
            if resolution.builtin:
                top.merge(resolution, self.of_builtin(resolution.builtin), None)
            elif not target:
                top.merge(resolution, None, None)
            elif target in self._memo:
                top.merge(resolution, self._memo[target], self._origins.get(target))
            elif target in entered:  # entered before in this walk: Node forwards nothing more from it
                seen = entered[target]
                top.low = min(top.low, seen.index if not seen.origin_ready else seen.low)
                top.merge(resolution, _NOTHING, None)
            else:
                child = self._frame(target, len(entered))
                if child.fixed is not _UNSET:
                    self._memo[target] = child.fixed
                    top.merge(resolution, child.fixed, None)
                    continue
                top.pending = resolution
                stack.append(child)
                entered[target] = child

    def _frame(self, path: str, index: int) -> _Frame:
        fmt = self.analysis.format_of(path)
        if fmt is Format.JSON:
            return _Frame.leaf(path, ExportNames(fmt, frozenset({"default"})))
        if not is_source(path):
            return _Frame.leaf(path, None)
        source = self.analysis.loader.get(path)
        if source.error or source.facts.syntax_errors:
            return _Frame.leaf(path, None)
        facts = source.facts
        frame = _Frame(self, path, index)
        if fmt is Format.ESM or is_typescript(path):
            frame.fmt = fmt
            frame.commonjs = False
            frame.local = frozenset(facts.exports)
            frame.types = set(facts.type_exports)
            forwarded = {name: (spec, there) for name, spec, there in getattr(facts, "forwarded", ())}
            frame.origin = {
                name: self._binding(path, *forwarded[name]) if name in forwarded else _key(path, name)
                for name in facts.exports
            }
            frame.specifiers = [
                imp.specifier
                for imp in facts.imports
                if imp.kind is ImportKind.REEXPORT and imp.star and not imp.type_only and imp.specifier is not None
            ]
        else:
            lexed = getattr(facts, "commonjs", None)  # what cjs-module-lexer sees; absent: the file was not read
            if lexed is None:
                return _Frame.leaf(path, None)
            frame.fmt = Format.COMMONJS
            frame.for_require = True
            frame.names = set(lexed.exports) | {"default"}
            frame.specifiers = list(lexed.reexports)
        return frame

    def _binding(self, path: str, specifier: str, name: str) -> str:
        """The module and name that define the binding ``path`` forwards from ``specifier``'s ``name``
        (`export { a } from './x'`, `import { a } from './x'; export { a }`), followed while the next
        module forwards it too: two star sources reaching one binding are not a conflict."""
        seen: set[str] = set()
        while True:
            target = self._resolve(specifier, path, for_require=False)
            key = target.path or f"builtin:{target.builtin}"
            if not target.path or name == "*" or key in seen or len(seen) > _FORWARD_DEPTH:
                return _key(key, name)
            seen.add(key)
            if self.analysis.format_of(target.path) is not Format.ESM or not is_source(target.path):
                return _key(key, name)
            source = self.analysis.loader.get(target.path)
            onward = {n: (spec, there) for n, spec, there in getattr(source.facts, "forwarded", ())}
            if name not in onward:
                return _key(key, name)
            path, (specifier, name) = target.path, onward[name]

    def _resolve(self, specifier: str, path: str, *, for_require: bool) -> ResolvedModule:
        resolution = self.analysis.resolve(specifier, path, for_require=for_require)
        return resolution if isinstance(resolution, ResolvedModule) else ResolvedModule()


_NOTHING = ExportNames(Format.ESM, frozenset())
_FORWARD_DEPTH = 64


def _key(module: str, name: str) -> str:
    """One binding: the module that defines it and its name there."""
    return f"{module}\0{name}"


_UNSET: Any = object()


class _Frame:
    """One module on the walk: its own exports, the star sources still to visit, what they forwarded."""

    def __init__(self, owner: ExportIndex | None, path: str, index: int) -> None:
        self.owner = owner
        self.path = path
        self.index = self.low = index
        self.fixed: ExportNames | None = _UNSET  # a module with nothing to walk: its answer
        self.fmt = Format.ESM
        self.commonjs = True  # names follow require() rules, not ESM star-export rules
        self.for_require = False
        self.specifiers: list[str] = []
        self.position = 0
        self.pending = ResolvedModule()
        self.origin_ready = False  # finished, but part of a cycle still being walked
        self.complete = True
        self.local: frozenset[str] = frozenset()
        self.names: set[str] = set()  # CommonJS
        self.types: set[str] = set()
        self.origin: dict[str, str] = {}  # ESM: name -> the binding (defining module and name there)
        self.conflicts: set[str] = set()

    @classmethod
    def leaf(cls, path: str, names: ExportNames | None) -> _Frame:
        frame = cls(None, path, -1)
        frame.fixed = names
        return frame

    def next_star(self) -> ResolvedModule | None:
        if self.position >= len(self.specifiers) or self.owner is None:
            return None
        specifier = self.specifiers[self.position]
        self.position += 1
        return self.owner._resolve(specifier, self.path, for_require=self.for_require)

    def merge(self, resolution: ResolvedModule, sub: ExportNames | None, origins: dict[str, str] | None) -> None:
        if sub is None:
            self.complete = False
            return
        self.complete = self.complete and sub.complete
        if self.commonjs:
            self.names |= sub.values
            return
        self.types |= sub.types
        source = resolution.path or f"builtin:{resolution.builtin}"
        for name in sub.values - {"default"}:
            if name in self.local:
                continue  # a local export shadows star exports
            defined = origins.get(name, _key(source, name)) if origins else _key(source, name)
            if name in self.origin and self.origin[name] != defined:
                self.conflicts.add(name)
            else:
                self.origin[name] = defined
        self.conflicts |= sub.conflicts - self.local

    def finish(self) -> ExportNames | None:
        if self.fixed is not _UNSET:
            return self.fixed
        if self.commonjs:
            return ExportNames(Format.COMMONJS, frozenset(self.names), complete=self.complete)
        values = frozenset(n for n in self.origin if n not in self.conflicts)
        return ExportNames(self.fmt, values, frozenset(self.types), frozenset(self.conflicts), self.complete)
