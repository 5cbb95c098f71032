"""A folder load (:class:`~deploysafe.ecosystems.node.parse.facts.FolderLoad`) as the imports it makes.

The parser records that a file lists a folder and loads its entries; which files the folder holds is a
fact of the disk, read here when the graph is built: every code file Node would load from it
(``.js``, ``.mjs``, ``.cjs``; sub-folders too for a recursive loader, never ``node_modules`` or hidden
folders; under @fastify/autoload only the ``index`` file of a folder that has one) becomes an ``import()`` at the call (a ``require()`` for a package that requires them: migrate), so the loaded files are reachable, their own imports are
followed and their faults judged, and their chain runs through the loader. A folder that could not be
read from the source is one import with a computed specifier: unverified, naming the call.
"""

from __future__ import annotations

import os

from deploysafe.check.facts import Import, ImportKind
from deploysafe.ecosystems.node.parse.facts import FolderLoad

CODE_EXTENSIONS = (".js", ".mjs", ".cjs")
AUTOLOAD_INDEX = ("index.js", "index.mjs", "index.cjs")
MAX_FILES = 5000
REQUIRING = (
    "migrate",
)  # loaders that require() what they list (the others import())  # a listing of a huge tree is not expanded past this many files


def folder_path(load: FolderLoad, importer: str, root: str) -> str | None:
    """The absolute folder the load lists, None when unknown."""
    if not load.base:
        return None
    base = os.path.dirname(importer) if load.base == "file" else root
    return os.path.normpath(os.path.join(base, load.folder))


def folder_files(folder: str, recursive: bool, *, index_only: bool = False) -> list[str]:
    """The code files a listing of ``folder`` loads (absolute, sorted). ``index_only``: as @fastify/autoload
    does, a folder holding an ``index`` file loads that file alone (and its sub-folders)."""
    found: list[str] = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if recursive and d != "node_modules" and not d.startswith("."))
        if index_only and any(name in AUTOLOAD_INDEX for name in names):
            names = [name for name in names if name in AUTOLOAD_INDEX][:1]
        for name in sorted(names):
            if name.endswith(CODE_EXTENSIONS) and not name.startswith("."):
                found.append(os.path.join(current, name))
                if len(found) >= MAX_FILES:
                    return found
    return found


def folder_imports(load: FolderLoad, importer: str, root: str) -> list[Import]:
    """The imports ``load`` makes from ``importer``: one per code file of its folder."""
    folder = folder_path(load, importer, root)
    expression = f"the entries of {load.call}"
    if folder is None:
        return [Import(ImportKind.DYNAMIC, None, load.line, load.column, expression=expression)]
    here = os.path.dirname(importer)
    kind = ImportKind.REQUIRE if load.loader in REQUIRING else ImportKind.DYNAMIC
    imports = []
    for path in folder_files(folder, load.recursive, index_only=load.loader == "autoload"):
        if os.path.realpath(path) == os.path.realpath(importer):
            continue
        rel = os.path.relpath(path, here).replace(os.sep, "/")
        specifier = rel if rel.startswith("../") else "./" + rel
        imports.append(Import(kind, specifier, load.line, load.column, expression=expression))
    return imports
