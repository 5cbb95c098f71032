"""What `tsc -p tsconfig.json` emits and where: its input files (`files`, `include`, `exclude`, `allowJs`),
the root folder it keeps the layout from (`rootDir`, else the common folder of every input, else the
config's folder under `composite`), and the output file of each source under `outDir`.

From it: the output a source becomes, the source an output came from, and whether the output on disk
is stale (a source newer than its output, or a source with no output at all).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property

from deploysafe.ecosystems.node.tsconfig import Tsconfig

TS_INPUTS = (".ts", ".tsx", ".mts", ".cts")
JS_INPUTS = (".js", ".jsx", ".mjs", ".cjs")
DECLARATIONS = (".d.ts", ".d.mts", ".d.cts")
OUTPUT_EXTENSION = {".ts": ".js", ".tsx": ".js", ".mts": ".mjs", ".cts": ".cjs", ".jsx": ".js"}
_JSON_IMPORT = re.compile(r"""(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)(['"])(\.{1,2}/[^'"\n]*\.json)\1""")
_IMPLICIT_EXCLUDES = ("node_modules", "bower_components", "jspm_packages")


@dataclass(frozen=True)
class TscBuild:
    """One tsconfig as tsc compiles it. Paths are absolute."""

    config: Tsconfig
    # The root the output on disk was laid out from, when it differs from what the inputs alone give
    # (tsc also counts files the inputs import, such as a `../package.json` under resolveJsonModule).
    layout_root: str | None = None

    @property
    def config_dir(self) -> str:
        return os.path.dirname(self.config.path)

    @property
    def out_dir(self) -> str | None:
        return self.config.out_dir

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """The files tsc compiles (declaration files left out: they emit nothing)."""
        return tuple(sorted(_inputs(self.config, self.config_dir)))

    @cached_property
    def root_dir(self) -> str:
        if self.layout_root:
            return self.layout_root
        if self.config.root_dir:
            return self.config.root_dir
        if self.config.composite:
            return self.config_dir
        folders = {os.path.dirname(p) for p in (*self.inputs, *self._json_imports())}
        return os.path.commonpath(list(folders)) if folders else self.config_dir

    def _json_imports(self) -> list[str]:
        """JSON files the inputs import by a relative path (resolveJsonModule): tsc emits them too, so
        they count when it infers rootDir (`import pkg from '../package.json'` lifts it to the root)."""
        if not self.config.resolve_json_module:
            return []
        found = []
        for source in self.inputs:
            try:
                with open(source, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            for match in _JSON_IMPORT.finditer(text):
                path = os.path.normpath(os.path.join(os.path.dirname(source), match.group(2)))
                if os.path.isfile(path):
                    found.append(path)
        return found

    @property
    def root_dir_inferred(self) -> bool:
        return not self.config.root_dir and not self.config.composite

    def widest_inputs(self, limit: int = 2) -> list[str]:
        """The inputs (and JSON they import) that sit highest in the tree: they pull an inferred rootDir up."""
        files = [*self.inputs, *self._json_imports()]
        depth = min((p.count(os.sep) for p in files), default=0)
        return list(dict.fromkeys(p for p in files if p.count(os.sep) == depth))[:limit]

    def output_of(self, source: str) -> str:
        """The JavaScript file tsc writes for ``source``."""
        base, ext = os.path.splitext(source)
        if self.out_dir is None:
            return base + OUTPUT_EXTENSION.get(ext, ext)
        prefix = self.root_dir.rstrip(os.sep) + os.sep
        rel = base[len(prefix) :] if base.startswith(prefix) else os.path.relpath(base, self.root_dir)
        return os.path.normpath(os.path.join(self.out_dir, rel)) + OUTPUT_EXTENSION.get(ext, ext)

    def in_output(self, path: str) -> bool:
        return self.out_dir is not None and _inside(path, self.out_dir)

    def source_of(self, output: str) -> str | None:
        """The input whose output is ``output`` (None when tsc writes no such file)."""
        return self._sources.get(os.path.normpath(output))

    @cached_property
    def _sources(self) -> dict[str, str]:
        return {self.output_of(p): p for p in self.inputs if not self.in_output(p)}

    def matching_layout(self, output: str) -> TscBuild | None:
        """This build, laid out from the root that makes ``output`` (a file in outDir) the output of an
        input: itself when that root is its own; None when no input compiles to ``output``."""
        if self.source_of(output) is not None:
            return self
        if self.out_dir is None or not self.in_output(output):
            return None
        rel = os.path.relpath(output, self.out_dir)
        for source in self.inputs:
            base, ext = os.path.splitext(source)
            named = base + OUTPUT_EXTENSION.get(ext, ext)
            if named.endswith(os.sep + rel):
                layout = named[: -len(rel) - 1]
                if _inside(self.root_dir, layout):
                    return TscBuild(self.config, layout)
        return None

    def stale(self) -> list[str]:
        """Inputs whose output is missing or older than the input itself (the build predates an edit)."""
        found = []
        for output, source in self._sources.items():
            try:
                output_time = os.stat(output).st_mtime
            except OSError:
                found.append(source)
                continue
            try:
                if os.stat(source).st_mtime > output_time + 1:
                    found.append(source)
            except OSError:
                continue
        return found + self._stale_copies()

    def _stale_copies(self) -> list[str]:
        """JSON files tsc copied into outDir (resolveJsonModule) whose original changed since."""
        if self.out_dir is None or not self.config.resolve_json_module or not os.path.isdir(self.out_dir):
            return []
        found = []
        for folder, dirs, files in os.walk(self.out_dir):
            dirs[:] = [d for d in dirs if d != "node_modules"]
            for name in files:
                if not name.endswith(".json"):
                    continue
                copy = os.path.join(folder, name)
                original = os.path.join(self.root_dir, os.path.relpath(copy, self.out_dir))
                try:
                    if os.stat(original).st_mtime > os.stat(copy).st_mtime + 1:
                        found.append(original)
                except OSError:
                    continue
        return found


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _inputs(config: Tsconfig, base: str) -> list[str]:
    extensions = TS_INPUTS + (JS_INPUTS if config.allow_js else ())
    if config.files is not None and config.include is None:
        return [p for p in config.files if os.path.isfile(p) and not p.endswith(DECLARATIONS)]
    include = [_pattern(p, extensions) for p in (config.include or (os.path.join(base, "**", "*"),))]
    excludes = list(config.exclude or ())
    if config.exclude is None and config.out_dir:
        excludes.append(config.out_dir)
    exclude = [_pattern(p, None) for p in excludes]
    found = list(config.files or ())
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _IMPLICIT_EXCLUDES
            and not any(p.match(os.path.join(folder, d)) for p in exclude)
        )
        for name in files:
            if name.startswith(".") or not name.endswith(extensions) or name.endswith(DECLARATIONS):
                continue
            path = os.path.join(folder, name)
            if any(p.fullmatch(path) for p in include) and not any(p.match(path) for p in exclude):
                found.append(path)
    return list(dict.fromkeys(found))


def _pattern(pattern: str, extensions: tuple[str, ...] | None) -> re.Pattern[str]:
    """A tsconfig include/exclude pattern as a regular expression over absolute paths. A pattern whose
    last part has no wildcard and no extension names a folder: everything under it."""
    last = os.path.basename(pattern)
    if "*" not in last and "?" not in last and not os.path.splitext(last)[1]:
        pattern = os.path.join(pattern, "**", "*")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    regex = "".join(out)
    # An exclude names a file or a folder: it matches everything below the folder too.
    return re.compile(regex if extensions is not None else regex + "(?:/.*)?$")
