"""The comparison, ``deploysafe.drift()``: ROOT against SOURCE (production), every difference judged by ROOT's import graph.

    inventory both trees  ->  check ROOT  ->  pull what the entries need from SOURCE into a scratch tree,
    until no reachable import finds its file in SOURCE  ->  classify  ->  check SOURCE's own closure

Classes: ``needed`` (only in SOURCE, and an entry's imports load it: copy it before deploying),
``source-only-dormant`` (only in SOURCE, nothing reachable loads it: do not ship it blindly),
``local-only``, ``changed`` (both, other sha256) and ``same``. The user's tree is only written by
:func:`pull_needed`, which adds files and never replaces one without ``overwrite``.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploysafe import config as config_file
from deploysafe import safejson
from deploysafe.check.facts import ImportKind
from deploysafe.check.findings import Finding
from deploysafe.check.graph import Edge, ModuleGraph
from deploysafe.check.pipeline import Report, check
from deploysafe.check.resolution import Unresolved
from deploysafe.drift.local import inventory_directory
from deploysafe.drift.model import Inventory, InventoryFile, ProgressFn, Skip, is_code
from deploysafe.drift.overlay import ALREADY, WRITTEN, add_file
from deploysafe.drift.sources import DirectoryTree, SourceInfo, Tree, open_source
from deploysafe.drift.worktree import WorkTree
from deploysafe.ecosystems.node.rules import case_mismatch, unresolved_import
from deploysafe.errors import ConfigError, DeploysafeError

REPORT_VERSION = 1
# The classes' keys in the JSON report (snake_case, as every key; the text report says source-only-dormant).
NEEDED = "needed"
SOURCE_ONLY_DORMANT = "source_only_dormant"
LOCAL_ONLY = "local_only"
CHANGED = "changed"
SAME = "same"

# Extensions and index files Node (require) and TypeScript runners try for a specifier without one.
_EXTENSIONS = (".js", ".json", ".node", ".cjs", ".mjs", ".jsx", ".ts", ".tsx", ".mts", ".cts")
_RUNTIME_FILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        ".npmrc",
        "Procfile",
        "deploysafe.toml",
        ".nvmrc",
        ".node-version",
        "tsconfig.json",
    }
)
_MAX_ROUNDS = 64


class CompareError(DeploysafeError):
    """The comparison could not run (SOURCE unreachable, unreadable or malformed)."""

    exit_code = 2


@dataclass(frozen=True)
class Needed:
    path: str
    size: int
    sha256: str
    chain: tuple[str, ...]  # entry ... path: why the entry loads it
    importer: str | None  # the file whose import or asset reference needs it
    line: int
    column: int
    specifier: str | None
    when: str  # "at start", "when import() runs", "when require() runs", "when read"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "chain": list(self.chain),
            "imported_by": {
                "file": self.importer,
                "line": self.line,
                "column": self.column,
                "specifier": self.specifier,
            },
            "when": self.when,
        }


@dataclass(frozen=True)
class SourceOnly:
    path: str
    size: int
    sha256: str | None
    in_source: str | None  # "reachable" or "dormant" in SOURCE's own graph; None when unknown
    faults: tuple[str, ...] = ()  # what check says about the file in SOURCE

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "in_source": self.in_source,
            "faults": list(self.faults),
        }


@dataclass(frozen=True)
class Usage:
    """How ROOT's entries use a file: loaded (import), read by a literal path (asset), config, or not."""

    via: str | None  # "import" | "asset" | "config" | None (dormant)
    chain: tuple[str, ...] = ()

    @property
    def reachable(self) -> bool:
        return self.via is not None

    def to_json(self) -> dict[str, Any]:
        return {"reachable": self.reachable, "via": self.via, "chain": list(self.chain)}


@dataclass(frozen=True)
class LocalOnly:
    path: str
    size: int
    sha256: str | None
    usage: Usage

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, **self.usage.to_json()}


