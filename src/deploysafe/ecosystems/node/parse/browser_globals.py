"""Code that runs at load and needs a browser: a read of a browser-only global (``window``, ``document``,
``navigator``, ...) or a ``throw`` under a test that only a browser passes.

Node defines none of these names, so a read of one that no enclosing scope declares throws
``ReferenceError: window is not defined`` when that code runs; Leaflet's UMD factory does so at load.
jQuery 4 instead receives ``this`` as its ``window`` and throws ``Error('jQuery requires a window with a
document')`` under ``if (!window.document)``. Both are reported as unverified, never as errors: whether
the process defines the name first (jsdom, ``global.window = ...`` in another file) is not known here.

What counts, and the guards that make a read safe (each errs towards silence):

- The code runs at load: top-level code, or a function :func:`load_time.runs_at_load` says runs then.
  Anything in another function, a method or an instance field runs later, if ever.
- It runs unconditionally: not in a branch of an ``if``/ternary, not right of ``&&``/``||``/``??``, not in a
  loop body, a ``switch`` case or a ``try`` body (a catch may handle it), not after an ``if`` that tests
  ``typeof`` and returns. ``typeof window`` itself reads nothing.
- The name is declared nowhere in the file (a parameter, variable, function, class, import, catch
  binding): scopes are not resolved, any declaration silences the name for the whole file.
- A ``throw`` counts under ``if (!X)`` where X names a browser global (``!window.document``), or under
  ``if (typeof X === 'undefined')``, with the ``if`` itself at load and unconditional.

Only the first such place of a file is reported: it is where the load stops. Pure functions over
tree-sitter nodes.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from deploysafe.ecosystems.node.parse import load_time

__all__ = ["BROWSER_GLOBALS", "first_browser_need"]

BROWSER_GLOBALS = (
    b"window",
    b"document",
    b"navigator",
    b"location",
    b"localStorage",
    b"sessionStorage",
    b"HTMLElement",
    b"Element",
    b"Node",
    b"self",
    b"requestAnimationFrame",
    b"getComputedStyle",
    b"XMLHttpRequest",
    b"customElements",
)
_NAMES = frozenset(BROWSER_GLOBALS)
_FUNCTIONS = load_time.FUNCTIONS | {"class_body"}  # a class body: its methods and fields run later
_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement", "switch_body"})
_SHORT_CIRCUIT = frozenset({"&&", "||", "??"})
_DECLARING = {
    "variable_declarator": "name",
    "function_declaration": "name",
    "function_expression": "name",
    "generator_function_declaration": "name",
    "class_declaration": "name",
    "class": "name",
    "arrow_function": "parameter",
    "assignment_pattern": "left",
    "object_assignment_pattern": "left",
    "pair_pattern": "value",
    "for_in_statement": "left",
    "catch_clause": "parameter",
}
_DECLARING_PARENTS = frozenset(
    {
        "formal_parameters",
        "required_parameter",
        "optional_parameter",
        "array_pattern",
        "rest_pattern",
        "import_specifier",
        "import_clause",
        "namespace_import",
        "ambient_declaration",
    }
)


def first_browser_need(source: bytes, root: Node, top: Callable[[], load_time.TopCalls | None]) -> tuple[int, int, str]:
    """(line, column, what) of the first place that needs a browser at load, or (0, 0, "") when none.
    *what* is "reads `window`" or "throws under `!window.document`"; *top* gives the module's top calls."""
    if not any(name in source for name in BROWSER_GLOBALS):
        return 0, 0, ""
    reads: list[Node] = []
    declared: set[bytes] = set()
    named_at = root.named_descendant_for_byte_range
    for word in BROWSER_GLOBALS:
        start = source.find(word)
        while start >= 0:
            node = named_at(start, start + len(word))
            if node is not None and node.start_byte == start and node.text == word:
                if node.type == "shorthand_property_identifier_pattern" or (
                    node.type == "identifier" and _declares(node)
                ):
                    declared.add(word)
                elif node.type == "identifier" and not _export_name(node):
                    reads.append(node)
            start = source.find(word, start + 1)
    candidates = [(node.start_byte, node, "read") for node in reads if node.text not in declared]
    candidates += [(node.start_byte, node, "throw") for node in _throws(source, root)]
    for _, node, kind in sorted(candidates, key=lambda item: item[0]):
        if kind == "read" and _is_typeof_operand(node):
            continue
        if kind == "throw":
            test = _browser_test(node, declared)
            if not test or not _unconditional_at_load(test[0], top):
                continue
            line, column = node.start_point
            return line + 1, column + 1, f"throws under `{test[1]}`"
        elif _unconditional_at_load(node, top):
            line, column = node.start_point
            return line + 1, column + 1, f"reads `{(node.text or b'').decode()}`"
    return 0, 0, ""


