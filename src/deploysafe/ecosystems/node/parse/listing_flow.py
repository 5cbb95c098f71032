"""Which computed loads of a file use the entries of a folder listing, and which file names pass on the way.

``for (const name of readdirSync(dir)) { if (!name.endsWith('.js')) continue; await import(join(dir, name)) }``
loads what the listing returns; an ``import(process.env.PLUGIN)`` beside it does not. A listing is tied to a
computed ``import()``/``require()`` only through names that carry its entries: the loop variable of a
``for … of`` over it, a ``const`` it is assigned to (``await`` and parentheses allowed), the first parameter of
a callback of ``.filter``/``.map``/``.forEach``/``.then``… called on it, and any ``const`` whose value is built
from such a name (``path.join(dir, name)``, a template, a ``+``). The computed load is tied when its argument
names one of them.

File-name filters on those names are read as globs where they are plain (``x.endsWith('.js')``,
``x.startsWith('_')``, ``/[.]js$/.test(x)``, ``x.match(/re/)``, ``x === 'index.js'``, ``x.slice(-3) === '.js'``,
``~x.indexOf('.js')``, ``x.indexOf('index') === -1``, ``path.extname(x) === '.js'``, ``['.js', '.cjs'].includes(path.extname(x))``; a
Dirent's ``x.name`` too) in a ``.filter`` callback, in an ``if`` around the load, or in an
``if (…) continue``/``return`` guard, with ``!``, ``&&`` and ``a && (b || c)`` read as Node would. Any other
test of a name there (a function call, ``!(a && b)``, a regular expression Python would read differently) is
returned as ``unread``: which files load is then not known, and the load is unverified, naming it. A listing
nothing ties is no folder load.

Pure functions over tree-sitter nodes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
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
    """The computed-load argument nodes a listing's entries reach, and which file names its filters keep:
    ``groups`` of globs (a name must match one glob of every group; a glob ``re:PATTERN/FLAGS`` is a regular
    expression), ``exclude`` globs (a name matching one is dropped), and ``unread``: the source of a filter on
    the names that could not be read (then which files load is not known)."""

    loads: tuple[Node, ...]
    groups: tuple[tuple[str, ...], ...]
    exclude: tuple[str, ...]
    unread: str = ""

    @property
    def names(self) -> str:
        """The filters as one string: groups joined by ``&``, a group's globs by ``|``, exclusions as ``!glob``
        beside the first group (``*.js|!*.test.js``)."""
        parts = [list(group) for group in self.groups] or [[]]
        parts[0] += [f"!{glob}" for glob in self.exclude]
        return "&".join("|".join(part) for part in parts if part)


def flow_of(listing: Node, computed: list[Node], root: Node) -> Flow:
    """How ``listing`` (a readdir call) reaches ``computed`` (argument nodes of computed loads)."""
    names = _carriers(listing, root)
    tied = tuple(argument for argument in computed if _names_one(argument, names))
    groups: dict[int, list[str]] = {}
    exclude: list[str] = []
    unread = ""
    if tied:
        for usage in sorted(_usages(root, names), key=lambda node: node.start_byte):
            try:
                for test, globs, keeps in _filters(usage):
                    if keeps:
                        groups.setdefault(test, []).extend(globs)
                    else:
                        exclude.extend(globs)
            except _Unread as error:
                unread = unread or error.text
        unread = unread or _filter_by_reference(listing, root, names)
    kept = tuple(tuple(dict.fromkeys(group)) for group in groups.values())
    return Flow(tied, tuple(dict.fromkeys(kept)), tuple(dict.fromkeys(exclude)), unread)


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


def _filter_by_reference(listing: Node, root: Node, names: set[bytes]) -> str:
    """The source of a ``.filter(isRoute)`` (a function named, not written) on the listing or on a name that
    carries its entries: it decides which names load and cannot be read here."""
    holders = [listing, *_usages(root, names)]
    for holder in holders:
        node = holder
        while node.parent is not None and node.parent.type in ("member_expression", "call_expression"):
            member = node.parent
            call = member.parent if member.type == "member_expression" else None
            prop = member.child_by_field_name("property") if member.type == "member_expression" else None
            if call is not None and call.type == "call_expression" and prop is not None and prop.text == b"filter":
                argument = _only_argument(call)
                if argument is not None and argument.type not in _FUNCTIONS:
                    return _Unread(call).text
            node = member
    return ""


class _Unread(Exception):
    """A filter on the names that cannot be read; ``text`` is its source."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        text = " ".join((node.text or b"").decode("utf-8", "replace").split())
        self.text = text if len(text) <= 80 else text[:79] + "\u2026"


