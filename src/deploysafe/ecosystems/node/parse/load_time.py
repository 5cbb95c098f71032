"""What runs when a module loads although it is written inside a function, and which way a UMD wrapper's
environment test goes under Node.

Two shapes that bundlers and older packages use everywhere:

- An immediately invoked function: ``(function () { ... })()``, ``(() => { ... })()``,
  ``!function () { ... }()``, ``(function () { ... }).call(this)`` / ``.apply(...)``. Its body runs at load,
  like top-level code. So does a function handed to such a wrapper that the wrapper calls (a UMD
  ``factory``). An ``async`` one whose returned promise is handled (``(async () => {...})().catch(...)``)
  is not counted: a failure inside it does not stop the start.
- A call under a test that holds for the file Node was started with: ``if (require.main === module) main()``,
  ``if (import.meta.url === pathToFileURL(process.argv[1]).href) main()``. A service's entry is started so, so
  the function runs at start. A call under any other condition (``if (process.env.ROUTES) load()``) is not
  counted: what the function loads fails only when that condition holds, and is reported so.
- A UMD environment test: ``typeof exports === 'object' && typeof module !== 'undefined'`` (CommonJS),
  ``typeof define === 'function' && define.amd`` (AMD). Under Node's CommonJS loader ``exports``, ``module``
  and ``require`` exist and ``define`` does not, so the CommonJS branch is the one taken: what it requires
  loads at start, it is no feature test.
- A test of the platform: ``process.platform === 'win32'`` (any of ``===``, ``==``, ``!==``, ``!=``, either
  side), ``require('os').platform() !== 'linux'``. Deploys run on Linux (:data:`PLATFORM`), so such a test goes
  the way it goes there: what only Windows or macOS requires never loads, what Linux requires loads at start.
  A ``case`` of ``switch (process.platform)`` that Linux never enters (neither it nor a case falling into it
  names Linux or is ``default``) never runs either.
  ``process.arch`` stays unknown (a feature test, as ``typeof``); a platform test this does not read
  (``['win32', 'darwin'].includes(process.platform)``) is judged as any other condition.

Pure functions over tree-sitter nodes; nothing is read from disk.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from deploysafe.ecosystems.node.parse import conditions

__all__ = ["FUNCTIONS", "PLATFORM", "TopCalls", "platform_truth", "reads_platform", "runs_at_load", "umd_truth"]

PLATFORM = "linux"
"""``process.platform`` where a deployed service starts. Every target deploysafe deploys to is Linux: SSH hosts
under pm2 or systemd, container images, PaaS machines. This is the one place that says so."""

# Every node whose body is a function's: it runs when called, not where it is written.
FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)

_FUNCTION_VALUES = frozenset({"function_expression", "function", "arrow_function", "generator_function"})
_DECLARED = frozenset({"function_declaration", "generator_function_declaration"})
_INVOKERS = (b"call", b"apply")
_CHAIN = (b"then", b"catch", b"finally")
# `typeof NAME` under Node's CommonJS loader (a UMD wrapper tests exactly these).
_TYPEOF = {b"exports": "object", b"module": "object", b"require": "function", b"define": "undefined"}
# Plain values a UMD test reads after its typeof guard: truthy under CommonJS.
_TRUTHY = frozenset({b"exports", b"module", b"module.exports", b"require"})


def runs_at_load(function: Node, top: TopCalls | None = None) -> bool:
    """True when the body of *function* runs as soon as the code around it runs: it is invoked where it is
    written, it is the argument of such a function that calls it, or it is a top-level function (declared,
    or a `const`'s value) that a statement of the module calls (`main();`, `await main();`,
    `main().then(…)`); ``top`` holds those calls (read once per module)."""
    if function.type in _DECLARED or (function.type in _FUNCTION_VALUES and _declared_value(function)):
        return top is not None and top.runs(function)
    if function.type not in _FUNCTION_VALUES:
        return False
    outer = _unparenthesized_parent(function)
    call = _invoking_call(function, outer)
    if call is not None:
        return not (_has_async(function) and _promise_handled(call))
    return _called_by_wrapper(function, outer)


def _declared_value(function: Node) -> Node | None:
    """The `const NAME = <function>` declarator holding *function* at the top of the module."""
    declarator = function.parent
    declaration = declarator.parent if declarator is not None else None
    if declarator is None or declarator.type != "variable_declarator" or declaration is None:
        return None
    if declarator.child_by_field_name("value") != function or declaration.parent is None:
        return None
    return declarator if declaration.parent.type == "program" else None


class TopCalls:
    """The functions the module's top-level statements call, unconditionally, by name: whether each call's
    promise is handled (`main().catch(…)`). Read once per module; :meth:`runs` answers for a function."""

    def __init__(self, program: Node) -> None:
        self.handled: dict[bytes, bool] = {}
        for statement in _top_statements(program):
            expression = statement.named_children[0] if statement.type == "expression_statement" else None
            call = _top_call(expression)
            callee = call.child_by_field_name("function") if call is not None else None
            if call is not None and callee is not None and callee.type == "identifier" and callee.text:
                handled = _promise_handled(call)
                self.handled[callee.text] = self.handled.get(callee.text, True) and handled

    def runs(self, function: Node) -> bool:
        """A top-level function one of these statements calls; an async one only when the promise of that
        call is not handled (then a failure inside it stops the start)."""
        holder = _declared_value(function) or function
        name = holder.child_by_field_name("name")
        parent = holder.parent if holder.type in _DECLARED else holder.parent.parent if holder.parent else None
        if parent is not None and parent.type == "export_statement":
            parent = parent.parent
        if parent is None or parent.type != "program" or name is None or name.type != "identifier":
            return False
        handled = self.handled.get(name.text or b"")
        return handled is not None and not (handled and _has_async(function))


def _top_statements(program: Node) -> list[Node]:
    """The module's top-level statements, and those of an `if` that holds for the entry Node starts:
    `if (require.main === module) main()`, `if (import.meta.url === pathToFileURL(process.argv[1]).href)`.
    A service's entry is started that way, so what such an `if` calls runs at start."""
    found = []
    for statement in program.named_children:
        found.append(statement)
        condition = statement.child_by_field_name("condition") if statement.type == "if_statement" else None
        body = statement.child_by_field_name("consequence")
        if condition is None or body is None or not _is_main_test(condition):
            continue
        found += [child for child in body.named_children] if body.type == "statement_block" else [body]
    return found


