"""The value of a condition where part of the environment is known: three-valued (True, False, None for
"depends on what is not known"), through parentheses, ``!``, ``&&`` and ``||`` as JavaScript reads them.
The caller says what each leaf is worth (``NODE_ENV`` in production, a UMD wrapper's ``typeof exports``)."""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from deploysafe.ecosystems.node.parse.commonjs import string_value

__all__ = ["compared_string", "truth"]

Leaf = Callable[[Node], "bool | None"]
_COMPARISONS = frozenset({"===", "==", "!==", "!="})
MAX_DEPTH = 64


def truth(node: Node | None, leaf: Leaf, depth: int = 0) -> bool | None:
    """The value of *node* with *leaf* for everything that is not parentheses, ``!``, ``&&`` or ``||``.
    ``a && b`` is false when either is, ``a || b`` true when either is (whatever the other). Past
    :data:`MAX_DEPTH` nested operators (minified code) the value is unknown."""
    if node is None or depth > MAX_DEPTH:
        return None
    kind = node.type
    if kind == "parenthesized_expression" and node.named_child_count == 1:
        return truth(node.named_children[0], leaf, depth + 1)
    if kind == "unary_expression":
        operator = node.child_by_field_name("operator")
        if operator is None or operator.type != "!":
            return None
        inner = truth(node.child_by_field_name("argument"), leaf, depth + 1)
        return None if inner is None else not inner
    operator = node.child_by_field_name("operator") if kind == "binary_expression" else None
    if operator is not None and operator.type in ("&&", "||"):
        a = truth(node.child_by_field_name("left"), leaf, depth + 1)
        b = truth(node.child_by_field_name("right"), leaf, depth + 1)
        if operator.type == "&&":
            return False if False in (a, b) else (True if a is True and b is True else None)
        return True if True in (a, b) else (False if a is False and b is False else None)
    return leaf(node)


def compared_string(node: Node) -> tuple[Node, str, bool] | None:
    """For ``X === 'v'`` (either side, any of ``===``, ``==``, ``!==``, ``!=``): (X, 'v', whether the test
    asks for equality); None for anything else."""
    operator = node.child_by_field_name("operator") if node.type == "binary_expression" else None
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if operator is None or operator.type not in _COMPARISONS or left is None or right is None:
        return None
    other, literal = (
        (left, right) if right.type == "string" else (right, left) if left.type == "string" else (None, None)
    )
    value = string_value(literal) if literal is not None else None
    if other is None or value is None:
        return None
    return other, value, operator.type in ("===", "==")
