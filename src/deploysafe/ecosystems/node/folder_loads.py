"""A folder load (:class:`~deploysafe.ecosystems.node.parse.facts.FolderLoad`) as the imports it makes.

The parser records that a file lists a folder and loads its entries; which files the folder holds is a
fact of the disk, read here when the graph is built: every code file Node would load from it (``.js``,
``.mjs``, ``.cjs``, and ``.ts`` where tsx or ts-node runs the sources; sub-folders too for a recursive
loader, never ``node_modules`` or hidden folders; only names matching the loader's glob, as umzug's
``*.js``; under @fastify/autoload what its own walk loads, with its options:
:mod:`deploysafe.ecosystems.node.autoload`) becomes an ``import()`` at the call (a ``require()`` for a
package that requires them: migrate, umzug, knex), so the loaded files are reachable, their own imports are
followed and their faults judged, and their chain runs through the loader. A folder that could not be
read from the source is one import with a computed specifier: unverified, naming the call. A folder of
data a package reads (views, locales) makes no import: the pack takes it whole.
"""

from __future__ import annotations

import fnmatch
import os
import re

from deploysafe.check.facts import Import, ImportKind
from deploysafe.ecosystems.node.autoload import autoload_files, unknown_option
from deploysafe.ecosystems.node.parse.facts import FolderLoad

CODE_EXTENSIONS = (".js", ".mjs", ".cjs")
TYPESCRIPT_EXTENSIONS = (".ts", ".mts", ".cts")  # loaded where tsx or ts-node runs the sources
_DECLARATIONS = (".d.ts", ".d.mts", ".d.cts")
MAX_FILES = 5000  # a listing of a huge tree is not expanded past this many files
REQUIRING = ("migrate", "umzug", "knex")  # loaders that require() what they list (the others import())


def folder_path(load: FolderLoad, importer: str, root: str) -> str | None:
    """The absolute folder the load lists, None when unknown."""
    if not load.base:
        return None
    base = os.path.dirname(importer) if load.base == "file" else root
    return os.path.normpath(os.path.join(base, load.folder))


def folder_files(folder: str, recursive: bool, *, pattern: str = "", typescript: bool = False) -> list[str]:
    """The code files a listing of ``folder`` loads (absolute, sorted). ``pattern``: globs (braces allowed,
    ``|``-separated) the file names must match; one starting with ``!`` names files left out.
    ``typescript``: ``.ts`` files count too (not declaration files), as under tsx or ts-node."""
    extensions = CODE_EXTENSIONS + (TYPESCRIPT_EXTENSIONS if typescript else ())
    found: list[str] = []
    groups = [group.split("|") for group in pattern.split("&")] if pattern else []
    wanted = [
        [glob for part in group if not part.startswith("!") for glob in _brace_expanded(part)] for group in groups
    ]
    wanted = [group for group in wanted if group]
    unwanted = [
        glob for group in groups for part in group if part.startswith("!") for glob in _brace_expanded(part[1:])
    ]
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if recursive and d != "node_modules" and not d.startswith("."))
        for name in sorted(names):
            if not all(any(_matches(name, glob) for glob in group) for group in wanted):
                continue
            if any(_matches(name, glob) for glob in unwanted):
                continue
            if name.endswith(extensions) and not name.endswith(_DECLARATIONS) and not name.startswith("."):
                found.append(os.path.join(current, name))
                if len(found) >= MAX_FILES:
                    return found
    return found


def folder_imports(load: FolderLoad, importer: str, root: str, *, typescript: bool = False) -> list[Import]:
    """The imports ``load`` makes from ``importer``: one per code file of its folder; none for a folder of
    data a package reads (``asset``: the pack takes it whole). ``typescript``: the service runs its
    TypeScript sources (tsx, ts-node), so a loader that takes ``.ts`` files (autoload) loads them."""
    if load.asset:
        return []
    folder = folder_path(load, importer, root)
    expression = f"the entries of {load.call}"
    if folder is None:
        return [Import(ImportKind.DYNAMIC, None, load.line, load.column, expression=expression)]
    here = os.path.dirname(importer)
    kind = ImportKind.REQUIRE if load.loader in REQUIRING else ImportKind.DYNAMIC
    started_by = ""
    if load.at_load:
        listed = os.path.relpath(folder, root).replace(os.sep, "/")
        started_by = f"{listed}/ by {os.path.relpath(importer, root).replace(os.sep, '/')}:{load.line}"
    if load.unread:
        unread = f"{expression} (a file-name filter deploysafe cannot apply: {load.unread})"
        return [Import(ImportKind.DYNAMIC, None, load.line, load.column, expression=unread)]
    if load.loader == "autoload":
        files = autoload_files(folder, load.options, typescript=typescript)
        if files is None:
            unknown = f"{expression} (an option deploysafe cannot apply: {unknown_option(load.options)})"
            return [Import(ImportKind.DYNAMIC, None, load.line, load.column, expression=unknown)]
    else:
        files = folder_files(folder, load.recursive, pattern=load.names, typescript=typescript)
    imports = []
    for path in files:
        if os.path.realpath(path) == os.path.realpath(importer):
            continue
        rel = os.path.relpath(path, here).replace(os.sep, "/")
        specifier = rel if rel.startswith("../") else "./" + rel
        imports.append(Import(kind, specifier, load.line, load.column, expression=expression, started_by=started_by))
    return imports


def _matches(name: str, glob: str) -> bool:
    """fnmatch's glob, or ``re:PATTERN/FLAGS`` searched as JavaScript's ``RegExp.test`` would (``|``, ``&`` and ``%``
    percent-encoded in PATTERN; a pattern Python
    cannot compile matches nothing; the parser leaves such filters to the caller)."""
    if not glob.startswith("re:"):
        return fnmatch.fnmatchcase(name, glob)
    pattern, _, flags = glob[3:].rpartition("/")
    pattern = pattern.replace("%7C", "|").replace("%26", "&").replace("%25", "%")
    try:
        return re.search(pattern, name, re.IGNORECASE if "i" in flags else 0) is not None
    except re.error:
        return False


_BRACES = re.compile(r"\{([^{}]*)\}")


def _brace_expanded(glob: str) -> list[str]:
    """``*.{js,ts}`` -> ``*.js``, ``*.ts`` (fnmatch knows no braces)."""
    found = _BRACES.search(glob)
    if found is None:
        return [glob]
    head, tail = glob[: found.start()], glob[found.end() :]
    return [expanded for choice in found.group(1).split(",") for expanded in _brace_expanded(head + choice + tail)]
