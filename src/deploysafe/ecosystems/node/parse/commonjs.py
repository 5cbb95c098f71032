"""The named exports Node's cjs-module-lexer finds in a file, computed on the tree-sitter tree.

When an ES module imports a CommonJS file, Node 20 decides which names it may take by running
cjs-module-lexer over the source: a token matcher with no scope analysis whose patterns are frozen on
purpose. Node's behaviour is those patterns, quirks included, so this module reproduces them on the
syntax tree (the library's README, "Grammar" and "Parsing Examples", is the specification):

- ``exports.a =``, ``exports['a'] =``, ``module.exports.a =`` anywhere, even in dead code, and also
  before ``==``: the lexer only looks for an ``=`` after the name;
- ``Object.defineProperty(exports, 'a', {...})`` in the value and getter forms it accepts; any other
  form for a name withdraws that name altogether (its "unsafe getter" rule);
- ``module.exports = { a, b: c, 'd': e, ...require('x') }`` up to the first property it cannot read;
- ``module.exports = require('x')`` (every ``module.exports =`` forgets earlier re-exports), top-level
  ``__export(require('x'))`` / ``__exportStar(require('x'), exports)``, and Babel's
  ``var _x = require('x'); Object.keys(_x).forEach(function (key) {...})``.

Strict reserved words are *not* filtered: the README's grammar says they are, but the library (1.x and
2.x, JS and Wasm builds) and Node report ``exports.static`` as ``static``, and Node is the ground truth.

The lexer throws on top-level ``import``/``export`` statements and top-level ``import.meta``; Node then
exposes no named exports. Callers pass ``lexer_throws`` for that case.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum, auto

from tree_sitter import Node

from deploysafe.ecosystems.node.parse.facts import CommonJsFacts

IDENTIFIERS = (b"exports", b"module", b"Object", b"require", b"__export", b"__exportStar", b"_interopRequireWildcard")
"""Identifier texts the caller's query must capture (as ``identifier`` nodes) for :func:`commonjs_facts`."""

MEMBERS = (b"__export", b"__exportStar")
"""Property names the caller's query must capture (as ``property_identifier`` nodes): ``tslib.__exportStar``."""

# The lexer's identifier: it may start with a backslash (kept raw) but gives up at one further in.
_IDENTIFIER = re.compile(rb"(?:[A-Za-z_$\\]|[\x80-\xff])(?:[\w$]|[\x80-\xff])*+(?!\\)")
_TRIVIA = re.compile(rb"(?:\s|\xc2\xa0|//[^\n\r]*|/\*.*?\*/)*", re.DOTALL)
# `var _x = require(`: the lexer backtracks over plain spaces only, then wants var/let/const.
_STAR_BINDING = re.compile(rb"(?:var|let|const) +((?:[A-Za-z_$]|[\x80-\xff])(?:[\w$]|[\x80-\xff])*) *= *\Z")
_BINDING_WINDOW = 256
_MAX_STAR_BINDINGS = 255  # the Wasm lexer's fixed table; later bindings are dropped
# Node types whose brackets raise the lexer's nesting depth; `[` is not tracked by the lexer.
_BRACKETED = frozenset(
    {
        "statement_block",
        "class_body",
        "object",
        "object_pattern",
        "parenthesized_expression",
        "arguments",
        "formal_parameters",
        "switch_body",
        "template_substitution",
        "named_imports",
        "export_clause",
        "jsx_expression",
        "enum_body",
        "interface_body",
    }
)
_FOR_HEADERS = frozenset({"for_statement", "for_in_statement"})
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-3][0-7]{0,2}|[4-7][0-7]?|\r\n|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
_LINE_CONTINUATIONS = frozenset({"\n", "\r", "\r\n", "\u2028", "\u2029"})


