"""Code a file loads from a folder at run time, by listing the folder rather than naming each file.

Two forms are recognised, and nothing is guessed beyond them:

- an autoload plugin: a file that imports ``@fastify/autoload`` and passes ``{ dir: <folder> }`` (every
  ``dir:`` property of the file); the plugin loads the folder's code files, sub-folders included;
- the hand-written form: ``readdirSync(<folder>)`` / ``readdir(<folder>)`` (``fs.``, ``fs.promises.``,
  ``fs/promises``) whose entries reach an ``import()`` or ``require()`` of a computed specifier (the loop
  variable, a callback's parameter, a ``const`` built from them; file-name filters such as
  ``.endsWith('.js')`` read on the way: :mod:`deploysafe.ecosystems.node.parse.listing_flow`): those calls
  load what the listing returns, and no other.

- a migration runner that reads a folder at start: ``migrate``'s ``load({ migrationsDirectory })``
  (default ``migrations`` in the working directory).

The folder is read from a string literal (relative to the working directory, which is the project root
when the service starts), from ``path.join(__dirname | import.meta.dirname, 'x')`` and the other forms
:mod:`deploysafe.ecosystems.node.parse.assets` knows (relative to the file), through ``fileURLToPath(…)``,
from desm's ``join(import.meta.url, 'x')``, and through one ``const`` holding such a value. Any other folder expression gives a load whose folder is
unknown (``folder`` empty), so the check reports the call as unverified instead of dropping it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from tree_sitter import Node

from deploysafe.ecosystems.node.parse import assets
from deploysafe.ecosystems.node.parse.commonjs import string_value

AUTOLOAD_PACKAGES = ("@fastify/autoload",)
# The options of @fastify/autoload that decide which files it loads (dirNameRoutePrefix and the like do not).
AUTOLOAD_OPTIONS = frozenset(
    {
        "ignorePattern",
        "matchFilter",
        "ignoreFilter",
        "maxDepth",
        "autoHooks",
        "autoHooksPattern",
        "indexPattern",
        "scriptPattern",
    }
)
# Packages that load a folder of code at start: the option naming it and its default (working directory).
MIGRATION_PACKAGES = {"migrate": ("migrationsDirectory", "migrations")}
_LISTINGS = (b"readdirSync", b"readdir")
_URL_WRAPPERS = (b"fileURLToPath", b"pathToFileURL", b"String")


def mentions_folder_load(source: bytes) -> bool:
    """A cheap test before any walk: only files that could hold a folder load are walked."""
    names = (*AUTOLOAD_PACKAGES, *MIGRATION_PACKAGES)
    return b"readdir" in source or any(name.encode() in source for name in names)


def migration_loads(root: Node, package: str) -> Iterator[tuple[Node | None, Node]]:
    """(the folder option's value or None for the package's default, the call) for each ``X.load({...})``
    call of a file that imports ``package`` (migrate reads ``migrations/`` by readdir and requires each)."""
    option = MIGRATION_PACKAGES[package][0].encode()
    for node in walk(root):
        if node.type != "call_expression" or _last_name(node.child_by_field_name("function")) != b"load":
            continue
        value = None
        for pair in walk(node):
            key = pair.child_by_field_name("key") if pair.type == "pair" else None
            if key is not None and (key.text or b"").strip(b"'\"") == option:
                value = pair.child_by_field_name("value")
        yield value, node


def autoload_dirs(root: Node) -> Iterator[tuple[Node, Node, tuple[tuple[str, str, str], ...]]]:
    """(the ``dir:`` value, the call holding the options object, the other options of that object that
    decide which files load) for each ``dir:`` property of the file."""
    for node in walk(root):
        if node.type != "pair":
            continue
        key = node.child_by_field_name("key")
        value = node.child_by_field_name("value")
        if key is None or value is None or (key.text or b"").strip(b"'\"") != b"dir":
            continue
        yield value, _enclosing_call(node) or node, _autoload_options(node)


def _autoload_options(dir_pair: Node) -> tuple[tuple[str, str, str], ...]:
    """(option, kind, value) of the options beside ``dir`` that @fastify/autoload filters files with.
    kind: ``regex`` (value ``pattern/flags``), ``string``, ``number``, ``bool``, or ``other`` for anything
    computed (a function filter, a variable), which the expansion cannot apply."""
    holder = dir_pair.parent
    found = []
    for pair in holder.named_children if holder is not None else ():
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        name = (key.text or b"").strip(b"'\"").decode("utf-8", "replace") if key is not None else ""
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if name not in AUTOLOAD_OPTIONS or value is None:
            if pair.type == "spread_element":
                found.append(("...", "other", _text(pair)))
            continue
        found.append((name, *_option_value(value)))
    return tuple(found)


def _option_value(value: Node) -> tuple[str, str]:
    if value.type == "regex":
        pattern = value.child_by_field_name("pattern")
        flags = value.child_by_field_name("flags")
        return "regex", f"{_text(pattern) if pattern else ''}/{_text(flags) if flags else ''}"
    if value.type == "string":
        text = string_value(value)
        return ("string", text) if text is not None else ("other", _text(value))
    if value.type == "number":
        return "number", _text(value)
    if value.type in ("true", "false"):
        return "bool", value.type
    return "other", _text(value)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def listings(root: Node) -> Iterator[tuple[Node | None, Node]]:
    """(the folder argument or None, the call) for each ``readdirSync(...)`` / ``readdir(...)`` call."""
    for node in walk(root):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        if callee is None or _last_name(callee) not in _LISTINGS:
            continue
        arguments = node.child_by_field_name("arguments")
        values = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
        yield (values[0] if values else None), node


def folder_of(expression: Node | None, root: Node) -> tuple[str, str] | None:
    """(base, folder) for a folder expression: base ``file`` (relative to the file's directory) or ``cwd``
    (relative to the working directory); None when the folder cannot be read without running the code."""
    seen = 0
    while expression is not None and seen < 4:
        seen += 1
        kind = expression.type
        if kind in ("string", "template_string"):
            text = string_value(expression) if kind == "string" else _plain_template(expression)
            if text is None or text.startswith("/"):
                return None
            folder = _normalised(text)
            return ("cwd", folder) if folder is not None else None
        if kind == "parenthesized_expression":
            expression = expression.named_children[0] if expression.named_children else None
            continue
        if kind == "identifier" and expression.text != b"__dirname":
            expression = _const_value(root, expression.text or b"")
            continue
        if kind == "call_expression" and _last_name(expression.child_by_field_name("function")) in _URL_WRAPPERS:
            arguments = expression.child_by_field_name("arguments")
            expression = arguments.named_children[0] if arguments is not None and arguments.named_children else None
            continue
        if kind == "call_expression" and _is_desm_join(expression, root):
            return _desm_folder(expression)
        return _relative_to_file(expression)
    return None


def _is_desm_join(call: Node, root: Node) -> bool:
    """``join(import.meta.url, 'routes')`` where ``join`` is desm's (``import { join } from 'desm'``,
    ``import desm from 'desm'`` then ``desm.join``): a path relative to the file's own folder."""
    callee = call.child_by_field_name("function")
    if callee is None:
        return False
    for statement in root.named_children:
        source = statement.child_by_field_name("source") if statement.type == "import_statement" else None
        if source is None or string_value(source) != "desm":
            continue
        for node in walk(statement):
            if node.type == "import_specifier":
                name = node.child_by_field_name("name")
                local = node.child_by_field_name("alias") or name
                if name is not None and local is not None and name.text == b"join" and callee.text == local.text:
                    return True
            elif _is_default_import(node) and callee.type == "member_expression" and _last_name(callee) == b"join":
                owner = callee.child_by_field_name("object")
                return owner is not None and owner.text == node.text
    return False