@dataclass(frozen=True)
class Changed:
    path: str
    usage: Usage
    local: InventoryFile
    source: InventoryFile

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            **self.usage.to_json(),
            "local": {"size": self.local.size, "sha256": self.local.sha256},
            "source": {"size": self.source.size, "sha256": self.source.sha256},
        }


@dataclass(frozen=True)
class Unreadable:
    side: str  # "local" | "source"
    path: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "path": self.path, "message": self.message}


@dataclass(frozen=True)
class SourceClosure:
    """Whether SOURCE's own entries find every file they import in SOURCE."""

    entries: tuple[str, ...]
    complete: bool | None  # None: could not be judged (no entry found)
    missing: tuple[Finding, ...] = ()  # reachable imports of a project file that is not there
    errors: int = 0  # every error check reports on SOURCE (packages judged against `packages`)
    packages: str = "source"  # whose node_modules resolved packages: "source" or "root"
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": list(self.entries),
            "complete": self.complete,
            "missing": [f.to_json() for f in self.missing],
            "errors": self.errors,
            "packages": self.packages,
            "note": self.note,
        }


@dataclass
class DriftReport:
    root: str
    source: SourceInfo
    release: str | None  # the release SOURCE's ``current`` pointed at
    tool: str  # how SOURCE was hashed
    entries: list[str]
    needed: list[Needed]
    source_only_dormant: list[SourceOnly]
    local_only: list[LocalOnly]
    changed: list[Changed]
    same: list[str]
    unreadable: list[Unreadable]
    before: Report  # check of ROOT as it is
    after: Report | None  # check of ROOT with the needed files added (None when nothing is needed)
    source_closure: SourceClosure | None
    local_files: int
    source_files: int
    seconds: float
    contents: dict[str, bytes] = field(default_factory=dict, repr=False)  # bytes of the needed files

    @property
    def blocked(self) -> bool:
        """ROOT fails check even with every needed file from SOURCE."""
        return not (self.after or self.before).deployable

    @property
    def exit_code(self) -> int:
        return 1 if self.needed or not self.before.deployable else 0

    @property
    def needed_by(self) -> list[str]:
        """The entries whose closure needs files from SOURCE, in entry order."""
        heads = {n.chain[0] for n in self.needed if n.chain}
        return [e for e in self.entries if e in heads]

    def summary(self) -> dict[str, int]:
        return {
            "local_files": self.local_files,
            "source_files": self.source_files,
            NEEDED: len(self.needed),
            SOURCE_ONLY_DORMANT: len(self.source_only_dormant),
            LOCAL_ONLY: len(self.local_only),
            "changed_reachable": sum(1 for c in self.changed if c.usage.reachable),
            "changed_dormant": sum(1 for c in self.changed if not c.usage.reachable),
            SAME: len(self.same),
            "unreadable": len(self.unreadable),
        }

    def to_json(self) -> dict[str, Any]:
        after = self.after or self.before
        return {
            "version": REPORT_VERSION,
            "root": self.root,
            "source": {
                "kind": self.source.kind,
                "location": self.source.location,
                "label": self.source.label,
                "target": self.source.target,
                "release": self.release,
                "hashed_with": self.tool,
            },
            "entries": self.entries,
            "verdict": "needed" if self.needed else ("blocked" if self.blocked else "ok"),
            "summary": self.summary(),
            NEEDED: [n.to_json() for n in self.needed],
            SOURCE_ONLY_DORMANT: [s.to_json() for s in self.source_only_dormant],
            LOCAL_ONLY: [x.to_json() for x in self.local_only],
            CHANGED: [c.to_json() for c in self.changed],
            SAME: self.same,
            "unreadable": [u.to_json() for u in self.unreadable],
            "check": {
                "deployable": self.before.deployable,
                "errors": len(self.before.errors),
                "deployable_with_needed": after.deployable,
                "errors_with_needed": [f.to_json() for f in after.errors],
            },
            "source_closure": self.source_closure.to_json() if self.source_closure else None,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class PullResult:
    written: list[str]
    refused: list[tuple[str, str]]  # (path, why it was not written)
    check: Report  # ROOT checked again after the copy
    already: list[str] = field(default_factory=list)  # already in ROOT with the same bytes

    @property
    def exit_code(self) -> int:
        return 0 if self.check.deployable and not self.refused else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "already": self.already,
            "refused": [{"path": p, "reason": r} for p, r in self.refused],
            "deployable": self.check.deployable,
            "errors": [f.to_json() for f in self.check.errors],
        }


