"""Non-code files a module reads by a literal path relative to its own directory.

A release that packs only the import closure must also pack these, so the forms that name such a file
with nothing computed are recognised, and nothing is guessed for the others:

- ``new URL('./q.sql', import.meta.url)`` (also inside ``fs.readFileSync(...)``/``fileURLToPath(...)``);
- ``path.join(__dirname, 'a', 'b.html')``, ``path.resolve(__dirname, ...)``, ``join(__dirname, ...)``: any
  callee whose last name is ``join`` or ``resolve``, with ``__dirname`` or ``import.meta.dirname`` first and
  only string literals after it;
- ``__dirname + '/x.json'`` and ```${__dirname}/x.json```.

Paths come back ``/``-separated and relative to the directory of the file (``..`` allowed, no leading
``./``), each with the node of its first literal so the caller can say where it is.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote

from tree_sitter import Node

from deploysafe.ecosystems.node.parse.commonjs import cooked, string_value

IDENTIFIERS = (b"__dirname",)
"""Identifier texts the caller's query must capture for :func:`find_assets`."""

_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PATH_CALLEES = (b"join", b"resolve")


def find_assets(dirnames: Iterable[Node], import_metas: Iterable[Node]) -> Iterator[tuple[str, Node]]:
    """(path, literal node) for each reference, from `__dirname` identifiers and `import.meta` nodes."""
    for node in dirnames:
        yield from _from_directory(node)
    for meta in import_metas:
        member = meta.parent
        if member is None or member.type != "member_expression":
            continue
        prop = member.child_by_field_name("property")
        name = prop.text if prop is not None else b""
        if name == b"url":
            yield from _from_url(member)
        elif name == b"dirname":
            yield from _from_directory(member)


def _from_url(url: Node) -> Iterator[tuple[str, Node]]:
    """`new URL('./x', import.meta.url)`."""
    arguments = url.parent
    construction = arguments.parent if arguments is not None else None
    if arguments is None or arguments.type != "arguments" or construction is None:
        return
    constructor = construction.child_by_field_name("constructor")
    if construction.type != "new_expression" or constructor is None or constructor.text != b"URL":
        return
    values = _values(arguments)
    if len(values) != 2 or values[1] != url or values[0].type != "string":
        return
    text = string_value(values[0])
    if text is None or _URL_SCHEME.match(text) or text.startswith(("/", "//")):
        return
    path = _normalised(unquote(text.split("#", 1)[0].split("?", 1)[0]))
    if path is not None:
        yield path, values[0]


def _from_directory(directory: Node) -> Iterator[tuple[str, Node]]:
    """`join(__dirname, 'a')`, `__dirname + '/a'`, `${__dirname}/a` where *directory* is the first part."""
    parent = directory.parent
    if parent is None:
        return
    if parent.type == "arguments":
        yield from _from_path_call(directory, parent)
    elif parent.type == "binary_expression":
        yield from _from_concatenation(directory, parent)
    elif parent.type == "template_substitution":
        yield from _from_template(parent)


def _from_path_call(directory: Node, arguments: Node) -> Iterator[tuple[str, Node]]:
    call = arguments.parent
    callee = call.child_by_field_name("function") if call is not None else None
    if callee is None or _last_name(callee) not in _PATH_CALLEES:
        return
    values = _values(arguments)
    if len(values) < 2 or values[0] != directory:
        return
    parts = [_literal(value) for value in values[1:]]
    if any(part is None for part in parts):
        return
    segments = [part for part in parts if part is not None]
    if _last_name(callee) == b"resolve" and any(segment.startswith("/") for segment in segments):
        return  # resolve() restarts at an absolute segment: no longer relative to the file
    path = _normalised("/".join(segments).lstrip("/"))
    if path is not None:
        yield path, values[1]


def _from_concatenation(directory: Node, expression: Node) -> Iterator[tuple[str, Node]]:
    """`__dirname + '/a' + '/b.json'`: a left-leaning chain of `+` with literals on the right."""
    text = ""
    first: Node | None = None
    current = directory
    parent: Node | None = expression
    while parent is not None and parent.type == "binary_expression" and _is_plus(parent):
        if parent.child_by_field_name("left") != current:
            return
        right = parent.child_by_field_name("right")
        piece = _literal(right) if right is not None else None
        if piece is None:
            return
        first = first or right
        text += piece
        current, parent = parent, parent.parent
    path = _normalised(text[1:]) if text.startswith("/") else None
    if path is not None and first is not None:
        yield path, first


def _from_template(substitution: Node) -> Iterator[tuple[str, Node]]:
    """`${__dirname}/a.json`: the directory is the only substitution and comes first."""
    template = substitution.parent
    if template is None or template.type != "template_string":
        return
    parts = [child for child in template.named_children if child.type != "comment"]
    if parts[:1] != [substitution] or any(part.type == "template_substitution" for part in parts[1:]):
        return
    raw = (template.text or b"")[substitution.end_byte - template.start_byte : -1]
    text = cooked(raw.decode("utf-8", "replace"))
    path = _normalised(text[1:]) if text is not None and text.startswith("/") else None
    if path is not None:
        yield path, template


def _normalised(path: str) -> str | None:
    """`./a/../b.sql` -> `b.sql`; None for the directory itself, absolute or empty paths."""
    if not path or path.startswith("/") or "\0" in path:
        return None
    normal = posixpath.normpath(path)
    return None if normal in (".", "") else normal


def _literal(node: Node) -> str | None:
    """A string literal's value, or a template's when it has no substitution."""
    if node.type == "string":
        return string_value(node)
    if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.children):
        return cooked((node.text or b"")[1:-1].decode("utf-8", "replace"))
    return None


def _values(arguments: Node) -> list[Node]:
    return [child for child in arguments.named_children if child.type != "comment"]


def _last_name(callee: Node) -> bytes:
    if callee.type == "identifier":
        return callee.text or b""
    prop = callee.child_by_field_name("property") if callee.type == "member_expression" else None
    return (prop.text or b"") if prop is not None else b""


def _is_plus(expression: Node) -> bool:
    operator = expression.child_by_field_name("operator")
    return operator is not None and operator.type == "+"