def _declares(identifier: Node) -> bool:
    parent = identifier.parent
    if parent is None:
        return False
    if parent.type in _DECLARING_PARENTS:
        return True
    if parent.type == "assignment_expression" and parent.child_by_field_name("left") == identifier:
        return True  # `window = ...` outside strict mode makes a global: later reads do not throw
    field_name = _DECLARING.get(parent.type)
    return field_name is not None and parent.child_by_field_name(field_name) == identifier


def _export_name(identifier: Node) -> bool:
    """A name in `export { a as navigator }`: it names a binding, it reads nothing when the code runs."""
    parent = identifier.parent
    return parent is not None and parent.type == "export_specifier"


def _is_typeof_operand(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in ("parenthesized_expression", "member_expression"):
        parent = parent.parent
    return parent is not None and parent.type == "unary_expression" and _operator(parent) == "typeof"


def _operator(node: Node) -> str:
    operator = node.child_by_field_name("operator")
    return (operator.text or b"").decode() if operator is not None else ""


def _unconditional_at_load(node: Node, top: Callable[[], load_time.TopCalls | None]) -> bool:
    """Whether *node* runs whenever the module loads: no function boundary that is not run at load, no
    branch, loop, try body or typeof-guarded return before it."""
    child, parent = node, node.parent
    while parent is not None:
        kind = parent.type
        if kind in _FUNCTIONS:
            if kind == "class_body" or not load_time.runs_at_load(parent, top()):
                return False
        elif _conditional(parent, child):
            return False
        if kind in ("statement_block", "program") and _guarded_before(parent, child):
            return False
        child, parent = parent, parent.parent
    return True


def _conditional(parent: Node, child: Node) -> bool:
    """Whether *child* runs only sometimes when *parent* runs: a branch, a loop body, right of a short
    circuit, a try body."""
    kind = parent.type
    if kind in _LOOPS or kind == "else_clause":
        return True
    if kind in ("if_statement", "ternary_expression"):
        return parent.child_by_field_name("condition") != child
    if kind == "binary_expression" and _operator(parent) in _SHORT_CIRCUIT:
        return parent.child_by_field_name("left") != child
    return kind == "statement_block" and parent.parent is not None and parent.parent.type == "try_statement"


def _guarded_before(body: Node, child: Node) -> bool:
    """An earlier statement of *body* is `if (... typeof ...) return/throw`: what follows may never run."""
    for statement in body.named_children:
        if statement.start_byte >= child.start_byte:
            return False
        if statement.type != "if_statement":
            continue
        condition = statement.child_by_field_name("condition")
        consequence = statement.child_by_field_name("consequence")
        if condition is None or consequence is None or b"typeof" not in (condition.text or b""):
            continue
        if any(word in (consequence.text or b"") for word in (b"return", b"throw")):
            return True
    return False


def _throws(source: bytes, root: Node) -> list[Node]:
    found: list[Node] = []
    start = source.find(b"throw")
    while start >= 0:
        token = root.descendant_for_byte_range(start, start + 5)
        statement = token.parent if token is not None else None
        if (
            token is not None
            and token.type == "throw"
            and statement is not None
            and statement.type == "throw_statement"
        ):
            found.append(statement)
        start = source.find(b"throw", start + 1)
    return found


def _browser_test(throw: Node, declared: set[bytes]) -> tuple[Node, str] | None:
    """The `if` whose consequence is this throw, and its condition's text, when that condition holds under
    Node because a browser global is missing: `!window.document`, `typeof document === 'undefined'`."""
    parent = throw.parent
    if parent is not None and parent.type == "statement_block" and len(parent.named_children) == 1:
        parent = parent.parent
    if parent is None or parent.type != "if_statement" or parent.child_by_field_name("consequence") is None:
        return None
    condition = parent.child_by_field_name("condition")
    test = _unparenthesized(condition)
    if test is None:
        return None
    if test.type == "unary_expression" and _operator(test) == "!":
        operand = _unparenthesized(test.child_by_field_name("argument"))
        if operand is not None and _names_browser_global(operand, declared):
            return parent, _short(test)
    if test.type == "binary_expression" and _operator(test) in ("===", "=="):
        sides = [_unparenthesized(test.child_by_field_name(side)) for side in ("left", "right")]
        texts = {(side.text or b"") for side in sides if side is not None}
        typeof = [side for side in sides if side is not None and side.type == "unary_expression"]
        if b"'undefined'" in texts or b'"undefined"' in texts:
            for side in typeof:
                argument = side.child_by_field_name("argument")
                if _operator(side) == "typeof" and argument is not None and argument.text in _NAMES:
                    return parent, _short(test)
    return None


def _names_browser_global(node: Node, declared: set[bytes]) -> bool:
    """`window`, `document` (undeclared), or a member `x.document` / `window.navigator`."""
    if node.type == "identifier":
        return node.text in _NAMES and node.text not in declared
    if node.type == "member_expression":
        name = node.child_by_field_name("property")
        return name is not None and name.text in _NAMES
    return False


def _unparenthesized(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def _short(node: Node) -> str:
    text = " ".join((node.text or b"").decode(errors="replace").split())
    return text if len(text) <= 60 else text[:57] + "..."