def string_value(node: Node) -> str | None:
    """The value of a quoted string literal node, or None when it holds a lone surrogate or a bad escape.

    This is the lexer's own decoding (it drops such names), and what Node reads from a specifier.
    """
    raw = (node.text or b"").decode("utf-8", "replace")
    if not raw:
        return None
    body = raw[1:-1] if len(raw) > 1 and raw[-1] == raw[0] else raw[1:]
    return cooked(body)


def cooked(body: str) -> str | None:
    """Apply JavaScript string escapes (including legacy octal ones) to the text between the quotes."""
    if "\\" not in body:
        return body
    try:
        text = _ESCAPE.sub(_unescape, body)
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except (ValueError, UnicodeError):
        return None


def _unescape(match: re.Match[str]) -> str:
    escape = match.group(1)
    head = escape[0]
    if escape in _LINE_CONTINUATIONS:
        return ""
    if head == "u" and len(escape) > 1:
        digits = escape[2:-1] if escape[1] == "{" else escape[1:]
        return _code_units(int(digits, 16))
    if head == "x" and len(escape) == 3:
        return chr(int(escape[1:], 16))
    if head in "ux":
        raise ValueError("malformed escape")
    if head.isdigit() and head not in "89":
        return chr(int(escape, 8))
    return _SIMPLE_ESCAPES.get(escape, escape)


def _code_units(code_point: int) -> str:
    if code_point > 0x10FFFF:
        raise ValueError("code point out of range")
    if code_point > 0xFFFF:
        code_point -= 0x10000
        return chr(0xD800 + (code_point >> 10)) + chr(0xDC00 + (code_point & 0x3FF))
    return chr(code_point)