# ---- the pipeline -------------------------------------------------------------------------------------


def drift(
    root: str | os.PathLike[str],
    against: str,
    *,
    entries: list[str] | None = None,
    skip: list[str] | None = None,
    source_check: bool = True,
    known_hosts: str | None = None,
    identity: str | None = None,
    trust_new_host_key: bool | None = None,
    cache: bool = True,
    progress: ProgressFn | None = None,
) -> DriftReport:
    """Compare ROOT with SOURCE (directory, archive, ssh:// URL or [targets.NAME]) through ROOT's graph."""
    started = time.perf_counter()
    before = check(root, entries, cache=cache, progress=_phase(progress, "checking ROOT"))
    root_path = before.root
    config = config_file.load(Path(root_path))
    skipper = Skip([*config.drift.skip, *(skip or [])])
    entry_paths = [e.path for e in before.entries]
    tree: Tree | None = None
    try:
        tree, info = open_source(
            against,
            config=config,
            skip=skipper,
            known_hosts=known_hosts,
            identity=identity,
            trust_new_host_key=trust_new_host_key,
        )
        local = inventory_directory(root_path, skipper, progress)
        source = tree.inventory(progress)
        with_source = _phase(progress, f"checking ROOT with {info.label}'s files")
        pulled = _pull_into_scratch(root_path, local, source, tree, before, entry_paths, cache, with_source)
        closure = None
        if source_check:
            checking = _phase(progress, f"checking {info.label}'s own closure")
            closure = _source_closure(tree, source, root_path, local, entries, cache, checking, progress)
    except DeploysafeError as err:
        if err.exit_code == CompareError.exit_code:
            raise
        raise CompareError(str(err)) from err
    except OSError as err:
        raise CompareError(f"cannot compare: {err.strerror or err}") from err
    finally:
        if tree is not None:
            tree.close()
    report = _classify(root_path, info, local, source, before, pulled, closure)
    report.entries = entry_paths
    report.seconds = time.perf_counter() - started
    return report


def pull_needed(report: DriftReport, *, overwrite: bool = False, cache: bool = True) -> PullResult:
    """Copy the ``needed`` files into ROOT (adding only, unless ``overwrite``), then check ROOT again."""
    result = PullResult([], [], report.before)
    for item in report.needed:
        data = report.contents.get(item.path)
        if data is None or hashlib.sha256(data).hexdigest() != item.sha256:
            result.refused.append((item.path, "its bytes could not be read from SOURCE intact"))
            continue
        outcome = add_file(report.root, item.path, data, overwrite=overwrite)
        if outcome == WRITTEN:
            result.written.append(item.path)
        elif outcome == ALREADY:
            result.already.append(item.path)
        else:
            result.refused.append((item.path, outcome))
    result.check = check(report.root, report.entries, cache=cache)
    return result


# ---- needed: what the entries load from SOURCE ----------------------------------------------------------


@dataclass
class _Pulled:
    """The scratch tree's outcome: which SOURCE files the entries load, and check with them added."""

    needed: set[str] = field(default_factory=set)
    contents: dict[str, bytes] = field(default_factory=dict)
    report: Report | None = None
    problems: list[Unreadable] = field(default_factory=list)


