"""tsconfig.json as TypeScript reads it: JSON with comments, `extends` chains, baseUrl and paths, the
options that decide what tsc emits and where (module, rootDir, outDir, include/exclude/files, allowJs,
verbatimModuleSyntax), and tsc-alias's own section."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from deploysafe.check.fs import FileSystem
from deploysafe.ecosystems.node import jsonc

CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")


@dataclass(frozen=True, slots=True)
class Tsconfig:
    path: str
    base_url: str | None = None  # absolute
    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    paths_base: str = ""  # absolute directory that `paths` targets are relative to
    module: str | None = None
    module_resolution: str | None = None
    out_dir: str | None = None
    root_dir: str | None = None
    errors: tuple[str, ...] = ()  # problems met reading it or its `extends` chain
    # Top-level file selection, as absolute patterns/paths (relative to the config that declares them).
    files: tuple[str, ...] | None = None
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    allow_js: bool | None = None
    verbatim_module_syntax: bool | None = None
    emit_decorator_metadata: bool | None = None
    composite: bool | None = None
    source_map: bool | None = None
    resolve_json_module: bool | None = None
    tsc_alias_full_paths: bool | None = None  # "tsc-alias": {"resolveFullPaths": true}
    chain: tuple[str, ...] = ()  # this file and every file it extends: what a runtime reading it needs


class TsconfigLoader:
    def __init__(self, fs: FileSystem, stop_at: str | None = None) -> None:
        self.fs = fs
        self.stop_at = stop_at  # do not search above this directory
        self._nearest: dict[str, Tsconfig | None] = {}
        self._loaded: dict[str, Tsconfig] = {}

    def nearest(self, directory: str) -> Tsconfig | None:
        """The tsconfig.json (or jsconfig.json) that governs files in ``directory``."""
        walked: list[str] = []  # folders without a config of their own, nearest first
        found: Tsconfig | None = None
        current = directory
        while True:
            if current in self._nearest:
                found = self._nearest[current]
                break
            walked.append(current)
            if os.path.basename(current) == "node_modules":
                break
            own = next(
                (c for c in (os.path.join(current, n) for n in CONFIG_NAMES) if self.fs.is_file(c)),
                None,
            )
            if own is not None:
                found = self.load(own)
                break
            parent = os.path.dirname(current)
            if parent == current or current == self.stop_at:
                break
            current = parent
        for folder in walked:
            self._nearest[folder] = found
        return found

    def load(self, path: str) -> Tsconfig:
        if path not in self._loaded:
            self._loaded[path] = self._build(path, seen=())
        return self._loaded[path]

    def _build(self, path: str, seen: tuple[str, ...]) -> Tsconfig:
        """The config at ``path`` merged over what it extends, walked without recursion (an ``extends``
        chain can be as long as a hostile tree makes it)."""
        stack = [_Extending(path, seen)]
        result: Tsconfig | None = None
        while stack:
            frame = stack[-1]
            if result is not None:  # a parent config just finished
                frame.base = _merge(frame.base, result)
                result = None
            parent_path = frame.next_parent(self)
            if parent_path is not None:
                stack.append(_Extending(parent_path, (*frame.seen, frame.path)))
                continue
            stack.pop()
            result = frame.finish()
        assert result is not None
        return result

    def _find_extended(self, spec: str, directory: str) -> str | None:
        if spec.startswith((".", "/")):
            candidate = os.path.normpath(os.path.join(directory, spec))
            for option in (candidate, candidate + ".json", os.path.join(candidate, "tsconfig.json")):
                if self.fs.is_file(option):
                    return option
            return None
        current = directory
        while True:
            base = os.path.join(current, "node_modules", spec)
            for option in (base, base + ".json", os.path.join(base, "tsconfig.json")):
                if self.fs.is_file(option):
                    return option
            parent = os.path.dirname(current)
            if parent == current:
                return None
            current = parent


class _Extending:
    """One config on the walk up its ``extends``: what it read and which parent comes next."""

    def __init__(self, path: str, seen: tuple[str, ...]) -> None:
        self.path = path
        self.seen = seen
        self.raw, error = _read(path)
        self.errors: list[str] = [error] if error else []
        self.base = Tsconfig(path=path)
        extends = self.raw.get("extends")
        self.parents = [extends] if isinstance(extends, str) else extends if isinstance(extends, list) else []
        self.position = 0

    def next_parent(self, loader: TsconfigLoader) -> str | None:
        """The path of the next parent config to build, or None when all are merged in."""
        while self.position < len(self.parents):
            spec = self.parents[self.position]
            self.position += 1
            if not isinstance(spec, str):
                continue
            parent_path = loader._find_extended(spec, os.path.dirname(self.path))
            if parent_path is None:
                self.errors.append(f"{self.path}: extends '{spec}' was not found")
                continue
            if parent_path in self.seen or parent_path == self.path:
                self.errors.append(f"{self.path}: extends cycle through '{spec}'")
                continue
            return parent_path
        return None

    def finish(self) -> Tsconfig:
        own = self.raw.get("compilerOptions")
        options = own if isinstance(own, dict) else {}
        return _merge(self.base, _with_selection(_from_options(self.path, options), self.raw), self.errors)


def _read(path: str) -> tuple[dict[str, Any], str | None]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError as err:
        return {}, f"{path}: cannot read: {err.strerror}"
    try:
        data = jsonc.loads(text)
    except jsonc.JsoncError as err:
        return {}, f"{path}:{err}"
    if not isinstance(data, dict):
        return {}, f"{path}: not a JSON object"
    return data, None


def _from_options(path: str, options: dict[str, Any]) -> Tsconfig:
    directory = os.path.dirname(path)
    base_url = options.get("baseUrl")
    base_url_abs = os.path.normpath(os.path.join(directory, base_url)) if isinstance(base_url, str) else None
    paths: dict[str, tuple[str, ...]] = {}
    raw_paths = options.get("paths")
    if isinstance(raw_paths, dict):
        for key, targets in raw_paths.items():
            if isinstance(targets, list):
                paths[key] = tuple(t for t in targets if isinstance(t, str))

    def text(key: str) -> str | None:
        value = options.get(key)
        return value.lower() if isinstance(value, str) else None

    def directory_option(key: str) -> str | None:
        value = options.get(key)
        return os.path.normpath(os.path.join(directory, value)) if isinstance(value, str) else None

    return Tsconfig(
        path=path,
        base_url=base_url_abs,
        paths=paths,
        paths_base=(base_url_abs or directory) if paths else "",
        module=text("module"),
        module_resolution=text("moduleResolution"),
        out_dir=directory_option("outDir"),
        root_dir=directory_option("rootDir"),
        allow_js=_flag(options, "allowJs"),
        verbatim_module_syntax=_flag(options, "verbatimModuleSyntax"),
        emit_decorator_metadata=_flag(options, "emitDecoratorMetadata"),
        composite=_flag(options, "composite"),
        source_map=_flag(options, "sourceMap"),
        resolve_json_module=_flag(options, "resolveJsonModule"),
    )


def _with_selection(config: Tsconfig, raw: dict[str, Any]) -> Tsconfig:
    """The top-level `files`, `include`, `exclude` and `tsc-alias` of one config file."""
    directory = os.path.dirname(config.path)

    def patterns(key: str) -> tuple[str, ...] | None:
        value = raw.get(key)
        if not isinstance(value, list):
            return None
        return tuple(os.path.normpath(os.path.join(directory, v)) for v in value if isinstance(v, str))

    alias = raw.get("tsc-alias")
    full_paths = alias.get("resolveFullPaths") if isinstance(alias, dict) else None
    return replace(
        config,
        files=patterns("files"),
        include=patterns("include"),
        exclude=patterns("exclude"),
        tsc_alias_full_paths=full_paths if isinstance(full_paths, bool) else None,
    )


def _flag(options: dict[str, Any], key: str) -> bool | None:
    value = options.get(key)
    return value if isinstance(value, bool) else None


def _merge(base: Tsconfig, own: Tsconfig, errors: list[str] | None = None) -> Tsconfig:
    """``own`` overrides ``base`` option by option, as `extends` does (paths replace, not merge)."""
    paths, paths_base = (own.paths, own.paths_base) if own.paths else (base.paths, base.paths_base)
    base_url = own.base_url or base.base_url
    if own.base_url and paths and not own.paths:
        paths_base = own.base_url
    return Tsconfig(
        path=own.path,
        base_url=base_url,
        paths=paths,
        paths_base=paths_base,
        module=own.module or base.module,
        module_resolution=own.module_resolution or base.module_resolution,
        out_dir=own.out_dir or base.out_dir,
        root_dir=own.root_dir or base.root_dir,
        errors=(*base.errors, *own.errors, *(errors or ())),
        files=own.files if own.files is not None else base.files,
        include=own.include if own.include is not None else base.include,
        exclude=own.exclude if own.exclude is not None else base.exclude,
        allow_js=_either(own.allow_js, base.allow_js),
        verbatim_module_syntax=_either(own.verbatim_module_syntax, base.verbatim_module_syntax),
        emit_decorator_metadata=_either(own.emit_decorator_metadata, base.emit_decorator_metadata),
        composite=_either(own.composite, base.composite),
        source_map=_either(own.source_map, base.source_map),
        resolve_json_module=_either(own.resolve_json_module, base.resolve_json_module),
        tsc_alias_full_paths=_either(own.tsc_alias_full_paths, base.tsc_alias_full_paths),
        chain=tuple(dict.fromkeys((own.path, *own.chain, *base.chain))),
    )


def _either(own: bool | None, base: bool | None) -> bool | None:
    return own if own is not None else base