def _is_default_import(node: Node) -> bool:
    return node.type == "identifier" and node.parent is not None and node.parent.type == "import_clause"


def _desm_folder(call: Node) -> tuple[str, str] | None:
    arguments = call.child_by_field_name("arguments")
    values = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
    if not values or (values[0].text or b"").replace(b" ", b"") != b"import.meta.url":
        return None
    parts = [string_value(value) if value.type == "string" else None for value in values[1:]]
    if any(part is None or part.startswith("/") for part in parts):
        return None
    folder = _normalised("/".join(part for part in parts if part is not None) or ".")
    return ("file", folder) if folder is not None else None


def _relative_to_file(expression: Node) -> tuple[str, str] | None:
    """``path.join(__dirname, 'x')``, ``new URL('./x/', import.meta.url)``, ``__dirname + '/x'``..."""
    dirnames = [n for n in walk(expression) if n.type == "identifier" and n.text == b"__dirname"]
    metas = [n for n in walk(expression) if n.type == "meta_property"]
    start, end = expression.start_byte, expression.end_byte
    found = [path for path, node in assets.find_assets(dirnames, metas) if start <= node.start_byte < end]
    if len(found) == 1:
        return "file", found[0]
    if len(found) == 0 and _is_own_directory(expression):
        return "file", "."
    return None


def _is_own_directory(expression: Node) -> bool:
    """``__dirname`` or ``import.meta.dirname`` alone: the file's own folder."""
    text = (expression.text or b"").strip()
    return text in (b"__dirname", b"import.meta.dirname")


def _const_value(root: Node, name: bytes) -> Node | None:
    """The initializer of the one top-level-or-nested ``const NAME = ...`` of the file (None if not one)."""
    values = []
    for node in walk(root):
        if node.type != "variable_declarator":
            continue
        declared = node.child_by_field_name("name")
        if declared is not None and declared.type == "identifier" and declared.text == name:
            values.append(node.child_by_field_name("value"))
    return values[0] if len(values) == 1 else None


def _enclosing_call(node: Node) -> Node | None:
    current = node.parent
    while current is not None and current.type not in ("call_expression", "program"):
        current = current.parent
    return current if current is not None and current.type == "call_expression" else None


def _plain_template(node: Node) -> str | None:
    if any(child.type == "template_substitution" for child in node.children):
        return None
    return (node.text or b"")[1:-1].decode("utf-8", "replace")


def _normalised(path: str) -> str | None:
    if not path or "\0" in path:
        return None
    normal = posixpath.normpath(path)
    return "." if normal in ("", ".") else normal


def _last_name(callee: Node | None) -> bytes:
    if callee is None:
        return b""
    if callee.type == "member_expression":
        prop = callee.child_by_field_name("property")
        return prop.text or b"" if prop is not None else b""
    return callee.text or b"" if callee.type == "identifier" else b""


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))