def _filters(usage: Node) -> Iterator[tuple[int, tuple[str, ...], bool]]:
    """(the test's id, the globs it names, whether names matching one are kept) for a test of the name at
    ``usage`` that decides whether the name loads; raises _Unread for a test that decides it but cannot be
    read (a function call, a mixed ``&&``/``||``, ``a && b`` as a skip guard)."""
    read = _name_test(usage)
    test, globs = read if read is not None else (_condition_of(usage), None)
    if test is None:
        return
    negated, conjunct = read is not None and read[1] is not None and _negates(test), False
    group = test  # a test's globs, or those of the tests of one `a || b`, are one group: a name matches one
    node = test
    while node.parent is not None:
        parent = node.parent
        if parent.type == "parenthesized_expression":
            pass
        elif parent.type == "unary_expression" and _operator(parent) == "!":
            if conjunct:
                raise _Unread(_outermost_condition(parent))  # `!(a && b)`: no set of names the globs can say
            negated = not negated
        elif parent.type == "binary_expression" and _operator(parent) == "||":
            if conjunct or negated:  # `(a && b) || c`, `!a || b`
                raise _Unread(_outermost_condition(parent))
            group = parent
        elif parent.type == "binary_expression" and _operator(parent) == "&&":
            conjunct = True  # `a && (b || c)`: every group must hold
        else:
            break
        node = parent
    holder = node.parent
    if holder is None:
        return
    deciding = holder.type == "if_statement" and holder.child_by_field_name("condition") == node
    deciding = deciding or (holder.type in _FUNCTIONS and _is_filter_callback(holder))
    deciding = deciding or (holder.type == "return_statement" and _in_filter_callback(holder))
    if not deciding:
        return
    if globs is None:
        raise _Unread(node)
    if holder.type == "if_statement":
        skips = _skips(holder.child_by_field_name("consequence"))
        if skips and conjunct:  # `if (a && b) continue` drops a name only where both hold
            raise _Unread(node)
        yield group.id, globs, negated == skips
    else:
        yield group.id, globs, not negated


def _operator(node: Node) -> str:
    operator = node.child_by_field_name("operator")
    return operator.type if operator is not None else ""


def _outermost_condition(node: Node) -> Node:
    while node.parent is not None and node.parent.type in ("binary_expression", "parenthesized_expression"):
        node = node.parent
    return node


def _is_filter_callback(function: Node) -> bool:
    """``.filter((f) => …)``, ``.some``/``.every``/``.find``: the callback's result decides a name."""
    arguments = function.parent
    call = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    callee = call.child_by_field_name("function") if call is not None else None
    if callee is None or callee.type != "member_expression":
        return False
    prop = callee.child_by_field_name("property")
    return prop is not None and prop.text in (b"filter", b"find", b"some", b"every")


def _in_filter_callback(statement: Node) -> bool:
    node = statement.parent
    while node is not None and node.type not in _FUNCTIONS:
        node = node.parent
    return node is not None and _is_filter_callback(node)


