"""The one interface a language implements so the check can follow its imports.

An :class:`Ecosystem` says whether a project is its own (``detect``) and opens a :class:`LanguageCheck` on
it: the entries and why they were chosen, the runtime assumed, which files are sources, how a file becomes
:class:`~deploysafe.check.facts.ModuleFacts` (its :class:`Parser`), how an import resolves, and which rules
judge the graph. The pipeline (``deploysafe.check.pipeline``) and the graph name only these terms; Node
(``deploysafe.ecosystems.node``) is the first ecosystem. Adding one means a package under
``deploysafe.ecosystems`` and a line in its registry, and nothing here.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from deploysafe.config import CheckTable, Config

if TYPE_CHECKING:
    from deploysafe.check.facts import Import, ModuleFacts
    from deploysafe.check.findings import Finding, Unverified
    from deploysafe.check.graph import Edge, ModuleGraph
    from deploysafe.check.rules import RuleSet
    from deploysafe.check.sources import SourceLoader


@dataclass(frozen=True)
class Project:
    """A project directory as the pipeline found it: its real path and its deploysafe.toml."""

    root: str  # real, absolute path
    config: Config


class Entry(Protocol):
    """A file the service starts from, and how it was found ("package.json scripts.start: node x.js")."""

    @property
    def path(self) -> str: ...  # relative to the root, "/" separators

    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class RuntimeChoice:
    """A runtime version chosen outside the project, with why: a deploy target's recorded Node version."""

    version: str  # "20.11.1"
    source: str  # "target web runs it (recorded after the deploy of ...)"


class Runtime(Protocol):
    """What runs the code (Node 20.18.0, because package.json engines says so), for the report."""

    @property
    def source(self) -> str: ...  # why this runtime was assumed

    def to_json(self) -> dict[str, object]: ...  # keys merged into the report's JSON


D = TypeVar("D", bound=Hashable)  # a parser's own name for a kind of file (JavaScript, TSX, ...)


class Parser(Protocol[D]):
    """Bytes in, facts out. Instances and ``dialect_for``'s results are picklable: a pool of processes
    parses a cold tree. ``version`` is part of every facts-cache key."""

    @property
    def not_a_source(self) -> str: ...  # why a file it was asked for is not parsed ("not a JavaScript file")

    @property
    def empty(self) -> ModuleFacts: ...  # the facts of a file it did not parse

    def version(self) -> str: ...

    def dialect_for(self, path: str) -> D | None: ...  # None: not a file this parser reads

    def dialect_name(self, dialect: D) -> str: ...

    def prepare(self) -> None: ...  # load what parsing needs; called once before the first parse

    def parse(self, data: bytes, dialect: D) -> ModuleFacts: ...


class Modules(Protocol):
    """How the graph sees one project's files: which are sources, which belong to the project (not to an
    installed dependency), their format, and each import resolved into an :class:`Edge`."""

    root: str
    loader: SourceLoader

    def is_source(self, path: str) -> bool: ...

    def is_project_file(self, path: str) -> bool: ...

    def display_path(self, path: str) -> str: ...  # the path reports name ``path`` by (usually itself)

    def format_of(self, path: str) -> str: ...

    def edges_of(self, path: str, imports: Sequence[Import]) -> list[Edge]: ...

    def forget(self, paths: Iterable[str]) -> None: ...  # these files' content changed: read them again


class LanguageCheck(Protocol):
    """One ecosystem checking one project: everything the pipeline asks between scan and report (it reads
    these, never sets them: read-only members, so an ecosystem may hold narrower types)."""

    @property
    def entries(self) -> Sequence[Entry]: ...

    @property
    def runtime(self) -> Runtime: ...

    @property
    def excludes(self) -> Sequence[str]: ...  # gitignore-style patterns of files that are code but never run

    @property
    def skipped_dirs(self) -> frozenset[str]: ...  # directory names the scan never enters (installed dependencies)

    @property
    def built_from(self) -> frozenset[str]: ...  # relative paths of sources compiled into what runs (behind dist/)

    @property
    def modules(self) -> Modules: ...

    @property
    def rules(self) -> RuleSet: ...

    def is_source(self, name: str) -> bool: ...  # by file name: what the scan lists

    def preloads(self) -> Mapping[str, Sequence[Import]]: ...  # modules a start command loads first

    def findings(self, graph: ModuleGraph) -> tuple[list[Finding], list[Unverified]]: ...

    def project_findings(self) -> tuple[list[Finding], list[Unverified]]: ...  # faults before any import

    def close(self) -> None: ...


class Ecosystem(Protocol):
    """A language and its package manager, as the check knows them."""

    @property
    def name(self) -> str: ...

    @property
    def parser(self) -> Parser[Any]: ...

    @property
    def rules(self) -> RuleSet: ...  # every rule, for `deploysafe rules` and SARIF

    @property
    def manifest(self) -> str: ...  # the file that makes a folder a project ("package.json")

    @property
    def installed_dirs(self) -> frozenset[str]: ...  # folder names holding installed dependencies ("node_modules")

    @property
    def install_markers(self) -> tuple[str, ...]: ...  # files an install writes as it ends, relative to the root

    def detect(self, root: str) -> bool: ...  # this project is ours (a package.json, a pyproject.toml, ...)

    def open(
        self,
        project: Project,
        settings: CheckTable,
        entries: Sequence[str],
        *,
        runtime: str | RuntimeChoice | None,
        cache: bool,
    ) -> LanguageCheck: ...