def _pull_into_scratch(
    root: str,
    local: Inventory,
    source: Inventory,
    tree: Tree,
    before: Report,
    entries: list[str],
    cache: bool,
    progress: Callable[[int, int], None] | None = None,
) -> _Pulled:
    """Add SOURCE's candidates for every reachable import that fails, re-check, repeat until none is left."""
    pulled = _Pulled()
    report = before
    work: WorkTree | None = None
    tried: set[str] = set()
    try:
        for _ in range(_MAX_ROUNDS):
            assert report.graph is not None
            have = set(local.files) | set(pulled.contents)
            wanted = sorted(_wanted(report.graph, have, source, pulled.contents) - tried)
            if not wanted:
                break
            tried.update(wanted)
            fetched = _verified(wanted, tree.read(wanted), source, pulled)
            if not fetched:
                continue
            if work is None:
                work = WorkTree("local")
                work.mirror(root, local)
                work.link_packages(root, local.node_modules)
            work.write(fetched)
            pulled.contents.update(fetched)
            report = check(work.path, entries, cache=cache, progress=progress)
        if work is None:
            return pulled
        assert report.graph is not None
        used = _used(report.graph, set(pulled.contents))
        pulled.needed = {p for p in pulled.contents if p in used}
        unused = sorted(set(pulled.contents) - pulled.needed)
        if unused:
            work.remove(unused)
            report = check(work.path, entries, cache=cache, progress=progress)
        pulled.contents = {p: pulled.contents[p] for p in pulled.needed}
        pulled.report = report
        return pulled
    finally:
        if work is not None:
            work.close()


def _wanted(graph: ModuleGraph, have: set[str], source: Inventory, pulled: dict[str, bytes]) -> set[str]:
    """SOURCE-only files that would satisfy a failing reachable import or a missing asset."""
    out: set[str] = set()

    def offer(rel: str | None, spellings: bool) -> None:
        if rel is None:
            return
        main = _main_of(pulled.get(f"{rel}/package.json")) if spellings else None
        candidates = _spellings(rel) if spellings else [rel]
        if main:
            candidates += _spellings(posixpath.normpath(f"{rel}/{main}"))
        for candidate in candidates:
            record = source.files.get(candidate)
            if record is not None and record.sha256 is not None and candidate not in have:
                out.add(candidate)

    for module in graph.reachable_modules():
        for edge in module.edges:
            res = edge.resolution
            if isinstance(res, Unresolved) and res.path and not edge.imp.type_only and graph.is_project_file(res.path):
                offer(_inside(graph.root, res.path), spellings=True)
        if module.source is not None:
            for asset in module.source.facts.assets:
                target = posixpath.normpath(posixpath.join(os.path.dirname(module.path), asset.path))
                offer(_inside(graph.root, target), spellings=False)
    return out


def _main_of(package_json: bytes | None) -> str | None:
    """The "main" of a folder's package.json pulled from SOURCE (require('./dir') loads it)."""
    if package_json is None:
        return None
    try:
        main = safejson.loads(package_json).get("main")
    except (ValueError, AttributeError):
        return None
    return main if isinstance(main, str) and main else None


def _spellings(rel: str) -> list[str]:
    return [
        rel,
        *(rel + ext for ext in _EXTENSIONS),
        *(f"{rel}/index{ext}" for ext in _EXTENSIONS),
        f"{rel}/package.json",
    ]


def _verified(wanted: list[str], fetched: dict[str, bytes], source: Inventory, pulled: _Pulled) -> dict[str, bytes]:
    good: dict[str, bytes] = {}
    for rel in wanted:
        data = fetched.get(rel)
        if data is None:
            pulled.problems.append(
                Unreadable("source", rel, "could not be fetched from SOURCE (gone since the inventory?)")
            )
        elif hashlib.sha256(data).hexdigest() != source.files[rel].sha256:
            pulled.problems.append(Unreadable("source", rel, "changed in SOURCE during the comparison"))
        else:
            good[rel] = data
    return good


