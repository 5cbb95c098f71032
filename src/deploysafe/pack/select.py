"""Which files go into the artifact, each with the reason it is there; and what is left out, and why.

In order: the modules the entries load (the check graph's closure); package.json files that scope them;
the lockfile and install settings; the process file (PM2 ecosystem, Procfile); files the code reads by a
literal path (``facts.assets``) and the folders known packages and migration CLIs read at start; files
matched by include globs; and, when asked, the production
node_modules. Secrets never go in by default (see :mod:`deploysafe.pack.secrets`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from deploysafe import safejson
from deploysafe.artifact import check_member_name
from deploysafe.check.graph import ModuleGraph
from deploysafe.check.pipeline import Report
from deploysafe.ecosystems.node.files import is_source
from deploysafe.ecosystems.node.parse.facts import FolderLoad
from deploysafe.errors import ArtifactError
from deploysafe.globs import user_patterns
from deploysafe.pack import sequelize_cli
from deploysafe.pack.errors import PackError
from deploysafe.pack.production_modules import ProductionModules, production_closure
from deploysafe.pack.secrets import Allowed, might_be_secret, secret_reason
from deploysafe.pack.tree import Tree

LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml")
INSTALL_SETTINGS = (".npmrc", ".yarnrc", ".yarnrc.yml", ".nvmrc", ".node-version")
PROCESS_FILES = (
    "ecosystem.config.js",
    "ecosystem.config.cjs",
    "ecosystem.config.mjs",
    "ecosystem.config.json",
    "Procfile",
)

# Why a file is in the artifact.
ENTRY = "entry"
MODULE = "module"
MANIFEST = "package.json"
LOCKFILE = "lockfile"
SETTINGS = "install settings"
PROCESS = "process file"
RUNTIME_CONFIG = "runtime config"
ASSET = "asset"
INCLUDE = "include"
NODE_MODULES = "node_modules"


@dataclass(frozen=True, slots=True)
class Picked:
    path: str
    reason: str  # one of the constants above
    detail: str = ""  # who loads it, which glob matched, ...


@dataclass(frozen=True, slots=True)
class Excluded:
    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PackSettings:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_secrets: tuple[str, ...] = ()
    with_node_modules: bool = False


@dataclass(slots=True)
class Selection:
    files: dict[str, Picked] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # packed path -> absolute file to read
    excluded: dict[str, Excluded] = field(default_factory=dict)
    dormant: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lockfile: str | None = None
    node_modules: ProductionModules | None = None

    def by_reason(self, *reasons: str) -> list[Picked]:
        return [p for p in self.files.values() if p.reason in reasons]

    def excluded_list(self) -> list[Excluded]:
        return [self.excluded[k] for k in sorted(self.excluded)]


def select(root: str, report: Report, tree: Tree, settings: PackSettings) -> Selection:
    graph = report.graph
    assert graph is not None
    picker = _Picker(root, tree, settings)
    picker.closure(graph)
    picker.manifests()
    picker.runtime_configs(report)
    picker.cli_reads(report)
    picker.assets(graph)
    picker.includes(settings.include)
    picker.symlinked_copies()
    if settings.with_node_modules:
        picker.node_modules()
    picker.secrets_left_out()
    picker.raise_strict()
    selection = picker.selection
    selection.dormant = [d for d in report.dormant if d not in selection.files]
    return selection


class _Picker:
    def __init__(self, root: str, tree: Tree, settings: PackSettings) -> None:
        self.root = root
        self.tree = tree
        self.files = set(tree.files)
        self.allowed = Allowed(settings.allow_secrets)
        self.excluded_spec = user_patterns(settings.exclude, "--exclude") if settings.exclude else None
        self.selection = Selection()
        self.strict_refusals: list[tuple[str, str, str]] = []  # (path, reason, glob)
        self._ignored_modules: list[str] = []

    # -- the steps ---------------------------------------------------------------------------------------

    def closure(self, graph: ModuleGraph) -> None:
        """Every module an entry loads. Git-ignored modules (build output) go in; secret names do not."""
        entries = set(graph.entries)
        rel_of = _Relative(graph)
        for path, parent in graph.parents.items():
            rel = rel_of(path)
            if rel.startswith("../"):
                loader = rel_of(parent) if parent else "an entry"
                raise PackError(f"{loader} loads {path}, which is outside the project root; an artifact cannot hold it")
            if not os.path.isfile(path):
                continue  # a mistyped import's intended file that is not there: check reports it
            reason = secret_reason(rel, path)
            if reason and not self.allowed(rel):
                raise PackError(
                    f"{rel_of(parent) if parent else 'an entry'} loads {rel}, which looks like a {reason}; "
                    f"pass --allow-secret '{rel}' if it must ship"
                )
            detail = f"loaded by {rel_of(parent)}" if parent else "entry"
            self._add(rel, ENTRY if path in entries else MODULE, detail, source=path)
            if self.tree.is_ignored(rel):
                self._ignored_modules.append(rel)
        if self._ignored_modules:
            shown = ", ".join(self._ignored_modules[:3])
            more = f" and {len(self._ignored_modules) - 3} more" if len(self._ignored_modules) > 3 else ""
            self.selection.warnings.append(
                f"{len(self._ignored_modules)} packed module(s) are ignored by git (build output?): {shown}{more}"
            )
        for rel in sorted(self.selection.files):
            self._scopes(rel)

    def _scopes(self, rel: str) -> None:
        """package.json files between a module and the root decide its module format and `imports`."""
        directory = posixpath.dirname(rel)
        while directory:
            candidate = f"{directory}/package.json"
            if candidate in self.files and candidate not in self.selection.files:
                self._add(candidate, MANIFEST, f"package scope of {rel}")
            directory = posixpath.dirname(directory)

    def manifests(self) -> None:
        if "package.json" in self.files:
            self._add("package.json", MANIFEST, "the project's package.json")
        for name in LOCKFILES:
            if name in self.files:
                self._add(name, LOCKFILE, "installs the exact dependency tree")
                self.selection.lockfile = self.selection.lockfile or name
        if self.selection.lockfile is None and _declares_dependencies(os.path.join(self.root, "package.json")):
            self.selection.warnings.append(
                "no lockfile (package-lock.json, npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml): "
                "the host will resolve dependency versions at install time"
            )
        for name in INSTALL_SETTINGS:
            if name in self.files:
                self._candidate(name, SETTINGS, "read by the package manager")
        for name in PROCESS_FILES:
            if name in self.files:
                self._candidate(name, PROCESS, "starts the service")

    def runtime_configs(self, report: Report) -> None:
        """What the runtime reads at start besides modules: the tsconfig chain tsx, ts-node and
        tsconfig-paths/register take `paths`, `baseUrl` and the module format from, and Yarn PnP's map and cache."""
        pnp_files: tuple[str, ...] = getattr(report, "pnp_files", ())
        for rel in pnp_files:
            if rel in self.files:
                self._add(rel, RUNTIME_CONFIG, "read at start by Yarn Plug'n'Play")
        run = report.typescript
        if run is None:
            return
        reader = "tsconfig-paths/register" if run.compiled else run.runner
        for path in run.runtime_files:
            rel = os.path.relpath(path, self.root).replace(os.sep, "/")
            if rel.startswith("../"):
                # A monorepo's shared tsconfig: the artifact cannot hold it.
                self.selection.warnings.append(
                    f"{path} is read at start by {reader} but lies outside the project: provide it on the host "
                    "or copy what it sets into the project's tsconfig"
                )
            elif rel in self.files:
                self._add(rel, RUNTIME_CONFIG, f"read at start by {reader}")

    def cli_reads(self, report: Report) -> None:
        """What a migration CLI the start command runs reads (sequelize-cli: .sequelizerc, its config and
        migrations or seeders)."""
        commands = [command for entry in report.entries if (command := getattr(entry, "command", ""))]
        for read in sequelize_cli.reads(self.root, commands):
            if read.unread:
                self.selection.warnings.append(
                    f"{sequelize_cli.RC} sets {read.option} to {read.unread}, which deploysafe cannot read "
                    "without running it: add a [pack] include for what it names"
                )
            elif is_source(read.path) and read.path in self.files:
                self._candidate(read.path, ASSET, f"sequelize-cli ({read.option})")
                self.selection.warnings.append(
                    f"sequelize-cli requires {read.path} ({read.option}): it is packed, its own imports are not checked"
                )
            else:
                self._asset(read.path, sequelize_cli.RC, f"sequelize-cli ({read.option})")

    def assets(self, graph: ModuleGraph) -> None:
        """Files the code reads by a literal path relative to itself (``facts.assets``)."""
        rel_of = _Relative(graph)
        for module in graph.reachable_modules():
            if module.source is None or not module.source.facts.assets:
                continue
            rel = rel_of(module.path)
            if rel.startswith("../"):
                continue
            for ref in module.source.facts.assets:
                where = f"{rel}:{ref.line}"
                self._asset(posixpath.normpath(posixpath.join(posixpath.dirname(rel), ref.path)), rel, where)
        for module in graph.reachable_modules():
            loads = getattr(module.source.facts, "folder_loads", ()) if module.source is not None else ()
            rel = rel_of(module.path)
            for load in loads:
                if load.asset and not rel.startswith(("../", "node_modules/")):
                    self._folder_asset(load, rel)

    def _folder_asset(self, load: FolderLoad, module: str) -> None:
        """A folder a known package reads at start (express views, i18n locales, migrations): packed whole."""
        where = f"{module}:{load.line}"
        if not load.base:
            self.selection.warnings.append(
                f"{where} {load.call}: {load.loader} reads a folder deploysafe cannot tell from the source; "
                "add a [pack] include for it"
            )
            return
        base = posixpath.dirname(module) if load.base == "file" else ""
        target = posixpath.normpath(posixpath.join(base, load.folder))
        if not self.tree.under(target) and target not in self.tree.symlinks:
            self.selection.warnings.append(f"{where} {load.loader} reads the folder '{target}', which is not there")
            return
        self._asset(target, module, f"{where} ({load.loader})")

    def _asset(self, target: str, module: str, where: str) -> None:
        if target == ".." or target.startswith("../"):
            self.selection.warnings.append(f"{where} reads '{target}' outside the project: not packed")
            return
        if target.split("/", 1)[0] == "node_modules" or "/node_modules/" in f"/{target}":
            return  # installed on the host from the lockfile
        folder = posixpath.dirname(module)
        if target == "." or folder == target or folder.startswith(target + "/"):
            self.selection.warnings.append(
                f"{where} reads the folder '{target or '.'}' that holds the code itself: not packed whole "
                "(add [pack] include globs for the files it needs)"
            )
            return
        if target in self.files:
            self._candidate(target, ASSET, where)
            picked = self.selection.files.get(target)
            if is_source(target) and picked is not None and picked.reason == ASSET:
                self.selection.warnings.append(
                    f"{where} loads the code file {target} by a literal path (a Worker or fork?): it is packed, "
                    "but its imports are not checked; add it as an entry"
                )
            return
        if target in self.tree.symlinks:
            self._link(target, ASSET, where)
            return
        under = self.tree.under(target)
        if under:
            for path in under:
                self._candidate(path, ASSET, f"{where} (folder {target}/)")
            return
        self.selection.warnings.append(f"{where} reads '{target}' by a literal path, but there is no such file")

    def includes(self, patterns: Iterable[str]) -> None:
        for pattern in patterns:
            spec = user_patterns([pattern], "--include")
            matched = [f for f in self.tree.files if spec.match_file(f)]
            links = [f for f in self.tree.symlinks if spec.match_file(f)]
            if not matched and not links:
                self.selection.warnings.append(f"include '{pattern}' matches no file")
            for path in matched:
                self._candidate(path, INCLUDE, pattern, strict=True)
            for path in links:
                self._link(path, INCLUDE, pattern)

    def symlinked_copies(self) -> None:
        """An artifact holds no symlinks; Node reaches files through them by their link path, which the
        graph records only as real paths. A link inside the project to packed files becomes a copy."""
        root = os.path.realpath(self.root)
        for link, target in sorted(self.tree.symlinks.items()):
            if not target.startswith(root + os.sep):
                continue
            real = os.path.relpath(target, root).replace(os.sep, "/")
            if real in self.selection.files:
                copies = [(link, real)]
            else:
                copies = [
                    (link + path[len(real) :], path) for path in self.selection.files if path.startswith(real + "/")
                ]
            for path, original in copies:
                picked = self.selection.files[original]
                self._add(
                    path,
                    picked.reason,
                    f"{picked.detail} (through the symlink {link})",
                    self.selection.sources[original],
                )
            if copies:
                self.selection.warnings.append(
                    f"{link} is a symlink to {real}: packed as a copy of {len(copies)} file(s) (an artifact holds no symlinks)"
                )

    def node_modules(self) -> None:
        modules = production_closure(self.root)
        self.selection.node_modules = modules
        for path in modules.files:
            source = modules.links.get(path)
            reason = None if self.allowed(path) else secret_reason(path, source or os.path.join(self.root, path))
            if reason:  # a package's own .env or key is a secret like any other
                self.selection.excluded[path] = Excluded(path, reason)
                continue
            self._add(path, NODE_MODULES, "production dependency", source=source)
        if modules.native:
            self.selection.warnings.append(
                f"{len(modules.native)} compiled addon(s) in node_modules (e.g. {modules.native[0]}) are built for "
                "this machine's OS, CPU and Node ABI; the host must match"
            )

    def secrets_left_out(self) -> None:
        """List every secret-looking file of the tree that is not packed, so the output can say so."""
        for path in self.tree.files:
            name = path.rsplit("/", 1)[-1]
            if path in self.selection.files or path in self.selection.excluded or not might_be_secret(name):
                continue
            reason = secret_reason(path, os.path.join(self.root, path))
            if reason:
                self.selection.excluded[path] = Excluded(path, reason)

    def raise_strict(self) -> None:
        if not self.strict_refusals:
            return
        path, reason, glob = self.strict_refusals[0]
        more = f" (and {len(self.strict_refusals) - 1} more)" if len(self.strict_refusals) > 1 else ""
        raise PackError(
            f"include '{glob}' matches {path}, which is a {reason}{more}; narrow the glob, or pass "
            f"--allow-secret '{path}' to pack it"
        )

    # -- helpers -----------------------------------------------------------------------------------------

    def _add(self, rel: str, reason: str, detail: str, source: str | None = None) -> None:
        if rel in self.selection.files:
            return
        try:
            check_member_name(rel)
        except ArtifactError as err:
            raise PackError(f"cannot pack {rel!r}: {err}") from err
        self.selection.files[rel] = Picked(rel, reason, detail)
        self.selection.sources[rel] = source or os.path.join(self.root, rel)

    def _candidate(
        self, rel: str, reason: str, detail: str, *, strict: bool = False, source: str | None = None
    ) -> None:
        """A file asked for by something other than an import: exclusions and secret rules apply."""
        if rel in self.selection.files:
            return
        if self.excluded_spec is not None and self.excluded_spec.match_file(rel):
            self.selection.excluded[rel] = Excluded(rel, "[pack] exclude")
            return
        if rel in self.selection.excluded and not strict:
            return
        why = None if self.allowed(rel) else self._secret(rel, source)
        if why is None:
            self._add(rel, reason, detail, source)
        elif strict:
            self.strict_refusals.append((rel, why, detail))
        else:
            note = f", read by {detail}: provide it on the host (shared/)" if reason == ASSET else ""
            self.selection.excluded[rel] = Excluded(rel, why + note)

    def _secret(self, rel: str, source: str | None) -> str | None:
        reason = secret_reason(rel, source or os.path.join(self.root, rel))
        if reason:
            return reason
        if self.tree.is_ignored(rel):
            return "file git ignores (.gitignore)"
        return None

    def _link(self, rel: str, reason: str, detail: str) -> None:
        target = self.tree.symlinks[rel]
        root = os.path.realpath(self.root)
        if os.path.isfile(target) and target.startswith(root + os.sep):
            self._candidate(rel, reason, detail, strict=reason == INCLUDE, source=target)
        else:
            self.selection.warnings.append(f"{rel} is a symlink to a folder or out of the project: not packed")


def _declares_dependencies(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            data = safejson.load(handle)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and any(data.get(key) for key in ("dependencies", "optionalDependencies"))


class _Relative:
    """``graph.rel`` without ``os.path.relpath``'s cost for the common case of a path under the root."""

    def __init__(self, graph: ModuleGraph) -> None:
        self.graph = graph
        self.prefix = graph.root.rstrip(os.sep) + os.sep

    def __call__(self, path: str) -> str:
        if path.startswith(self.prefix):
            return path[len(self.prefix) :].replace(os.sep, "/")
        return self.graph.rel(path)
