"""``deploysafe.pack()``: from a project root to a verified release artifact, in named steps.

check (refuse on errors unless forced)  ->  select the files  ->  hash them  ->  write the manifest and
the deterministic archive  ->  verify what was written (unpack, hashes, check of the unpacked tree).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploysafe import safejson
from deploysafe.artifact import manifest as manifests
from deploysafe.artifact import writer
from deploysafe.check.ecosystem import RuntimeChoice
from deploysafe.check.pipeline import Report, check
from deploysafe.config import load
from deploysafe.ecosystems.node.entries import Entry as NodeEntry
from deploysafe.globs import user_patterns
from deploysafe.pack import start_files
from deploysafe.pack.errors import PackBlocked, PackError, UnverifiedEdges
from deploysafe.pack.select import ASSET, PackSettings, Selection, select
from deploysafe.pack.tree import walk
from deploysafe.pack.unverified import OpenEdge, open_edges
from deploysafe.pack.verify import VerifyResult, verify

DEFAULT_DIRECTORY = ".deploysafe/artifacts"
StageProgress = Callable[[str, int, int], None]
_JS_ENTRY = (".js", ".mjs", ".cjs")


@dataclass
class PackResult:
    path: Path  # the artifact written
    manifest: dict[str, Any]
    manifest_bytes: bytes  # exactly as stored in the archive
    size: int  # archive bytes
    report: Report  # check of the source tree
    selection: Selection
    verification: VerifyResult | None
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step: check, select, hash, write, verify
    unverified: list[OpenEdge] = field(default_factory=list)  # reachable edges computed at run time

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def forced(self) -> bool:
        return bool(self.manifest["check"]["forced"])

    @property
    def files(self) -> list[dict[str, Any]]:
        return list(self.manifest["files"])

    @property
    def unpacked_size(self) -> int:
        return sum(int(f["size"]) for f in self.manifest["files"])


def pack(
    root: str | os.PathLike[str],
    entries: list[str] | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    allow_secrets: Iterable[str] = (),
    force: bool = False,
    with_node_modules: bool = False,
    node_version: str | RuntimeChoice | None = None,
    verify_after: bool = True,
    allow_unverified: bool = False,
    progress: StageProgress | None = None,
) -> PackResult:
    """Build the release artifact of the service in ``root``; see docs/artifact.md for what it holds.

    Raises :class:`PackBlocked` when check finds errors (unless ``force``), :class:`PackError` when the
    artifact cannot be built as asked, :class:`ConfigError` for bad input.
    """
    clock = _Clock()
    settings = _settings(root, include, exclude, allow_secrets, with_node_modules)  # bad config fails first
    report = check(
        root, list(entries) if entries else None, node_version=node_version, progress=_stage(progress, "checking")
    )
    clock.lap("check")
    if report.errors and not force:
        raise PackBlocked(report)
    unbuilt = [e for e in report.entries if isinstance(e, NodeEntry) and e.compiled_to]
    if unbuilt:
        raise PackError(
            f"the service runs {unbuilt[0].compiled_to}, which tsc builds from {unbuilt[0].path} and is not built "
            "yet: run the build (e.g. npm run build) before pack, so the artifact holds what Node runs"
        )
    stale = report.typescript.stale if report.typescript else ()
    if stale and report.typescript is not None and report.typescript.build is not None:
        out_dir = os.path.relpath(report.typescript.build.out_dir or report.root, report.root).replace(os.sep, "/")
        raise PackError(
            f"{out_dir}/ is stale: rebuild before pack ({stale[0]} changed after the last build"
            + (f", and {len(stale) - 1} more" if len(stale) > 1 else "")
            + "), so the artifact holds what the sources build to"
        )
    project = report.root
    selection = select(project, report, walk(project), settings)
    config = load(Path(root))
    commands = [e.command for e in report.entries if isinstance(e, NodeEntry) and e.command]
    shared = [name for target in config.targets.values() for name in target.shared]
    selection.warnings += start_files.left_out(project, commands, selection, shared)
    clock.lap("select")
    opened = open_edges(report.unverified, selection.files, selection.dormant)
    allowed = allow_unverified or config.pack.unverified == "allow"
    uncovered = [edge for edge in opened if not edge.covered]
    if uncovered and not allowed and not force:
        raise UnverifiedEdges(uncovered)
    records, contents = manifests.hash_files(selection.sources, _stage(progress, "hashing"))
    clock.lap("hash")
    document = _manifest(project, report, selection, records, force)
    if opened:
        document["unverified"] = {"allowed": bool(uncovered), "edges": [edge.to_json() for edge in opened]}
    data = manifests.encode(document)
    path = _output_path(project, output, document["id"])
    size = writer.write(path, data, records, contents, _stage(progress, "writing"))
    del contents
    clock.lap("write")
    verification = None
    if verify_after:
        verification = verify(path, progress=_stage(progress, "verifying"))
        clock.lap("verify")
        if not verification.self_contained and not force:
            with contextlib.suppress(OSError):
                path.unlink()
            raise PackError(f"the artifact is not self-contained, so it was removed: {_first_problem(verification)}")
    return PackResult(path, document, data, size, report, selection, verification, clock.total, clock.laps, opened)


class _Clock:
    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


def _stage(progress: StageProgress | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def _settings(
    root: str | os.PathLike[str],
    include: Iterable[str],
    exclude: Iterable[str],
    allow: Iterable[str],
    with_node_modules: bool,
) -> PackSettings:
    config = load(Path(root)).pack
    settings = PackSettings(
        include=_globs(*config.include, *include),
        exclude=_globs(*config.exclude, *exclude),
        allow_secrets=_globs(*config.allow_secrets, *allow),
        with_node_modules=with_node_modules,
    )
    user_patterns(settings.include, "--include / [pack] include")
    user_patterns(settings.exclude, "--exclude / [pack] exclude")
    user_patterns(settings.allow_secrets, "--allow-secret / [pack] allow_secrets")
    return settings


def _globs(*patterns: str) -> tuple[str, ...]:
    """Patterns are relative to the root: ``./public/**`` means ``public/**``."""
    return tuple(p[2:] if p.startswith("./") else p for p in patterns if p.strip())


def _package(root: str) -> tuple[str, str]:
    try:
        with open(os.path.join(root, "package.json"), encoding="utf-8") as handle:
            data = safejson.load(handle)
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    name = data.get("name") if isinstance(data.get("name"), str) and data.get("name") else os.path.basename(root)
    version = data.get("version") if isinstance(data.get("version"), str) and data.get("version") else "0.0.0"
    return str(name), str(version)


def _manifest(
    root: str, report: Report, selection: Selection, records: list[manifests.FileRecord], forced: bool
) -> dict[str, Any]:
    name, version = _package(root)
    entries = [e.path for e in report.entries]
    check_section: dict[str, Any] = {"summary": report.summary(), "forced": forced}
    if forced and report.errors:
        check_section["overridden"] = [
            {"rule": f.rule, "file": f.file, "line": f.line, "message": f.message} for f in report.errors
        ]
    extra: dict[str, Any] = {
        "assets": [
            {"path": p.path, "read_by": p.detail} for p in sorted(selection.by_reason(ASSET), key=lambda p: p.path)
        ],
    }
    if selection.node_modules is not None:
        extra["node_modules"] = {
            "source": selection.node_modules.source,
            "packages": len(selection.node_modules.packages),
            "native": selection.node_modules.native,
        }
    return manifests.build(
        name=name,
        version=version,
        records=records,
        entries=entries,
        node={"version": str(report.node), "source": report.node.source},
        start=f"node {entries[0]}" if entries and entries[0].endswith(_JS_ENTRY) else None,
        lockfile=selection.lockfile,
        dormant=selection.dormant,
        excluded=[e.to_json() for e in selection.excluded_list()],
        check=check_section,
        extra=extra,
    )


def _output_path(root: str, output: str | os.PathLike[str] | None, artifact_id: str) -> Path:
    name = f"{artifact_id}.tar.gz"
    if output is None:
        return Path(root) / DEFAULT_DIRECTORY / name
    path = Path(output)
    if path.is_dir() or str(output).endswith(("/", os.sep)):
        return path / name
    if path.exists() and not path.is_file():
        raise PackError(f"cannot write the artifact to {path}: not a regular file")
    return path


def _first_problem(result: VerifyResult) -> str:
    if result.problems:
        return result.problems[0]
    if result.errors:
        first = result.errors[0]
        return str(first)
    return "check of the unpacked tree did not run"