# `require.main === module`, `import.meta.url === pathToFileURL(process.argv[1]).href` (either side first,
# `==` too), `process.argv[1] === fileURLToPath(import.meta.url)`, `import.meta.filename === process.argv[1]`.
_ARGV = b"process.argv[1]"
_MAIN_SIDES = (
    ({b"require.main"}, {b"module"}),
    ({b"import.meta.url"}, {b"pathToFileURL(process.argv[1]).href", b"url.pathToFileURL(process.argv[1]).href"}),
    ({_ARGV}, {b"fileURLToPath(import.meta.url)", b"url.fileURLToPath(import.meta.url)", b"import.meta.filename"}),
)


def _is_main_test(condition: Node) -> bool:
    """The condition holds when the file is the one Node was started with (see _MAIN_SIDES)."""
    node = condition
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    operator = node.child_by_field_name("operator") if node.type == "binary_expression" else None
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if operator is None or operator.type not in ("===", "==") or left is None or right is None:
        return False
    one, other = _compact(left), _compact(right)
    return any((one in a and other in b) or (one in b and other in a) for a, b in _MAIN_SIDES)


def _top_call(expression: Node | None) -> Node | None:
    """The call a statement makes through `await`, `void` and `.then/.catch/.finally` chains: `main()`."""
    node = expression
    while node is not None:
        if node.type in ("await_expression", "parenthesized_expression") or (
            node.type == "unary_expression" and node.child_by_field_name("operator") is not None
        ):
            node = node.named_children[0] if node.named_children else None
            continue
        if node.type != "call_expression":
            return None
        callee = node.child_by_field_name("function")
        if callee is not None and callee.type == "member_expression":
            prop = callee.child_by_field_name("property")
            inner = callee.child_by_field_name("object")
            if prop is not None and prop.text in _CHAIN and inner is not None and inner.type == "call_expression":
                node = inner
                continue
        return node
    return None


def umd_truth(condition: Node | None) -> bool | None:
    """The value of a UMD environment test under Node's CommonJS loader; None when the condition tests
    anything else (then it is an ordinary feature test)."""
    if condition is None or b"typeof" not in (condition.text or b""):
        return None  # every UMD test asks `typeof`; the cheap test spares long conditions the walk
    return conditions.truth(condition, _umd_leaf)


def _umd_leaf(node: Node) -> bool | None:
    if node.type in ("identifier", "member_expression"):
        return True if _compact(node) in _TRUTHY else None
    compared = conditions.compared_string(node)
    if compared is None:
        return None
    tested, value, equal = compared
    found = _typeof_value(tested)
    return None if found is None else (found == value) is equal


