"""Which computed loads of a file use the entries of a folder listing, and which file names pass on the way.

``for (const name of readdirSync(dir)) { if (!name.endsWith('.js')) continue; await import(join(dir, name)) }``
loads what the listing returns; an ``import(process.env.PLUGIN)`` beside it does not. A listing is tied to a
computed ``import()``/``require()`` only through names that carry its entries: the loop variable of a
``for … of`` over it, a ``const`` it is assigned to (``await`` and parentheses allowed), the first parameter of
a callback of ``.filter``/``.map``/``.forEach``/``.then``… called on it, and any ``const`` whose value is built
from such a name (``path.join(dir, name)``, a template, a ``+``). The computed load is tied when its argument
names one of them.

File-name filters on those names are read where they are plain: ``x.endsWith('.js')`` and
``path.extname(x) === '.js'`` in a ``.filter`` callback, in an ``if`` around the load, or in an
``if (…) continue``/``return`` guard, with ``!`` read as Node would. A listing nothing ties is no folder load.

Pure functions over tree-sitter nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from deploysafe.ecosystems.node.parse.commonjs import string_value

__all__ = ["Flow", "flow_of"]

_CALLBACK_METHODS = frozenset(
    {b"filter", b"map", b"forEach", b"flatMap", b"some", b"every", b"find", b"sort", b"then", b"reduce"}
)
_CHAINED = frozenset({b"filter", b"map", b"flatMap", b"sort", b"slice", b"concat", b"reverse", b"then"})
_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function"})
_THROUGH = frozenset({"await_expression", "parenthesized_expression"})
_BUILT = frozenset({"binary_expression", "template_substitution", "template_string", "arguments"})
_ROUNDS = 4


@dataclass(frozen=True)
class Flow:
    """The computed-load argument nodes a listing's entries reach, and the file-name suffixes its filters
    keep (``include``, empty: all) and drop (``exclude``)."""

    loads: tuple[Node, ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...]


def flow_of(listing: Node, computed: list[Node], root: Node) -> Flow:
    """How ``listing`` (a readdir call) reaches ``computed`` (argument nodes of computed loads)."""
    names = _carriers(listing, root)
    tied = tuple(argument for argument in computed if _names_one(argument, names))
    include: list[str] = []
    exclude: list[str] = []
    if tied:
        for usage in _usages(root, names):
            for suffix, keeps in _suffix_tests(usage):
                (include if keeps else exclude).append(suffix)
    return Flow(tied, tuple(dict.fromkeys(include)), tuple(dict.fromkeys(exclude)))


def _carriers(listing: Node, root: Node) -> set[bytes]:
    """The names that carry the listing's entries (see the module's docstring)."""
    names: set[bytes] = set()
    frontier = [listing]
    for _ in range(_ROUNDS):
        found = {name for expression in frontier for name in _bound_from(expression)} - names
        if not found:
            break
        names |= found
        frontier = list(_usages(root, found))
    return names


def _bound_from(expression: Node) -> Iterator[bytes]:
    """Names an expression's value (or its elements) is bound to where it stands."""
    node = expression
    while node.parent is not None and node.parent.type in _THROUGH:
        node = node.parent
    parent = node.parent
    if parent is None:
        return
    if parent.type == "for_in_statement" and parent.child_by_field_name("right") == node:
        yield from _identifiers(parent.child_by_field_name("left"))
    elif parent.type == "variable_declarator" and parent.child_by_field_name("value") == node:
        yield from _identifiers(parent.child_by_field_name("name"))
    elif parent.type == "member_expression" and parent.child_by_field_name("object") == node:
        call = parent.parent
        method = parent.child_by_field_name("property")
        if call is None or call.type != "call_expression" or method is None:
            return
        arguments = call.child_by_field_name("arguments")
        first = arguments.named_children[0] if arguments is not None and arguments.named_children else None
        if method.text in _CALLBACK_METHODS and first is not None and first.type in _FUNCTIONS:
            yield from _first_parameter(first)
        if method.text in _CHAINED:
            yield from _bound_from(call)
    elif parent.type in _BUILT or parent.type == "call_expression":
        holder = parent.parent if parent.type in ("arguments", "template_substitution") else parent
        if holder is not None and holder.type in ("call_expression", "template_string", "binary_expression"):
            yield from _bound_from(holder)