def at_top_depth(node: Node) -> bool:
    """True when no `(` or `{` the lexer counts encloses *node* (its "openTokenDepth === 0")."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in _BRACKETED:
            return False
        if parent.type in _FOR_HEADERS and parent.child_by_field_name("body") != child:
            return False
        child, parent = parent, parent.parent
    return True


class _Event(Enum):
    CLEAR = auto()  # `module.exports =`: forget every re-export seen so far
    ADD = auto()  # a re-export specifier
    BIND = auto()  # top-level `var _x = require('x')`
    STAR = auto()  # Babel's `Object.keys(_x).forEach(...)` star re-export of a binding


@dataclass
class _Scan:
    source: bytes
    exports: dict[str, None] = field(default_factory=dict)
    unsafe: set[str] = field(default_factory=set)
    events: list[tuple[int, _Event, str, str]] = field(default_factory=list)

    def export(self, name: str | None) -> None:
        if name is not None:
            self.exports[name] = None

    def event(self, node: Node, kind: _Event, name: str = "", specifier: str = "") -> None:
        self.events.append((node.start_byte, kind, name, specifier))

    def next_byte(self, position: int) -> bytes:
        """The first byte at or after *position* that is not whitespace or a comment."""
        at = skip_trivia(self.source, position)
        return self.source[at : at + 1]

    def word_at(self, position: int) -> re.Match[bytes] | None:
        return _IDENTIFIER.match(self.source, position)

    def facts(self) -> CommonJsFacts:
        bindings: dict[str, str] = {}
        reexports: dict[str, None] = {}
        binds = 0
        for _, kind, name, specifier in sorted(self.events, key=lambda event: event[0]):
            if kind is _Event.CLEAR:
                reexports.clear()
            elif kind is _Event.ADD:
                reexports[specifier] = None
            elif kind is _Event.BIND:
                binds += 1
                if binds <= _MAX_STAR_BINDINGS:
                    bindings.setdefault(name, specifier)  # the Wasm build looks bindings up first-first
            elif name in bindings:
                reexports[bindings[name]] = None
        names = frozenset(name for name in self.exports if name not in self.unsafe)
        return CommonJsFacts(exports=names, reexports=tuple(reexports))


def commonjs_facts(
    identifiers: Iterable[Node], members: Iterable[Node], source: bytes, *, lexer_throws: bool
) -> CommonJsFacts:
    """What cjs-module-lexer reports for *source*, from the captured IDENTIFIERS and MEMBERS nodes."""
    if lexer_throws:
        return CommonJsFacts()
    scan = _Scan(source)
    for node in identifiers:
        _IDENTIFIER_HANDLERS[node.text or b""](scan, node)
    for node in members:
        _export_star(scan, node)
    return scan.facts()


# --- exports.a = / exports['a'] = / module.exports ... -------------------------------------------------


def _exports_identifier(scan: _Scan, node: Node) -> None:
    _member_assignment(scan, node)


def _module_identifier(scan: _Scan, node: Node) -> None:
    module_exports = node.parent
    if module_exports is None or not _is_plain_member(module_exports, node, b"exports"):
        return
    if _member_assignment(scan, module_exports):
        return
    if scan.next_byte(module_exports.end_byte) != b"=":
        return
    scan.event(module_exports, _Event.CLEAR)
    assignment = module_exports.parent
    if assignment is None or assignment.type != "assignment_expression":
        return
    if assignment.child_by_field_name("left") != module_exports:
        return
    value = assignment.child_by_field_name("right")
    if value is None:
        return
    literal = next((part for part in _leftmost(value) if part.type == "object"), None)
    if literal is not None:  # `module.exports = {...}`, also `{...}['key']`: the lexer sees the `{`
        _literal_exports(scan, literal)
        return
    required = _leading_require(value)
    if required is not None:
        scan.event(required[0], _Event.ADD, specifier=required[1])


def _member_assignment(scan: _Scan, target: Node) -> bool:
    """`<target>.a =` or `<target>['a'] =`: record `a`. True when *target* is the object of a member."""
    member = target.parent
    if member is None or member.child_by_field_name("object") != target or _optional(member):
        return False
    if member.type == "member_expression":
        name = member.child_by_field_name("property")
        word = scan.word_at(name.start_byte) if name is not None and name.type == "property_identifier" else None
        whole_name = name is not None and word is not None and word.end() == name.end_byte
        if whole_name and word is not None and scan.next_byte(member.end_byte) == b"=":
            scan.export(word.group().decode("utf-8", "replace"))
        return True
    if member.type == "subscript_expression":
        index = member.child_by_field_name("index")
        if index is not None and _is_quoted(index) and scan.next_byte(member.end_byte) == b"=":
            scan.export(string_value(index))
        return True
    return False


def _literal_exports(scan: _Scan, literal: Node) -> None:
    """`module.exports = {...}`: read properties the way the lexer does, stopping where it gives up."""
    for prop in literal.named_children:
        if prop.type != "comment" and not _literal_property(scan, prop):
            return


def _literal_property(scan: _Scan, prop: Node) -> bool:
    """Record what the lexer reads from one property; False where it stops reading the object."""
    start = prop.start_byte
    if scan.source.startswith(b"...", start):
        return _literal_spread(scan, prop)
    word = scan.word_at(start)
    if word is not None:
        return _literal_named(scan, word.group().decode("utf-8", "replace"), word.end())
    key = prop.child_by_field_name("key")
    if prop.type == "pair" and key is not None and _is_quoted(key) and key.start_byte == start:
        return _literal_named(scan, string_value(key), key.end_byte, shorthand_allowed=False)
    return False


def _literal_named(scan: _Scan, name: str | None, after_key: int, *, shorthand_allowed: bool = True) -> bool:
    position = skip_trivia(scan.source, after_key)
    if scan.source[position : position + 1] == b":":
        value = scan.word_at(skip_trivia(scan.source, position + 1))
        if value is None:
            return False
        scan.export(name)
        # The lexer reads the byte right after the value's identifier, without skipping whitespace.
        return scan.source[value.end() : value.end() + 1] in (b",", b"}")
    if shorthand_allowed:
        scan.export(name)
    return scan.source[position : position + 1] in (b",", b"}")


def _literal_spread(scan: _Scan, prop: Node) -> bool:
    argument_start = prop.start_byte + 3
    argument = next((child for child in prop.named_children if child.type != "comment"), None)
    required = _leading_require(argument) if argument is not None else None
    if required is not None and required[0].start_byte == argument_start:
        scan.event(required[0], _Event.ADD, specifier=required[1])
        end = required[0].end_byte
    else:
        word = scan.word_at(argument_start)
        if word is None:
            return False
        end = word.end()
    return scan.next_byte(end) in (b",", b"}")


# --- require bindings and TypeScript/tslib star re-exports ----------------------------------------------


def _require_identifier(scan: _Scan, node: Node) -> None:
    call = node.parent
    if call is None or call.type != "call_expression" or call.child_by_field_name("function") != node:
        return
    specifier = _require_specifier(call)
    name = _binding_before(scan.source, call.start_byte) if specifier is not None else None
    if name is not None and at_top_depth(call):
        scan.event(call, _Event.BIND, name=name, specifier=specifier or "")


def _interop_identifier(scan: _Scan, node: Node) -> None:
    """Babel's `var _x = _interopRequireWildcard(require('x'))` binds `_x` like a plain require."""
    call = node.parent
    if call is None or call.type != "call_expression" or call.child_by_field_name("function") != node:
        return
    inner = _first_argument(call)
    if _arguments_start(call) != node.end_byte or inner is None or inner.start_byte != node.end_byte + 1:
        return
    required = _leading_require(inner)
    name = _binding_before(scan.source, node.start_byte) if required is not None else None
    if required is not None and name is not None and at_top_depth(node):
        scan.event(node, _Event.BIND, name=name, specifier=required[1])