def _used(graph: ModuleGraph, extra: set[str] | frozenset[str] = frozenset()) -> dict[str, tuple[str, Any]]:
    """Relative path -> (how, detail) for every file ROOT's entries use: imported, read as an asset, or
    (for the ``extra`` package.json files) the package.json of a folder an import loads a file from."""
    used: dict[str, tuple[str, Any]] = {}
    for module in graph.reachable_modules():
        used.setdefault(graph.rel(module.path), ("import", None))
    for module in graph.reachable_modules():
        if module.source is None:
            continue
        for asset in module.source.facts.assets:
            target = posixpath.normpath(posixpath.join(os.path.dirname(module.path), asset.path))
            rel = _inside(graph.root, target)
            if rel is not None:
                used.setdefault(rel, ("asset", (module.path, asset)))
    for rel in sorted(extra):
        folder = rel[: -len("package.json")]
        holder = next((p for p, (how, _) in used.items() if how == "import" and p.startswith(folder)), None)
        if rel.endswith("/package.json") and holder is not None:
            used.setdefault(rel, ("package", os.path.join(graph.root, holder)))
    return used


def _inside(root: str, path: str) -> str | None:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return None if rel == ".." or rel.startswith("../") else rel


# ---- classes ------------------------------------------------------------------------------------------


def _classify(
    root: str,
    info: SourceInfo,
    local: Inventory,
    source: Inventory,
    before: Report,
    pulled: _Pulled,
    closure: _Closure | None,
) -> DriftReport:
    graph = (pulled.report or before).graph
    assert graph is not None
    used = _used(graph, pulled.needed)
    scopes = _scope_dirs(used)
    needed = [_needed(graph, used, source.files[p]) for p in sorted(pulled.needed)]
    needed.sort(key=lambda n: (len(n.chain), n.chain))
    source_only = sorted(set(source.files) - set(local.files) - pulled.needed)
    both = sorted(set(source.files) & set(local.files))
    changed, same = [], []
    for path in both:
        mine, theirs = local.files[path], source.files[path]
        if mine.sha256 is None or theirs.sha256 is None:
            continue
        if mine.sha256 == theirs.sha256:
            same.append(path)
        else:
            changed.append(Changed(path, _usage(graph, used, scopes, path), mine, theirs))
    local_only = [
        LocalOnly(p, local.files[p].size, local.files[p].sha256, _usage(graph, used, scopes, p))
        for p in sorted(set(local.files) - set(source.files))
    ]
    unreadable = [Unreadable("local", p.path, p.message) for p in local.problems]
    unreadable += [Unreadable("source", p.path, p.message) for p in source.problems]
    unreadable += pulled.problems
    return DriftReport(
        root=root,
        source=info,
        release=source.release,
        tool=source.tool,
        entries=[],
        needed=needed,
        source_only_dormant=[_source_only(source.files[p], closure) for p in source_only],
        local_only=local_only,
        changed=changed,
        same=same,
        unreadable=unreadable,
        before=before,
        after=pulled.report,
        source_closure=closure.summary if closure else None,
        local_files=len(local.files),
        source_files=len(source.files),
        seconds=0.0,
        contents=pulled.contents,
    )


def _needed(graph: ModuleGraph, used: dict[str, tuple[str, Any]], record: InventoryFile) -> Needed:
    path = os.path.join(graph.root, record.path)
    how, detail = used[record.path]
    assert record.sha256 is not None
    if how == "package":  # read to find the folder's main file
        chain = (*graph.short_chain(detail)[:-1], record.path)
        parent = graph.parents.get(detail)
        importer = graph.rel(parent) if parent else None
        return Needed(record.path, record.size, record.sha256, chain, importer, 0, 0, None, "at start")
    if how == "asset":
        holder, asset = detail
        chain = (*graph.short_chain(holder), record.path)
        return Needed(
            record.path,
            record.size,
            record.sha256,
            chain,
            graph.rel(holder),
            asset.line,
            asset.column,
            asset.path,
            "when read",
        )
    importer = graph.parents.get(path)
    edge = _edge_to(graph, importer, path) if importer else None
    chain = tuple(graph.short_chain(path))
    if edge is None:
        return Needed(record.path, record.size, record.sha256, chain, None, 0, 0, None, "at start")
    return Needed(
        record.path,
        record.size,
        record.sha256,
        chain,
        graph.rel(edge.source),
        edge.imp.line,
        edge.imp.column,
        edge.imp.specifier,
        _when(edge),
    )