def _condition_of(usage: Node) -> Node | None:
    """The smallest expression around ``usage`` that is a test on it (a call, a comparison), when the name
    is not read otherwise: it may decide which names load (see _filters)."""
    node = usage
    while node.parent is not None and node.parent.type in ("member_expression", "arguments", "call_expression"):
        node = node.parent
    if node.parent is not None and node.parent.type == "binary_expression" and _operator(node.parent) not in ("+",):
        node = node.parent
    return node if node is not usage else None


def _negates(test: Node) -> bool:
    """A comparison read as a name test with ``!==``/``!=`` (or an ``indexOf`` found ``=== -1``): names
    matching are the ones it rejects."""
    found = _index_found(test)
    if found is not None:
        return not found
    return test.type == "binary_expression" and _operator(test) in ("!==", "!=")


# `x.indexOf(s) OP N` that says s was found (True) or not (False), OP and N on the right.
_INDEX_TESTS = {
    ("!==", "-1"): True, ("!=", "-1"): True, (">", "-1"): True, (">=", "0"): True,
    ("===", "-1"): False, ("==", "-1"): False, ("<", "0"): False,
}  # fmt: skip


def _index_found(comparison: Node | None) -> bool | None:
    """Whether ``x.indexOf('s') !== -1`` (and the like, :data:`_INDEX_TESTS`) holds when ``s`` is found;
    None when ``comparison`` is not such a test."""
    if comparison is None or comparison.type != "binary_expression":
        return None
    left, right = comparison.child_by_field_name("left"), comparison.child_by_field_name("right")
    if left is None or right is None or left.type != "call_expression":
        return None
    callee = left.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None and callee.type == "member_expression" else None
    if prop is None or prop.text != b"indexOf":
        return None
    return _INDEX_TESTS.get((_operator(comparison), re.sub(r"\s+", "", (right.text or b"").decode())))


def _name_test(usage: Node) -> tuple[Node, tuple[str, ...] | None] | None:
    """(the test expression, the globs of the names it holds for) for a test of the name at ``usage``;
    None when ``usage`` is not such a test. A ``!==`` comparison returns the globs of ``===`` (see _negates).
    Read: ``x.endsWith('.js')``, ``x.startsWith('_')``, ``x.includes('.')``, ``~x.indexOf('.js')``,
    ``x.match(/re/)``, ``/re/.test(x)``, ``x === 'index.js'``, ``x.slice(-3) === '.js'`` (also ``substr``),
    ``path.extname(x) === '.js'``, ``['.js', '.cjs'].includes(path.extname(x))``; ``x.name`` of a
    ``Dirent`` stands for ``x``."""
    node = usage
    parent = node.parent
    if parent is not None and parent.type == "member_expression" and parent.child_by_field_name("object") == node:
        prop = parent.child_by_field_name("property")
        if prop is not None and prop.text == b"name" and _method_of(parent) is None:
            node, parent = parent, parent.parent  # a Dirent's name
    method = _method_of(node)
    if method is not None:
        name, call = method
        value = _only_argument(call)
        if name == b"match" and value is not None and value.type == "regex":
            return call, _regex_globs(value)
        text = string_value(value) if value is not None and value.type == "string" else None
        if text is not None and name in (b"endsWith", b"startsWith", b"includes", b"indexOf"):
            glob = {b"endsWith": "*{}", b"startsWith": "{}*", b"includes": "*{}*", b"indexOf": "*{}*"}[name]
            if name == b"indexOf":
                around = call.parent
                if around is not None and around.type == "unary_expression" and _operator(around) == "~":
                    return around, (glob.format(_escaped(text)),)
                if around is None or _index_found(around) is None:
                    return None
                return around, (glob.format(_escaped(text)),)
            return call, (glob.format(_escaped(text)),)
        if name in (b"slice", b"substr", b"substring"):
            return _compared(call, lambda suffix: "*" + _escaped(suffix))
        return None
    if parent is not None and parent.type == "arguments":
        outer = parent.parent
        callee = outer.child_by_field_name("function") if outer is not None else None
        if outer is None or callee is None:
            return None
        call = outer
        if callee.type == "member_expression":
            owner, prop = callee.child_by_field_name("object"), callee.child_by_field_name("property")
            if prop is not None and prop.text == b"test" and owner is not None and owner.type == "regex":
                return call, _regex_globs(owner)
        if (callee.text or b"").endswith(b"extname"):
            listed = _listed_in(call)
            if listed is not None:
                return listed
            return _compared(call, lambda suffix: "*" + _escaped(suffix))
        return None
    if parent is not None and parent.type == "binary_expression":
        return _compared(node, _escaped)
    return None