def _binding_before(source: bytes, position: int) -> str | None:
    """NAME when `var|let|const NAME = ` (plain spaces only, as the lexer backtracks) ends at *position*."""
    match = _STAR_BINDING.search(source, max(0, position - _BINDING_WINDOW), position)
    return match.group(1).decode("utf-8", "replace") if match is not None else None


def _export_star(scan: _Scan, node: Node) -> None:
    """Top-level `__export(require('x'))`, `__exportStar(require('x'), exports)`, `tslib.__exportStar(...)`."""
    callee = node if node.type == "identifier" else node.parent
    if callee is None or (callee is not node and callee.child_by_field_name("property") != node):
        return
    call = callee.parent
    if call is None or call.type != "call_expression" or call.child_by_field_name("function") != callee:
        return
    if _arguments_start(call) != node.end_byte:
        return
    argument = _first_argument(call)
    if argument is None or argument.start_byte != node.end_byte + 1:
        return
    required = _leading_require(argument)
    if required is not None and required[0].start_byte == argument.start_byte and at_top_depth(node):
        scan.event(required[0], _Event.ADD, specifier=required[1])


def _leading_require(node: Node) -> tuple[Node, str] | None:
    """The `require('x')` call an expression starts with (`require('x').y`, `require('x')(z)`, ...)."""
    for current in _leftmost(node):
        specifier = _require_specifier(current) if current.type == "call_expression" else None
        if specifier is not None:
            return current, specifier
    return None


def _leftmost(node: Node) -> Iterator[Node]:
    """*node* and its first descendants that start where it starts: what a token reader sees first."""
    current: Node | None = node
    while current is not None and current.start_byte == node.start_byte:
        yield current
        current = _first_child(current)


def _require_specifier(call: Node) -> str | None:
    """`require('x')` with exactly one quoted string argument: its value."""
    function = call.child_by_field_name("function")
    if function is None or function.type != "identifier" or function.text != b"require":
        return None
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return None
    tokens = [child for child in arguments.children if child.type != "comment"]
    if len(tokens) != 3 or not _is_quoted(tokens[1]):
        return None
    return string_value(tokens[1])


# --- Object.defineProperty / Object.keys ----------------------------------------------------------------