def _edge_to(graph: ModuleGraph, importer: str, path: str) -> Edge | None:
    module = graph.modules.get(importer)
    if module is None:
        return None
    for edge in module.edges:
        if edge.followed_path == path:
            return edge
    return None


def _when(edge: Edge) -> str:
    if edge.imp.kind is ImportKind.DYNAMIC:
        return "when import() runs"
    if edge.imp.kind is ImportKind.REQUIRE and edge.imp.in_function:
        return "when require() runs"
    return "at start"


def _scope_dirs(used: dict[str, tuple[str, Any]]) -> set[str]:
    """Every folder (relative, "" for ROOT) on the way to a used file: their package.json files count."""
    dirs = {""}
    for rel in used:
        parts = rel.split("/")[:-1]
        dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return dirs


def _usage(graph: ModuleGraph, used: dict[str, tuple[str, Any]], scopes: set[str], rel: str) -> Usage:
    if rel in used:
        how, detail = used[rel]
        if how == "asset":
            return Usage("asset", (*graph.short_chain(detail[0]), rel))
        return Usage("import", tuple(graph.short_chain(os.path.join(graph.root, rel))))
    folder, _, name = rel.rpartition("/")
    if name == "package.json" and folder in scopes:
        return Usage("config")
    if not folder and (name in _RUNTIME_FILES or name.startswith((".env", "ecosystem.config."))):
        return Usage("config")
    return Usage(None)


# ---- SOURCE's own closure -------------------------------------------------------------------------------


@dataclass
class _Closure:
    summary: SourceClosure
    report: Report | None = None

    def faults(self, rel: str) -> tuple[str, ...]:
        if self.report is None:
            return ()
        return tuple(f"{f.rule}: {f.message}" for f in self.report.findings if f.file == rel)

    def where(self, rel: str) -> str | None:
        if self.report is None or self.report.graph is None:
            return None
        graph = self.report.graph
        return "reachable" if graph.is_reachable(os.path.join(graph.root, rel)) else "dormant"


def _source_only(record: InventoryFile, closure: _Closure | None) -> SourceOnly:
    if closure is None:
        return SourceOnly(record.path, record.size, record.sha256, None)
    return SourceOnly(record.path, record.size, record.sha256, closure.where(record.path), closure.faults(record.path))


def _source_closure(
    tree: Tree,
    source: Inventory,
    root: str,
    local: Inventory,
    given: list[str] | None,
    cache: bool,
    progress: Callable[[int, int], None] | None = None,
    fetching: ProgressFn | None = None,
) -> _Closure:
    """check on SOURCE itself (a directory) or on a scratch copy of its code (archive, host)."""
    work: WorkTree | None = None
    try:
        if isinstance(tree, DirectoryTree):
            where = tree.directory
            packages = "source" if os.path.isdir(os.path.join(where, "node_modules")) else "none"
        else:
            code = [r.path for r in source.files.values() if r.sha256 and is_code(r.path, r.size)]
            work = WorkTree("source")
            work.stand_ins(source, tree.read(code, fetching))
            work.link_packages(root, local.node_modules)
            where, packages = work.path, "root"
        wanted = [e for e in (given or []) if e in source.files] or None
        try:
            report = check(where, wanted, cache=cache, progress=progress)
        except ConfigError as err:
            return _Closure(SourceClosure((), None, packages=packages, note=str(err)))
        missing = tuple(
            f
            for f in report.errors
            if f.rule in (unresolved_import.ID, case_mismatch.ID) and (f.specifier or "").startswith((".", "/"))
        )
        summary = SourceClosure(
            tuple(e.path for e in report.entries), not missing, missing, len(report.errors), packages
        )
        return _Closure(summary, report)
    finally:
        if work is not None:
            work.close()


def _phase(progress: ProgressFn | None, label: str) -> Callable[[int, int], None] | None:
    """check's (done, total) progress as one named phase of drift's."""
    if progress is None:
        return None
    return lambda done, total: progress(label, done, total)
