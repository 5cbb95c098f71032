"""Values read from JavaScript without running it, through the same tree-sitter grammars as modules.

:func:`object_properties` finds every ``key: value`` property of an object literal with a given key (a PM2
process file's ``script``), with the literal value when the value is one (a quoted string, a template
without substitutions) and the source text of the expression when it is not (``path.join(__dirname,
'x')``): the caller reports that one as unverified. Comments are comments: a commented-out app is no app.
:func:`listen_ports` and :func:`route_strings` are what ``deploysafe init`` reads from a service's code to
propose its health URL. :func:`declared_type_names` is the interfaces and type aliases a declaration file (``.d.ts``) declares,
at any depth (``declare module``, namespaces), and nothing a comment or a string spells.
"""

from __future__ import annotations

from tree_sitter import Node

from deploysafe.ecosystems.node.parse.commonjs import cooked, string_value
from deploysafe.ecosystems.node.parse.javascript import Dialect, syntax_tree
from deploysafe.ecosystems.node.parse.properties import Property

__all__ = ["Property", "declared_type_names", "listen_ports", "object_properties", "route_strings"]

_MAX_NODES = 2_000_000  # a walk bound for hostile input; no process file or declaration file comes near


def object_properties(source: bytes, key: str) -> list[Property]:
    """Every property ``key`` of every object literal in ``source`` (JavaScript), in source order."""
    found = []
    for pair in _nodes(syntax_tree(source, Dialect.JAVASCRIPT), {"pair", "shorthand_property_identifier"}):
        if pair.type == "shorthand_property_identifier":  # { script }: a variable's value
            if _text(pair) == key:
                found.append(Property(key, None, key, pair.start_point[0] + 1, _siblings(pair.parent)))
            continue
        name, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        if name is None or value is None or _key_text(name) != key:
            continue
        found.append(Property(key, literal(value), _text(value), pair.start_point[0] + 1, _siblings(pair.parent)))
    return found


def literal(node: Node) -> str | None:
    """The string a literal node spells (a quoted string, a template without ``${}``), else None."""
    if node.type == "string":
        return string_value(node)
    if node.type == "template_string" and not any(c.type == "template_substitution" for c in node.children):
        return cooked(_text(node)[1:-1])
    if node.type == "parenthesized_expression" and node.named_child_count == 1:
        inner = node.named_children[0]
        return literal(inner) if inner is not None else None
    return None


def declared_type_names(source: bytes) -> frozenset[str]:
    """The names of the interfaces and type aliases a TypeScript declaration file declares."""
    names = set()
    for node in _nodes(syntax_tree(source, Dialect.TYPESCRIPT), {"interface_declaration", "type_alias_declaration"}):
        name = node.child_by_field_name("name")
        if name is not None:
            names.add(_text(name))
    return frozenset(names)


def listen_ports(source: bytes) -> list[tuple[int, int]]:
    """``(port, line)`` for each port the code spells as a literal: ``x.listen(3000)``, ``port: 3000``,
    ``process.env.PORT ?? 3000`` / ``|| 3000``."""
    found = []
    tree = syntax_tree(source, Dialect.JAVASCRIPT)
    for node in _nodes(tree, {"call_expression", "pair", "binary_expression"}):
        number: Node | None = None
        if node.type == "call_expression":
            callee, arguments = node.child_by_field_name("function"), node.child_by_field_name("arguments")
            prop = callee.child_by_field_name("property") if callee is not None else None
            if prop is not None and _text(prop) == "listen" and arguments is not None and arguments.named_children:
                number = arguments.named_children[0]
        elif node.type == "pair":
            key = node.child_by_field_name("key")
            if key is not None and _key_text(key).lower() == "port":
                number = node.child_by_field_name("value")
        elif _operator(node) in ("??", "||"):
            left = node.child_by_field_name("left")
            if left is not None and "PORT" in _text(left):
                number = node.child_by_field_name("right")
        port = _port(number)
        if port is not None:
            found.append((port, node.start_point[0] + 1))
    return found


def route_strings(source: bytes, routes: frozenset[str]) -> list[tuple[str, int]]:
    """``(text, line)`` of each string literal in ``source`` that is one of ``routes`` ("/health")."""
    found = []
    for node in _nodes(syntax_tree(source, Dialect.JAVASCRIPT), {"string"}):
        text = string_value(node)
        if text in routes:
            found.append((text, node.start_point[0] + 1))
    return found


def _operator(node: Node) -> str:
    operator = node.child_by_field_name("operator")
    return _text(operator) if operator is not None else ""


def _port(node: Node | None) -> int | None:
    if node is None or node.type != "number" or not _text(node).isdigit():
        return None
    value = int(_text(node))
    return value if 0 < value < 65536 else None


def _siblings(obj: Node | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in obj.named_children if obj is not None else []:
        if pair.type != "pair":
            continue
        name, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        text = literal(value) if value is not None else None
        if name is not None and text is not None:
            values[_key_text(name)] = text
    return values


def _key_text(node: Node) -> str:
    return (string_value(node) or "") if node.type == "string" else _text(node)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _nodes(root: Node, types: set[str]) -> list[Node]:
    """The nodes of ``types`` under ``root``, in source order (an explicit stack: no recursion limit)."""
    found: list[Node] = []
    stack = [root]
    seen = 0
    while stack and seen < _MAX_NODES:
        node = stack.pop()
        seen += 1
        if node.type in types:
            found.append(node)
        stack.extend(reversed(node.children))
    return found