def _first_parameter(function: Node) -> Iterator[bytes]:
    single = function.child_by_field_name("parameter")
    if single is not None:
        yield from _identifiers(single)
        return
    parameters = function.child_by_field_name("parameters")
    named = [child for child in parameters.named_children if child.type != "comment"] if parameters else []
    if named:
        yield from _identifiers(named[0])


def _identifiers(node: Node | None) -> Iterator[bytes]:
    if node is None:
        return
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        yield node.text or b""
        return
    for child in node.named_children:
        if child.type in ("identifier", "shorthand_property_identifier_pattern", "object_pattern", "array_pattern"):
            yield from _identifiers(child)
        elif child.type in ("pair_pattern", "assignment_pattern"):
            yield from _identifiers(child.child_by_field_name("value") or child.child_by_field_name("left"))


def _usages(root: Node, names: set[bytes]) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "identifier" and node.text in names:
            yield node
        stack.extend(node.children)


def _names_one(argument: Node, names: set[bytes]) -> bool:
    return any(True for _ in _usages(argument, names))


def _suffix_tests(usage: Node) -> Iterator[tuple[str, bool]]:
    """(suffix, whether names that end with it are kept) for a test of the name at ``usage``."""
    test, suffix = _suffix_test(usage)
    if test is None or suffix is None:
        return
    negated = conjunct = False
    node = test
    while node.parent is not None and node.parent.type in ("parenthesized_expression", "unary_expression"):
        if node.parent.type == "unary_expression":
            operator = node.parent.child_by_field_name("operator")
            if operator is None or operator.type != "!":
                return
            negated = not negated
        node = node.parent
    while node.parent is not None and _is_and(node.parent):
        conjunct, node = True, node.parent  # `a && b` keeps a name only where both hold
        while node.parent is not None and node.parent.type == "parenthesized_expression":
            node = node.parent
    holder = node.parent
    if holder is None:
        return
    if holder.type == "if_statement" and holder.child_by_field_name("condition") == node:
        skips = _skips(holder.child_by_field_name("consequence"))
        if not (skips and conjunct):  # `if (a && b) continue` drops a name only where both hold
            yield suffix, negated == skips
    elif holder.type in _FUNCTIONS or holder.type in ("return_statement", "expression_statement"):
        yield suffix, not negated  # a `.filter(f => f.endsWith('.js'))` result, `f.endsWith('.js') && load(f)`


def _is_and(node: Node) -> bool:
    operator = node.child_by_field_name("operator") if node.type == "binary_expression" else None
    return operator is not None and operator.type == "&&"


def _suffix_test(usage: Node) -> tuple[Node | None, str | None]:
    """The boolean expression testing ``usage``'s suffix, and the suffix."""
    parent = usage.parent
    if parent is not None and parent.type == "member_expression" and parent.child_by_field_name("object") == usage:
        prop = parent.child_by_field_name("property")
        call = parent.parent
        if prop is not None and prop.text == b"endsWith" and call is not None and call.type == "call_expression":
            return call, _only_string(call)
        return None, None
    # path.extname(x) === '.js'
    arguments = parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    callee = call.child_by_field_name("function") if call is not None else None
    if call is None or callee is None or not (callee.text or b"").endswith(b"extname"):
        return None, None
    comparison = call.parent
    if comparison is None or comparison.type != "binary_expression":
        return None, None
    operator = comparison.child_by_field_name("operator")
    other = comparison.child_by_field_name("right" if comparison.child_by_field_name("left") == call else "left")
    if operator is None or other is None or other.type != "string" or operator.type not in ("===", "==", "!==", "!="):
        return None, None
    if operator.type in ("!==", "!="):
        return None, None  # a negated comparison is left unread (no filter assumed)
    return comparison, string_value(other)


def _only_string(call: Node) -> str | None:
    arguments = call.child_by_field_name("arguments")
    values = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
    return string_value(values[0]) if len(values) == 1 and values[0].type == "string" else None


def _skips(consequence: Node | None) -> bool:
    """The `if` body only leaves the iteration: `continue`, `return`, `{ continue; }`."""
    node = consequence
    if node is not None and node.type == "statement_block":
        statements = [child for child in node.named_children if child.type != "comment"]
        node = statements[0] if len(statements) == 1 else None
    return node is not None and node.type in ("continue_statement", "return_statement")