def _object_identifier(scan: _Scan, node: Node) -> None:
    member = node.parent
    if member is None or member.type != "member_expression" or _optional(member):
        return
    if member.child_by_field_name("object") != node:
        return
    call = member.parent
    if call is None or call.type != "call_expression" or call.child_by_field_name("function") != member:
        return
    method = member.child_by_field_name("property")
    name = method.text if method is not None else b""
    if name == b"defineProperty":
        _define_property(scan, call)
    elif name == b"keys" and at_top_depth(node):
        _star_reexport(scan, call)


def _define_property(scan: _Scan, call: Node) -> None:
    tokens = _argument_tokens(call)
    if len(tokens) < 4 or not _is_exports_reference(tokens[1]) or tokens[2].type != ",":
        return
    if not _is_quoted(tokens[3]):
        return
    name = string_value(tokens[3])
    if _define_property_accepted(scan, tokens[4:]):
        scan.export(name)
    elif name is not None:
        scan.unsafe.add(name)


def _define_property_accepted(scan: _Scan, rest: Sequence[Node]) -> bool:
    """`, { enumerable: true, value: ...` or `, { enumerable: true, get() { return a.b } })`."""
    if len(rest) < 2 or rest[0].type != "," or rest[1].type != "object":
        return False
    props = _properties(rest[1])
    if props and _is_pair(props[0], b"enumerable") and _value_type(props[0]) == "true":
        if not _comma_follows(scan, props[0]):
            return False
        props = props[1:]
    if not props:
        return False
    if _is_pair(props[0], b"value"):
        return True
    closes_call = [token.type for token in rest[2:]] == [")"]
    return len(props) == 1 and closes_call and _safe_getter(props[0], _plain_return)


def _safe_getter(prop: Node, returns_ok: Callable[[Node], bool]) -> bool:
    """`get() {...}` or `get: function NAME? () {...}` whose body is one accepted `return`."""
    function: Node | None
    if prop.type == "method_definition":
        first = _first_child(prop)
        if first is None or first.type != "property_identifier" or first.text != b"get":
            return False
        function = prop
    elif _is_pair(prop, b"get"):
        function = prop.child_by_field_name("value")
        if function is None or function.type != "function_expression":
            return False
        keyword = _first_child(function)
        if keyword is None or keyword.type != "function":
            return False
    else:
        return False
    parameters = function.child_by_field_name("parameters")
    body = function.child_by_field_name("body")
    if parameters is None or body is None or _named(parameters):
        return False
    statements = _named(body)
    return len(statements) == 1 and statements[0].type == "return_statement" and returns_ok(statements[0])


def _plain_return(statement: Node) -> bool:
    """`return a`, `return a.b` or `return a['b']`, as the getter form of the lexer requires."""
    values = _named(statement)
    if len(values) != 1:
        return False
    value = values[0]
    if _is_word(value):
        return True
    obj = value.child_by_field_name("object")
    if obj is None or not _is_word(obj) or _optional(value):
        return False
    if value.type == "member_expression":
        prop = value.child_by_field_name("property")
        return prop is not None and prop.type == "property_identifier"
    index = value.child_by_field_name("index")
    return value.type == "subscript_expression" and index is not None and _is_quoted(index)


def _star_reexport(scan: _Scan, keys_call: Node) -> None:
    """Babel: `Object.keys(_x).forEach(function (key) { ... exports[key] = _x[key]; })`."""
    tokens = _argument_tokens(keys_call)
    if len(tokens) != 3 or tokens[1].type != "identifier":
        return
    binding = tokens[1].text or b""
    member = keys_call.parent
    if member is None or member.type != "member_expression" or _optional(member):
        return
    prop = member.child_by_field_name("property")
    if prop is None or prop.text != b"forEach" or member.child_by_field_name("object") != keys_call:
        return
    call = member.parent
    if call is None or call.type != "call_expression" or call.child_by_field_name("function") != member:
        return
    callback = _argument_tokens(call)
    if len(callback) != 3 or callback[1].type != "function_expression":
        return
    if _star_callback(callback[1], binding):
        scan.event(keys_call, _Event.STAR, name=binding.decode("utf-8", "replace"))


