"""Folders that well-known packages read at start, named in the options a service passes them.

Each is a folder of the closure (the artifact needs it whole), found only in a file that imports the
package, from the option as written:

- express views: ``app.set('views', <folder>)``; without it, a file that sets ``'view engine'`` renders
  from ``views`` in the working directory (express's default);
- i18n: ``i18n.configure({ directory: <folder> })`` / ``new I18n({ directory })`` (no default to pack:
  without ``directory`` i18n 0.15 reads ``locales`` beside its own i18n.js, inside node_modules);
- i18next-fs-backend: ``loadPath: '<folder>/{{lng}}/{{ns}}.json'``: the folder before the first
  placeholder;
- umzug: ``migrations: { glob: '<folder>/*.js' }`` (or ``glob: ['<pattern>', { cwd: <folder> }]``, the
  ``cwd`` read as any folder is): the folder before the first wildcard, relative to the working directory
  (or to ``cwd``);
- knex: ``migrations: { directory: <folder> }`` in a file that imports knex, or beside ``client:`` in a
  knex configuration object (a knexfile imports nothing); a file that imports knex and calls ``.migrate.latest()`` with no directory reads ``migrations`` in the working
  directory (knex's default).

umzug's migrations and those knex runs (``.migrate.latest()`` in the same file) are code the package
requires at start: they are followed as imports (their faults judged, what they require packed); the
others are data.

The folder expression is read by :func:`deploysafe.ecosystems.node.parse.folders.folder_of` (literals,
``path.join(__dirname, …)`` and the other forms it knows); one it cannot read is a folder load with no
folder, which the pack reports instead of dropping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from deploysafe.ecosystems.node.parse.commonjs import string_value
from deploysafe.ecosystems.node.parse.folders import walk

PACKAGES = ("express", "i18n", "i18next-fs-backend", "umzug", "knex")
_PLACEHOLDER = re.compile(r"\{\{|[*?[{]")


@dataclass(frozen=True, slots=True)
class FolderOption:
    """A folder one of :data:`PACKAGES` reads: the option's value (None: the package's default folder
    ``default`` in the working directory), the node to report it at, and a cut: the value is a path pattern
    (``{{lng}}``, ``*``) whose folder is the part before the first placeholder."""

    package: str
    value: Node | None
    where: Node
    default: str = ""
    pattern: bool = False
    code: bool = False  # the package requires the folder's files (migrations): they are followed as imports
    cwd: Node | None = None  # the folder the pattern is relative to (umzug's `{ cwd }`), None: the working one


def mentions(source: bytes) -> bool:
    return any(name.encode() in source for name in PACKAGES)


def folder_options(root: Node, packages: set[str]) -> Iterator[FolderOption]:
    """Every folder option of the packages the file imports (``packages``)."""
    pairs = [node for node in walk(root) if node.type == "pair"]
    calls = [node for node in walk(root) if node.type == "call_expression"]
    if "express" in packages:
        yield from _express_views(calls)
    if "i18n" in packages:
        yield from (FolderOption("i18n", value, pair) for pair, value in _pairs(pairs, b"directory", None))
    if "i18next-fs-backend" in packages:
        for pair, value in _pairs(pairs, b"loadPath", None):
            yield FolderOption("i18next-fs-backend", value, pair, pattern=True)
    if "umzug" in packages:
        for pair, value in _pairs(pairs, b"glob", b"migrations"):
            pattern, cwd = _glob_pattern(value)
            yield FolderOption("umzug", pattern, pair, pattern=True, code=True, cwd=cwd)
    if "knex" in packages or b"client" in (root.text or b""):
        runs = "knex" in packages and any(_callee_text(call).endswith(b".migrate.latest") for call in calls)
        found = [
            FolderOption("knex", value, pair, code=runs)
            for pair, value in _pairs(pairs, b"directory", b"migrations")
            if "knex" in packages or _beside_client(pair)
        ]
        yield from found
        latest = [call for call in calls if _callee_text(call).endswith(b".migrate.latest")]
        if not found and runs:
            yield FolderOption("knex", None, latest[0], default="migrations", code=True)


def folder_text(text: str) -> tuple[str, str, bool]:
    """(the folder, the file-name pattern, whether sub-folders match) of a path pattern:
    ``locales/{{lng}}/{{ns}}.json`` -> (``locales``, ``{{ns}}.json``, True); ``db/*.js`` -> (``db``, ``*.js``,
    False)."""
    cut = _PLACEHOLDER.search(text)
    head = text[: cut.start()] if cut else text
    folder = head.rsplit("/", 1)[0] if "/" in head else "."
    rest = text[len(folder) + 1 :] if folder != "." else text
    return folder, rest.rsplit("/", 1)[-1], "/" in rest


def _express_views(calls: list[Node]) -> Iterator[FolderOption]:
    engine: Node | None = None
    found = False
    for call in calls:
        if not _callee_text(call).endswith(b".set"):
            continue
        arguments = _arguments(call)
        name = string_value(arguments[0]) if arguments and arguments[0].type == "string" else None
        if name == "views" and len(arguments) > 1:
            found = True
            yield FolderOption("express", arguments[1], call)
        elif name == "view engine":
            engine = engine or call
    if engine is not None and not found:
        yield FolderOption("express", None, engine, default="views")


def _pairs(pairs: list[Node], key: bytes, inside: bytes | None) -> Iterator[tuple[Node, Node | None]]:
    """(pair, value) of each ``key: value`` property; with ``inside``, only in the object that is the value
    of an ``inside: {...}`` property."""
    for pair in pairs:
        if _key(pair) != key:
            continue
        if inside is not None:
            holder = pair.parent.parent if pair.parent is not None else None
            if holder is None or holder.type != "pair" or _key(holder) != inside:
                continue
        yield pair, pair.child_by_field_name("value")


def _beside_client(pair: Node) -> bool:
    """The ``migrations`` object holding *pair* sits in an object with a ``client`` key (knex's config)."""
    holder = pair.parent.parent if pair.parent is not None else None
    config = holder.parent if holder is not None else None
    return config is not None and any(child.type == "pair" and _key(child) == b"client" for child in config.children)


def _glob_pattern(value: Node | None) -> tuple[Node | None, Node | None]:
    """``glob: 'x/*.js'`` or ``glob: ['x/*.js', { cwd: … }]``: (the pattern, the ``cwd`` option's value or
    None). A second element with anything but a ``cwd`` the folder is read from gives no pattern."""
    if value is None or value.type != "array":
        return value, None
    items = [child for child in value.named_children if child.type != "comment"]
    if len(items) == 1:
        return items[0], None
    if len(items) != 2 or items[1].type != "object":
        return None, None
    options = [child for child in items[1].named_children if child.type != "comment"]
    cwd = [option for option in options if option.type == "pair" and _key(option) == b"cwd"]
    if not cwd:
        return items[0], None
    return items[0], cwd[0].child_by_field_name("value")


def _key(pair: Node) -> bytes:
    key = pair.child_by_field_name("key")
    return (key.text or b"").strip(b"'\"") if key is not None else b""


def _callee_text(call: Node) -> bytes:
    callee = call.child_by_field_name("function")
    return re.sub(rb"\s+", b"", callee.text or b"") if callee is not None else b""


def _arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    return [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