def _method_of(node: Node) -> tuple[bytes, Node] | None:
    """(the method, the call) for ``node.method(...)``."""
    member = node.parent
    if member is None or member.type != "member_expression" or member.child_by_field_name("object") != node:
        return None
    prop, call = member.child_by_field_name("property"), member.parent
    if prop is None or call is None or call.type != "call_expression":
        return None
    return prop.text or b"", call


def _compared(node: Node, glob: Callable[[str], str]) -> tuple[Node, tuple[str, ...] | None] | None:
    """``node === 'text'`` (either side, ``==``, ``!==``, ``!=``): the glob of the text."""
    comparison = node.parent
    if comparison is None or comparison.type != "binary_expression":
        return None
    if _operator(comparison) not in ("===", "==", "!==", "!="):
        return None
    left = comparison.child_by_field_name("left")
    other = comparison.child_by_field_name("right" if left == node else "left")
    text = string_value(other) if other is not None and other.type == "string" else None
    return comparison, ((glob(text),) if text is not None else None)


def _listed_in(call: Node) -> tuple[Node, tuple[str, ...]] | None:
    """``['.js', '.cjs'].includes(path.extname(x))``."""
    arguments = call.parent
    outer = arguments.parent if arguments is not None and arguments.type == "arguments" else None
    callee = outer.child_by_field_name("function") if outer is not None else None
    if outer is None or callee is None or callee.type != "member_expression":
        return None
    owner, prop = callee.child_by_field_name("object"), callee.child_by_field_name("property")
    if prop is None or prop.text != b"includes" or owner is None or owner.type != "array":
        return None
    values = [string_value(item) if item.type == "string" else None for item in owner.named_children]
    if not values or any(value is None for value in values):
        return None
    return outer, tuple("*" + _escaped(value) for value in values if value is not None)


def _regex_globs(regex: Node) -> tuple[str, ...] | None:
    """(``re:PATTERN/FLAGS``,) with ``%``, ``|`` and ``&`` percent-encoded (they separate globs); None for a
    pattern Python's ``re`` would not read as JavaScript does (it does not compile, or flags beyond ``i``)."""
    pattern = regex.child_by_field_name("pattern")
    flags = regex.child_by_field_name("flags")
    text = (pattern.text or b"").decode("utf-8", "replace") if pattern else ""
    flag_text = (flags.text or b"").decode() if flags else ""
    try:
        re.compile(text)
    except re.error:
        return None
    if set(flag_text) - set("i") or "(?<" in text.replace("(?<=", "").replace("(?<!", ""):
        return None
    encoded = text.replace("%", "%25").replace("|", "%7C").replace("&", "%26")
    return (f"re:{encoded}/{flag_text}",)


def _escaped(text: str) -> str:
    """A literal name part as a glob (fnmatch's ``*?[`` taken literally)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _only_argument(call: Node) -> Node | None:
    arguments = call.child_by_field_name("arguments")
    values = [c for c in arguments.named_children if c.type != "comment"] if arguments is not None else []
    return values[0] if len(values) == 1 else None


def _skips(consequence: Node | None) -> bool:
    """The `if` body only leaves the iteration: `continue`, `return`, `{ continue; }`."""
    node = consequence
    if node is not None and node.type == "statement_block":
        statements = [child for child in node.named_children if child.type != "comment"]
        node = statements[0] if len(statements) == 1 else None
    return node is not None and node.type in ("continue_statement", "return_statement")