def _star_callback(function: Node, binding: bytes) -> bool:
    if function.child_by_field_name("name") is not None or (_first_child(function) or function).type != "function":
        return False
    parameters = _named(function.child_by_field_name("parameters"))
    body = function.child_by_field_name("body")
    if len(parameters) != 1 or parameters[0].type != "identifier" or body is None:
        return False
    shape = _StarShape(binding, parameters[0].text or b"")
    return shape.matches(_named(body))


@dataclass(frozen=True)
class _StarShape:
    """The statement shapes of the EXPORT_STAR_LIB grammar rule for one binding and key name."""

    binding: bytes
    key: bytes

    def matches(self, statements: Sequence[Node]) -> bool:
        if not statements or statements[0].type != "if_statement":
            return False
        first = statements[0]
        if self._skips_default_and_es_module(first):
            return self._guarded_tail(statements[1:])
        consequence = _if_parts(first)
        return (
            len(statements) == 1
            and consequence is not None
            and self._not_default(_condition(first))
            and self._copies(consequence)
        )

    def _guarded_tail(self, rest: Sequence[Node]) -> bool:
        """Optional `hasOwnProperty` and `in` early returns, then the copy as the last statement."""
        if rest and rest[0].type == "if_statement" and self._own_property_return(rest[0]):
            rest = rest[1:]
        if rest and rest[0].type == "if_statement":
            if not self._already_exported_return(rest[0]):
                return False
            rest = rest[1:]
        return len(rest) == 1 and rest[0].type == "expression_statement" and self._copies(rest[0])

    def _skips_default_and_es_module(self, statement: Node) -> bool:
        test = _condition(statement)
        if not _returns(statement) or test is None or _operator(test) != b"||":
            return False
        left, right = test.child_by_field_name("left"), test.child_by_field_name("right")
        return self._key_compared(left, b"===", b"default") and self._key_compared(right, b"===", b"__esModule")

    def _key_compared(self, test: Node | None, operator: bytes, value: bytes) -> bool:
        if test is None or _operator(test) != operator:
            return False
        left, right = test.child_by_field_name("left"), test.child_by_field_name("right")
        quoted = (right.text or b"") if right is not None else b""
        return self._is_key(left) and quoted[1:-1] == value and quoted[:1] in (b"'", b'"') and _is_quoted(right)

    def _own_property_return(self, statement: Node) -> bool:
        test = _condition(statement)
        return _returns(statement) and test is not None and self._has_own_property_call(test)

    def _has_own_property_call(self, test: Node) -> bool:
        """`Object(.prototype)?.hasOwnProperty.call(ANY, key)`."""
        callee = test.child_by_field_name("function") if test.type == "call_expression" else None
        if callee is None or _member_names(callee) not in (
            [b"Object", b"prototype", b"hasOwnProperty", b"call"],
            [b"Object", b"hasOwnProperty", b"call"],
        ):
            return False
        arguments = _argument_tokens(test)
        return (
            len(arguments) == 5
            and arguments[1].type == "identifier"
            and arguments[2].type == ","
            and self._is_key(arguments[3])
        )

    def _already_exported_return(self, statement: Node) -> bool:
        """`if (key in exports && exports[key] === _x[key]) return;`"""
        test = _condition(statement)
        if not _returns(statement) or test is None or _operator(test) != b"&&":
            return False
        contains, same = test.child_by_field_name("left"), test.child_by_field_name("right")
        if contains is None or same is None or _operator(contains) != b"in" or _operator(same) != b"===":
            return False
        return (
            self._is_key(contains.child_by_field_name("left"))
            and _is_exports_reference(contains.child_by_field_name("right"))
            and self._is_keyed(same.child_by_field_name("left"), exports=True)
            and self._is_keyed(same.child_by_field_name("right"), exports=False)
        )

    def _not_default(self, test: Node | None) -> bool:
        """`key !== 'default'`, optionally `&& !Object.prototype.hasOwnProperty.call(x, key)`."""
        if test is None:
            return False
        if _operator(test) != b"&&":
            return self._key_compared(test, b"!==", b"default")
        left, right = test.child_by_field_name("left"), test.child_by_field_name("right")
        if not self._key_compared(left, b"!==", b"default") or right is None or right.type != "unary_expression":
            return False
        negated = right.child_by_field_name("argument")
        return (
            _operator(right) == b"!"
            and negated is not None
            and (self._has_own_property_call(negated) or self._own_property_method(negated))
        )

    def _own_property_method(self, call: Node) -> bool:
        """`x.hasOwnProperty(key)`."""
        callee = call.child_by_field_name("function") if call.type == "call_expression" else None
        names = _member_names(callee) if callee is not None else []
        arguments = _argument_tokens(call)
        return (
            len(names) == 2
            and names[0] != b"Object"
            and names[1] == b"hasOwnProperty"
            and len(arguments) == 3
            and self._is_key(arguments[1])
        )

    def _copies(self, statement: Node) -> bool:
        """`exports[key] = _x[key]` or the `Object.defineProperty(exports, key, {get})` form."""
        expressions = _named(statement) if statement.type == "expression_statement" else []
        if len(expressions) != 1:
            return False
        expression = expressions[0]
        if expression.type == "assignment_expression":
            return self._is_keyed(expression.child_by_field_name("left"), exports=True) and self._is_keyed(
                expression.child_by_field_name("right"), exports=False
            )
        return expression.type == "call_expression" and self._defines_getter(expression)

    def _defines_getter(self, call: Node) -> bool:
        callee = call.child_by_field_name("function")
        if callee is None or _member_names(callee) != [b"Object", b"defineProperty"]:
            return False
        tokens = _argument_tokens(call)
        if [token.type for token in tokens[::2]] != ["(", ",", ",", ")"] or len(tokens) != 7:
            return False
        if not _is_exports_reference(tokens[1]) or not self._is_key(tokens[3]) or tokens[5].type != "object":
            return False
        props = _properties(tokens[5])
        return (
            len(props) == 2
            and _is_pair(props[0], b"enumerable")
            and _value_type(props[0]) == "true"
            and _safe_getter(props[1], self._returns_binding)
        )

    def _returns_binding(self, statement: Node) -> bool:
        values = _named(statement)
        return len(values) == 1 and self._is_keyed(values[0], exports=False)

    def _is_keyed(self, node: Node | None, *, exports: bool) -> bool:
        """`exports[key]` (or `module.exports[key]`) when *exports*, else `_x[key]`."""
        if node is None or node.type != "subscript_expression" or _optional(node):
            return False
        obj = node.child_by_field_name("object")
        owner = _is_exports_reference(obj) if exports else (obj is not None and obj.text == self.binding)
        return (
            owner
            and obj is not None
            and obj.type in ("identifier", "member_expression")
            and self._is_key(node.child_by_field_name("index"))
        )

    def _is_key(self, node: Node | None) -> bool:
        return node is not None and node.type == "identifier" and node.text == self.key