def platform_truth(condition: Node | None) -> bool | None:
    """The value of a test of ``process.platform`` on :data:`PLATFORM`; None when the condition tests
    anything else or does not depend on the platform alone."""
    if condition is None or b"platform" not in (condition.text or b""):
        return None  # the cheap test spares every other condition the walk
    return conditions.truth(condition, _platform_leaf)


_PLATFORM_READS = frozenset(
    {
        b"process.platform", b"process['platform']", b'process["platform"]',
        b"require('os').platform()", b'require("os").platform()',
        b"require('node:os').platform()", b'require("node:os").platform()',
    }
)  # fmt: skip


def reads_platform(node: Node) -> bool:
    """True when *node* (parentheses around it allowed) is ``process.platform`` or ``require('os').platform()``."""
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return _compact(node) in _PLATFORM_READS


def _platform_leaf(node: Node) -> bool | None:
    compared = conditions.compared_string(node)
    if compared is None or not reads_platform(compared[0]):
        return None
    return (compared[1] == PLATFORM) is compared[2]


def _typeof_value(node: Node) -> str | None:
    if node.type != "unary_expression":
        return None
    operator, argument = node.child_by_field_name("operator"), node.child_by_field_name("argument")
    if operator is None or operator.type != "typeof" or argument is None or argument.type != "identifier":
        return None
    return _TYPEOF.get(argument.text or b"")


def _compact(node: Node) -> bytes:
    return re.sub(rb"\s+", b"", node.text or b"")


def _unparenthesized_parent(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent.type == "parenthesized_expression":
        parent = parent.parent
    return parent


def _invoking_call(function: Node, outer: Node | None) -> Node | None:
    """The call that invokes *function* where it stands: `f()` or `f.call(...)`/`f.apply(...)`."""
    if outer is None:
        return None
    if outer.type == "call_expression" and _unparenthesized(outer.child_by_field_name("function")) == function:
        return outer
    if outer.type != "member_expression" or _unparenthesized(outer.child_by_field_name("object")) != function:
        return None
    prop = outer.child_by_field_name("property")
    call = outer.parent
    if prop is None or prop.text not in _INVOKERS or call is None or call.type != "call_expression":
        return None
    return call if call.child_by_field_name("function") == outer else None


def _called_by_wrapper(function: Node, outer: Node | None) -> bool:
    """*function* is an argument of an immediately invoked wrapper whose matching parameter it calls
    (`(function (root, factory) { ... factory(require('x')) ... })(this, function (x) { ... })`)."""
    if outer is None or outer.type != "arguments" or outer.parent is None or outer.parent.type != "call_expression":
        return False
    wrapper = _unparenthesized(outer.parent.child_by_field_name("function"))
    if wrapper is None or wrapper.type not in _FUNCTION_VALUES or not runs_at_load(wrapper, None):
        return False
    position = [child.id for child in outer.named_children if child.type != "comment"].index(_argument_id(function))
    parameters = wrapper.child_by_field_name("parameters")
    names = [child for child in parameters.named_children if child.type == "identifier"] if parameters else []
    body = wrapper.child_by_field_name("body")
    if position >= len(names) or body is None:
        return False
    name = re.escape(names[position].text or b"")
    return re.search(rb"(?<![\w$.])" + name + rb"\s*(\.\s*call\s*)?\(", body.text or b"") is not None


def _argument_id(function: Node) -> int:
    """The id of the argument node that holds *function* (itself, or the parentheses around it)."""
    node = function
    while node.parent is not None and node.parent.type == "parenthesized_expression":
        node = node.parent
    return node.id


def _unparenthesized(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    return node


def _has_async(function: Node) -> bool:
    return any(child.type == "async" for child in function.children)


def _promise_handled(call: Node) -> bool:
    """`call(...).catch(...)` or `.then(ok, fail)`: the promise the invocation returns is handled."""
    node = call
    while node.parent is not None and node.parent.type == "member_expression":
        member = node.parent
        prop = member.child_by_field_name("property")
        outer = member.parent
        if prop is None or outer is None or outer.type != "call_expression":
            return False
        arguments = outer.child_by_field_name("arguments")
        count = len([c for c in arguments.named_children if c.type != "comment"]) if arguments else 0
        if prop.text == b"catch" or (prop.text == b"then" and count >= 2):
            return True
        node = outer
    return False