# --- small tree helpers ---------------------------------------------------------------------------------


def _first_child(node: Node) -> Node | None:
    return node.child(0) if node.child_count else None


def _named(node: Node | None) -> list[Node]:
    return [child for child in node.named_children if child.type != "comment"] if node is not None else []


def _properties(obj: Node) -> list[Node]:
    return _named(obj)


def _argument_tokens(call: Node) -> list[Node]:
    """All argument-list tokens but comments: `(`, arguments, commas, `)`."""
    arguments = call.child_by_field_name("arguments")
    return [child for child in arguments.children if child.type != "comment"] if arguments is not None else []


def _first_argument(call: Node) -> Node | None:
    tokens = _argument_tokens(call)
    return tokens[1] if len(tokens) > 2 and tokens[1].is_named else None


def _arguments_start(call: Node) -> int:
    arguments = call.child_by_field_name("arguments")
    return arguments.start_byte if arguments is not None else -1


def _is_quoted(node: Node | None) -> bool:
    return node is not None and node.type == "string"


def _is_word(node: Node) -> bool:
    text = node.text or b""
    return _IDENTIFIER.fullmatch(text) is not None


def _is_plain_member(member: Node | None, obj: Node, name: bytes) -> bool:
    if member is None or member.type != "member_expression" or _optional(member):
        return False
    prop = member.child_by_field_name("property")
    return member.child_by_field_name("object") == obj and prop is not None and prop.text == name


def _is_exports_reference(node: Node | None) -> bool:
    """`exports` or `module.exports`."""
    if node is None:
        return False
    if node.type == "identifier":
        return node.text == b"exports"
    return _member_names(node) == [b"module", b"exports"]


def _member_names(node: Node) -> list[bytes]:
    """`a.b.c` as [a, b, c]; [] for anything that is not a plain dotted name."""
    names: list[bytes] = []
    current: Node | None = node
    while current is not None and current.type == "member_expression" and not _optional(current):
        prop = current.child_by_field_name("property")
        if prop is None or prop.type != "property_identifier":
            return []
        names.append(prop.text or b"")
        current = current.child_by_field_name("object")
    if current is None or current.type != "identifier":
        return []
    names.append(current.text or b"")
    return names[::-1]


def _optional(node: Node) -> bool:
    return node.child_by_field_name("optional_chain") is not None


def _is_pair(prop: Node, key: bytes) -> bool:
    if prop.type != "pair":
        return False
    name = prop.child_by_field_name("key")
    return name is not None and name.type == "property_identifier" and name.text == key


def _value_type(pair: Node) -> str:
    value = pair.child_by_field_name("value")
    return value.type if value is not None else ""


def _comma_follows(scan: _Scan, node: Node) -> bool:
    return scan.next_byte(node.end_byte) == b","


def skip_trivia(source: bytes, position: int) -> int:
    """The first position at or after *position* that is not whitespace or a comment."""
    match = _TRIVIA.match(source, position)
    return match.end() if match else position


def _condition(statement: Node) -> Node | None:
    """The expression inside an `if (...)`, without the parentheses."""
    condition = statement.child_by_field_name("condition")
    inner = _named(condition)
    return inner[0] if condition is not None and condition.type == "parenthesized_expression" and inner else None


def _if_parts(statement: Node) -> Node | None:
    """The consequence of an `if` with no `else`, when it is a single expression statement."""
    if statement.child_by_field_name("alternative") is not None:
        return None
    consequence = statement.child_by_field_name("consequence")
    return consequence if consequence is not None and consequence.type == "expression_statement" else None


def _returns(statement: Node) -> bool:
    """`if (...) return;` with a bare return and no `else`."""
    consequence = statement.child_by_field_name("consequence")
    return (
        statement.child_by_field_name("alternative") is None
        and consequence is not None
        and consequence.type == "return_statement"
        and not _named(consequence)
    )


def _operator(node: Node) -> bytes:
    if node.type not in ("binary_expression", "unary_expression"):
        return b""
    operator = node.child_by_field_name("operator")
    return operator.text or b"" if operator is not None else b""


_IDENTIFIER_HANDLERS = {
    b"exports": _exports_identifier,
    b"module": _module_identifier,
    b"Object": _object_identifier,
    b"require": _require_identifier,
    b"__export": _export_star,
    b"__exportStar": _export_star,
    b"_interopRequireWildcard": _interop_identifier,
}
