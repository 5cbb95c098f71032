"""JavaScript and TypeScript sources to :class:`~deploysafe.facts.ModuleFacts`, with tree-sitter.

Pure and format-agnostic: every file gets both its ESM facts and the names Node's cjs-module-lexer would
find if it were loaded as CommonJS; the resolver decides later which format Node uses. One tree-sitter
query per dialect, compiled once, finds every node of interest in a single pass; Python only looks at
those nodes and their ancestors, never at the whole tree.

Two gaps of the grammars are bridged before reading (positions are kept): import attributes on
``export ... from`` (and ``assert`` attributes on JavaScript imports, which Node 20 accepts) and
TypeScript's ``export type * from``. The clause is blanked to spaces and its contents remembered.
"""

from __future__ import annotations

import logging
import posixpath
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import tree_sitter_javascript
import tree_sitter_typescript
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from deploysafe.check.facts import (
    AssetRef,
    Import,
    ImportedName,
    ImportKind,
    ModuleFacts,
    SyntaxIssue,
)
from deploysafe.ecosystems.node.builtins import builtin_name
from deploysafe.ecosystems.node.parse import (
    assets,
    browser_globals,
    commonjs,
    conditions,
    folders,
    listing_flow,
    load_time,
    package_folders,
)
from deploysafe.ecosystems.node.parse.commonjs import cooked, string_value
from deploysafe.ecosystems.node.parse.dialects import Dialect, dialect_for
from deploysafe.ecosystems.node.parse.facts import FolderLoad, NodeModuleFacts

__all__ = ["Dialect", "dialect_for", "parse_module", "syntax_tree"]

_log = logging.getLogger(__name__)


def parse_module(source: bytes, dialect: Dialect) -> ModuleFacts:
    """What *source* imports and exports. Pure, and never raises: on an internal fault it logs and
    returns facts that say so (``fault``) and nothing else."""
    try:
        return _read(source, dialect)
    except Exception as err:  # the contract is "never raises"; a bug here must not stop a whole check
        _log.exception("could not read a %s module of %d bytes", dialect.value, len(source))
        return NodeModuleFacts(fault=f"deploysafe's {dialect.value} parser failed on it ({type(err).__name__}: {err})")


def syntax_tree(source: bytes, dialect: Dialect) -> Node:
    """The root of ``source``'s syntax tree in ``dialect``, for readers of other files than modules (a PM2
    process file's literals, a declaration file's type names)."""
    return _parser(dialect).parse(source.removeprefix(_BOM)).root_node


# --- grammars and the one query ------------------------------------------------------------------------

_NAMES = sorted({b"require", *commonjs.IDENTIFIERS, *assets.IDENTIFIERS})
_QUERY = """
(program (import_statement) @import)
(program (export_statement) @export)
(call_expression function: (import)) @dynamic
(meta_property) @meta
(await_expression) @await
(for_in_statement "await") @await
((identifier) @name (#any-of? @name {names}))
((property_identifier) @member (#any-of? @member {members}))
""".format(
    names=" ".join(f'"{name.decode()}"' for name in _NAMES),
    members=" ".join(f'"{name.decode()}"' for name in commonjs.MEMBERS),
)


class _Grammar:
    """A dialect's language, and its query compiled on first use: a tree without errors never needs it
    (see :func:`_located`), and compiling it for three grammars costs about 30 ms at every start."""

    def __init__(self, language: object, *, typescript: bool) -> None:
        self.language = Language(language)
        self.typescript = typescript
        self._query: Query | None = None
        self._lock = threading.Lock()

    @property
    def query(self) -> Query:
        if self._query is None:
            with self._lock:
                if self._query is None:
                    self._query = Query(self.language, _QUERY)
        return self._query


_GRAMMARS = {
    Dialect.JAVASCRIPT: _Grammar(tree_sitter_javascript.language(), typescript=False),
    Dialect.TYPESCRIPT: _Grammar(tree_sitter_typescript.language_typescript(), typescript=True),
    Dialect.TSX: _Grammar(tree_sitter_typescript.language_tsx(), typescript=True),
}
_parsers = threading.local()  # a Parser is not thread-safe; one per thread and dialect


def _parser(dialect: Dialect) -> Parser:
    cache: dict[Dialect, Parser] | None = getattr(_parsers, "by_dialect", None)
    if cache is None:
        cache = _parsers.by_dialect = {}
    if dialect not in cache:
        cache[dialect] = Parser(_GRAMMARS[dialect].language)
    return cache[dialect]


_BINARY_PROBE = 8192
_BOM = b"\xef\xbb\xbf"


def _read(source: bytes, dialect: Dialect) -> ModuleFacts:
    if b"\0" in source[:_BINARY_PROBE]:
        return NodeModuleFacts(syntax_errors=(SyntaxIssue(1, 1, "binary file, not JavaScript"),))
    source = source.removeprefix(_BOM)  # Node strips it; columns on line 1 then match an editor's
    grammar = _GRAMMARS[dialect]
    tree = _parser(dialect).parse(source)
    gaps = _GrammarGaps()
    if tree.root_node.has_error:
        bridged = gaps.bridge(source, tree.root_node, typescript=grammar.typescript)
        if bridged is not None:
            source, tree = bridged, _parser(dialect).parse(bridged)
    root = tree.root_node
    # The query visits every node of the tree, which costs half as much as parsing; on a tree without
    # errors the same nodes are found from the few places the source spells a word of interest.
    captures = QueryCursor(grammar.query).captures(root) if root.has_error else _located(source, root)
    return _ModuleReader(source, grammar.typescript, gaps).read(root, captures)


# The words the captures of _QUERY spell out. An identifier or member name is a token with one of these
# texts (`__export` also finds `__exportStar`); each structural pattern holds a keyword token.
_NAME_WORDS = tuple(name for name in _NAMES if name != b"__exportStar")
_NAME_TEXTS = frozenset(_NAMES)
_MEMBER_TEXTS = frozenset(commonjs.MEMBERS)
_STATEMENTS = {b"import": "import_statement", b"export": "export_statement"}


def _located(source: bytes, root: Node) -> dict[str, list[Node]]:
    """What ``QueryCursor(_QUERY).captures(root)`` returns for a tree without errors, without walking it;
    only `import.meta` of the meta properties (`new.target` is of no use), and in source order for each
    word (the query's order means nothing either). tests/parse/test_located.py holds it to the query.

    Every node the query captures is a token that spells one of the words above (a name), or holds one
    as a direct child: the `import`/`export` keyword of a statement, the `import` of `import(...)` and
    `import.meta`, the `await` of an await expression and of `for await`. In a tree without ERROR or
    MISSING nodes every token is in the source, so the token at each occurrence of those words finds
    them all (most occurrences are in no token of interest: strings, comments, longer names).
    """
    found: dict[str, list[Node]] = {}
    names: list[Node] = []
    members: list[Node] = []
    named_at = root.named_descendant_for_byte_range
    for word in _NAME_WORDS:
        start = source.find(word)
        while start >= 0:
            node = named_at(start, start + len(word))
            if node is not None and node.start_byte == start:
                kind = node.type
                if kind == "identifier" or kind == "property_identifier":
                    text = node.text
                    if kind == "identifier" and text in _NAME_TEXTS:
                        names.append(node)
                    elif kind == "property_identifier" and text in _MEMBER_TEXTS:
                        members.append(node)
            start = source.find(word, start + 1)
    if names:
        found["name"] = names
    if members:
        found["member"] = members
    for word in (b"import", b"export", b"await"):
        start = source.find(word)
        while start >= 0:
            capture = _keyword_capture(root, word, start)
            if capture is not None:
                found.setdefault(capture[0], []).append(capture[1])
            start = source.find(word, start + 1)
    return found


def _keyword_capture(root: Node, word: bytes, start: int) -> tuple[str, Node] | None:
    """The capture whose keyword token is *word* at *start*, if any."""
    end = start + len(word)
    if word == b"import":  # `import(...)`: the grammar's named `import` node (its keyword may be a child)
        callee = root.named_descendant_for_byte_range(start, end)
        if callee is not None and callee.type == "import" and (callee.start_byte, callee.end_byte) == (start, end):
            call = callee.parent
            if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == callee:
                return "dynamic", call
            return None
    token = root.descendant_for_byte_range(start, end)
    if token is None or token.is_named or (token.start_byte, token.end_byte) != (start, end) or token.text != word:
        return None
    parent = token.parent
    if parent is None:
        return None
    kind = parent.type
    if word == b"await":
        return ("await", parent) if kind in ("await_expression", "for_in_statement") else None
    if kind == "meta_property":
        return "meta", parent
    outer = parent.parent
    if kind == _STATEMENTS[word] and outer is not None and outer.type == "program":
        return word.decode(), parent
    return None


# --- grammar gaps ----------------------------------------------------------------------------------------

_QUOTED = rb"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\""""
_ATTRIBUTE_CLAUSE = re.compile(rb"\b(?:from|import)\s*(" + _QUOTED + rb")\s*((?:with|assert)\s*\{[^{}]*\})")
_ATTRIBUTE_ENTRY = re.compile(rb"([A-Za-z_$][\w$]*|" + _QUOTED + rb")\s*:\s*(" + _QUOTED + rb")")
_TYPE_STAR = re.compile(rb"\bexport\s+(type)\s*\*")
_NOT_NEWLINE = re.compile(rb"[^\r\n]")
# A name in an import or export clause: after `as`, or before `as` (the imported or re-exported name).
_KEYWORD_NAME = re.compile(rb"\bas\s+([A-Za-z]+)\b(?![$\w])|[{,]\s*([A-Za-z]+)(?=\s+as\b)")
_RESERVED_WORDS = frozenset(
    [
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "new",
        "null",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "let",
        "static",
        "await",
        "implements",
        "interface",
        "package",
        "private",
        "protected",
        "public",
    ]
)


@dataclass
class _GrammarGaps:
    """Attribute clauses and `export type *` the grammars cannot parse, blanked out and remembered."""

    attributes: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # by specifier start
    asserted: set[int] = field(default_factory=set)  # specifier starts whose clause says `assert`, not `with`
    type_stars: set[int] = field(default_factory=set)  # start of each `export type * ...` statement
    keywords: dict[int, str] = field(default_factory=dict)  # `export { _null as null }`: the name by offset

    def bridge(self, source: bytes, root: Node, *, typescript: bool) -> bytes | None:
        """*source* with those clauses turned to spaces, or None when it has none."""
        patched = bytearray(source)
        for clause in _ATTRIBUTE_CLAUSE.finditer(source):
            self.attributes[clause.start(1)] = _attribute_entries(clause.group(2))
            if clause.group(2).startswith(b"assert"):
                self.asserted.add(clause.start(1))
            patched[clause.start(2) : clause.end(2)] = _NOT_NEWLINE.sub(b" ", clause.group(2))
        if typescript:
            for star in _TYPE_STAR.finditer(source):
                self.type_stars.add(star.start())
                patched[star.start(1) : star.end(1)] = b"    "
        else:
            self._bridge_keyword_names(root, patched)
        changed = bool(self.attributes or self.type_stars or self.keywords)
        return bytes(patched) if changed else None

    def _bridge_keyword_names(self, root: Node, patched: bytearray) -> None:
        """The JavaScript grammar rejects reserved words as module export names (`export { a as null }`,
        `export { void_ as void }`, `import { if as x }`), which ES2015 allows; put a same-length identifier
        in their place. Where the grammar's recovery puts the ERROR varies by word, so the words are found in
        the text of the enclosing clause: after `as`, and before `as` in an import or re-export."""
        clauses: dict[int, Node] = {}
        for error in _error_nodes(root):
            clause = error.parent
            while clause is not None and clause.type not in ("export_clause", "named_imports"):
                clause = clause.parent if clause.type in ("export_specifier", "import_specifier", "ERROR") else None
            if clause is not None:
                clauses[clause.start_byte] = clause
        for clause in clauses.values():
            text = clause.text or b""
            # `import { if as x }` and `export { if as x } from`: the word before `as` names the other
            # module's export; `export { a as if }`: the word after `as` is this module's export name.
            statement = clause.parent
            sourced = statement is not None and statement.child_by_field_name("source") is not None
            exporting = clause.type == "export_clause"
            for match in _KEYWORD_NAME.finditer(text):
                group = 1 if match.group(1) else 2
                if (group == 1 and not exporting) or (group == 2 and exporting and not sourced):
                    continue  # a local binding: a reserved word there is a real syntax error
                word = match.group(group).decode("ascii")
                if word not in _RESERVED_WORDS or word == "as":
                    continue
                start = clause.start_byte + match.start(group)
                self.keywords[start] = word
                patched[start : start + len(word)] = b"_" * len(word)

    def name(self, node: Node) -> str:
        """An import or export name as written, keywords included."""
        return self.keywords.get(node.start_byte) or _name_text(node)


def _attribute_entries(clause: bytes) -> tuple[tuple[str, str], ...]:
    return tuple((_unquoted(entry.group(1)), _unquoted(entry.group(2))) for entry in _ATTRIBUTE_ENTRY.finditer(clause))


def _unquoted(token: bytes) -> str:
    text = token.decode("utf-8", "replace")
    if text[:1] in ("'", '"'):
        return cooked(text[1:-1]) or text[1:-1]
    return text


# --- reading one module ----------------------------------------------------------------------------------

_FUNCTIONS = load_time.FUNCTIONS
_NAMED_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration"})
_BLOCKS = frozenset({"statement_block", "for_statement", "for_in_statement", "switch_body", "class_static_block"})
_FIELDS = frozenset({"field_definition", "public_field_definition"})
_TYPE_CONTEXTS = frozenset(
    {
        "type_annotation",
        "type_query",
        "type_arguments",
        "type_parameters",
        "type_alias_declaration",
        "interface_declaration",
        "implements_clause",
        "ambient_declaration",
        "opting_type_annotation",
        "omitting_type_annotation",
        "asserts_annotation",
        "type_predicate_annotation",
    }
)
_TYPE_CASTS = frozenset({"as_expression", "satisfies_expression"})
_TYPE_DECLARATIONS = frozenset({"interface_declaration", "type_alias_declaration", "function_signature"})
_VALUE_DECLARATIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "abstract_class_declaration",
    }
)
_MODULES = frozenset({"internal_module", "module"})
_NAMESPACE_DEPTH = 32
_MAX_ISSUES = 3
_EXPRESSION_LENGTH = 80
_IDENTIFIER = re.compile(r"[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*")
_PROMISE_METHODS = (b"then", b"catch", b"finally")


@dataclass(frozen=True, slots=True)
class _Context:
    in_function: bool
    in_try: bool  # inside a `try` body with no function boundary in between
    in_type: bool  # a TypeScript type position: `let x: import('y').T`
    dev_only: bool = False  # behind a NODE_ENV test that production (NODE_ENV=production) fails
    feature_test: str = ""  # behind a feature or version test: `typeof fetch === 'function' ? ... :`


class _ModuleReader:
    def __init__(self, source: bytes, typescript: bool, gaps: _GrammarGaps) -> None:
        self.source = source
        self.typescript = typescript
        self.gaps = gaps
        self.imports: list[tuple[int, Import]] = []
        self.exports: set[str] = set()
        self.type_exports: set[str] = set()
        self.local_exports: list[tuple[str, str]] = []  # (local name, exported name) of `export { a as b }`
        self.bindings: dict[str, tuple[str, str]] = {}  # imported local name -> (specifier, its export name)
        self.forwarded: dict[str, tuple[str, str]] = {}  # export name -> (specifier, export name there)
        self.esm_syntax = False
        self.first_module_syntax: tuple[int, int, str] | None = None  # (line, column, "import"/"export"/...)
        self.export_assignment = False
        self.root: Node | None = None
        self.computed: list[Node] = []  # the arguments of import()/require() calls of a computed specifier
        self._top: load_time.TopCalls | None = None

    def read(self, root: Node, captures: dict[str, list[Node]]) -> ModuleFacts:
        self.root = root
        for statement in captures.get("import", ()):
            self._import_statement(statement)
        for statement in captures.get("export", ()):
            self._export_statement(statement)
        self._resolve_local_exports(root)
        names = _by_text(captures.get("name", ()))
        self._requires(names.get(b"require", ()))
        for call in captures.get("dynamic", ()):
            self._dynamic_import(call)
        metas = [meta for meta in captures.get("meta", ()) if (meta.text or b"").startswith(b"import")]
        for meta in metas:
            self._meta_resolve(meta)
            self._module_syntax(meta, "import.meta")
        lexer_throws = bool(captures.get("import") or captures.get("export"))
        lexer_throws = lexer_throws or any(commonjs.at_top_depth(meta) for meta in metas)
        cjs_names = [node for name in commonjs.IDENTIFIERS for node in names.get(name, ())]
        return NodeModuleFacts(
            imports=tuple(record for _, record in sorted(self.imports, key=lambda pair: pair[0])),
            exports=frozenset(self.exports),
            type_exports=frozenset(self.type_exports - self.exports),
            esm_syntax=self.esm_syntax,
            first_module_syntax=self.first_module_syntax,
            top_level_await=any(not _in_function_or_static_block(node) for node in captures.get("await", ())),
            commonjs=commonjs.commonjs_facts(
                cjs_names, captures.get("member", ()), self.source, lexer_throws=lexer_throws
            ),
            syntax_errors=self._syntax_issues(root),
            assets=self._assets(names.get(b"__dirname", ()), metas),
            export_assignment=self.export_assignment,
            forwarded=tuple(sorted((name, *origin) for name, origin in self.forwarded.items())),
            folder_loads=self._folder_loads(root),
            browser_need=browser_globals.first_browser_need(self.source, root, self._top_calls),
        )

    def _top_calls(self) -> load_time.TopCalls | None:
        """The functions the module's top-level statements call (read once, on first need)."""
        if self._top is None and self.root is not None:
            self._top = load_time.TopCalls(self.root)
        return self._top

    def _folder_loads(self, root: Node) -> tuple[FolderLoad, ...]:
        """Code loaded by listing a folder (see :mod:`deploysafe.ecosystems.node.parse.folders`)."""
        found: list[FolderLoad] = self._package_folders(root) if package_folders.mentions(self.source) else []
        if not folders.mentions_folder_load(self.source):
            return tuple(found)
        if any(record.specifier in folders.AUTOLOAD_PACKAGES for _, record in self.imports):
            for value, call, options in folders.autoload_dirs(root):
                load = self._folder_load("autoload", folders.folder_of(value, root), call, recursive=True)
                found.append(replace(load, options=options))
        for package, (_, default) in folders.MIGRATION_PACKAGES.items():
            if any(record.specifier == package for _, record in self.imports):
                for option, call in folders.migration_loads(root, package):
                    where = folders.folder_of(option, root) if option is not None else ("cwd", default)
                    found.append(self._folder_load(package, where, call))
        if self.computed:
            for argument, call in folders.listings(root):
                flow = listing_flow.flow_of(call, self.computed, root)
                if not flow.loads:
                    continue  # a listing no computed load uses loads nothing
                load = self._folder_load("readdir", folders.folder_of(argument, root), call)
                replaces = tuple(self._position(node) for node in flow.loads)
                found.append(replace(load, names=flow.names, replaces=replaces, unread=flow.unread))
        return tuple(found)

    def _folder_load(
        self, loader: str, where: tuple[str, str] | None, call: Node, *, recursive: bool = False, asset: bool = False
    ) -> FolderLoad:
        line, column = self._position(call)
        base, folder = where or ("", "")
        context = _context(call, typescript=self.typescript, top=self._top_calls())
        at_load = not (context.in_function or context.in_try or context.dev_only or context.feature_test)
        return FolderLoad(loader, base, folder, line, column, _shortened(call), recursive, asset, at_load)

    def _package_folders(self, root: Node) -> list[FolderLoad]:
        """Folders well-known packages read at start: views and locales (assets), migrations (code)."""
        imported = {record.specifier for _, record in self.imports if record.specifier in package_folders.PACKAGES}
        found = []
        for option in package_folders.folder_options(root, imported):
            where = ("cwd", option.default) if option.value is None and option.default else None
            if option.value is not None:
                where = folders.folder_of(option.value, root)
            names, recursive = "", not option.code
            if where is not None and option.pattern:
                folder, names, deeper = package_folders.folder_text(where[1])
                where, recursive = (where[0], folder), recursive or deeper
            if where is not None and option.cwd is not None:  # umzug's `{ cwd }`: the pattern is relative to it
                cwd = folders.folder_of(option.cwd, root)
                joined = posixpath.normpath(posixpath.join(cwd[1], where[1])) if cwd and where[0] == "cwd" else None
                where = (cwd[0], joined) if cwd and joined and not joined.startswith("/") else None
                names = names if where is not None else ""
            load = self._folder_load(option.package, where, option.where, recursive=recursive, asset=not option.code)
            found.append(replace(load, names="" if "{{" in names else names))
        return found

    # -- static imports and exports --

    def _import_statement(self, statement: Node) -> None:
        type_only = False
        clause = require_clause = None
        for child in statement.children:
            if child.type == "type":
                type_only = True
            elif child.type == "import_clause":
                clause = child
            elif child.type == "import_require_clause":
                require_clause = child
        if require_clause is not None:  # TypeScript `import x = require('y')`: CommonJS, not module syntax
            specifier = require_clause.child_by_field_name("source")
            if specifier is not None:
                self._add(ImportKind.REQUIRE, specifier, type_only=type_only)
            return
        self._module_syntax(statement, "import")
        specifier = statement.child_by_field_name("source")
        if specifier is None:
            return
        names, namespace = self._imported_names(clause, type_only, statement) if clause is not None else ([], False)
        if clause is not None and not type_only:
            self._bind(clause, _string_value(specifier) or "")
        unused = metadata = False
        if self.typescript and clause is not None and not type_only and self.root is not None:
            unused, metadata = _value_use(self.source, self.root, statement, _local_bindings(clause))
        self._add(
            ImportKind.STATIC,
            specifier,
            names=tuple(names),
            namespace=namespace,
            type_only=type_only,
            attributes=self._attributes(statement, specifier),
            asserted=specifier.start_byte in self.gaps.asserted,
            values_unused=unused,
            decorator_metadata=metadata,
        )

    def _bind(self, clause: Node, specifier: str) -> None:
        """Which local names are another module's bindings (an `export { a }` of one forwards it)."""
        for child in clause.named_children:
            if child.type == "identifier":
                self.bindings[_name_text(child)] = (specifier, "default")
            elif child.type == "namespace_import" and child.named_children:
                self.bindings[_name_text(child.named_children[-1])] = (specifier, "*")
            elif child.type == "named_imports":
                for item in child.named_children:
                    name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                    if item.type == "import_specifier" and name is not None:
                        self.bindings[_name_text(alias or name)] = (specifier, self.gaps.name(name))

    def _imported_names(
        self, clause: Node, type_only: bool, statement: Node | None = None
    ) -> tuple[list[ImportedName], bool]:
        names: list[ImportedName] = []
        namespace = False
        for child in clause.named_children:
            if child.type == "identifier":
                read = self._read_as_value(statement, _name_text(child), type_only)
                names.append(self._imported("default", child, type_only, read))
            elif child.type == "namespace_import":
                namespace = True
            elif child.type == "named_imports":
                for specifier in child.named_children:
                    name = specifier.child_by_field_name("name")
                    if specifier.type == "import_specifier" and name is not None:
                        marked = type_only or _has_token(specifier, "type")
                        local = specifier.child_by_field_name("alias") or name
                        read = self._read_as_value(statement, _name_text(local), marked)
                        names.append(self._imported(self.gaps.name(name), name, marked, read))
        return names, namespace

    def _read_as_value(self, statement: Node | None, local: str, type_only: bool) -> bool:
        """A TypeScript import's binding certainly read as a value (see :func:`_certainly_read_as_value`)."""
        if not self.typescript or type_only or statement is None or self.root is None:
            return False
        return _certainly_read_as_value(self.source, self.root, statement, local)

    def _export_statement(self, statement: Node) -> None:
        specifier = statement.child_by_field_name("source")
        if specifier is not None:
            self._module_syntax(statement, "export")
            self._reexport(statement, specifier)
            return
        tokens = {child.type for child in statement.children}
        if "=" in tokens:  # TypeScript `export = x`: CommonJS's module.exports, not module syntax
            self.export_assignment = True
            return
        if "namespace" in tokens:  # `export as namespace X`: a UMD global in a declaration file
            return
        self._module_syntax(statement, "export")
        declaration = statement.child_by_field_name("declaration")
        if "default" in tokens:
            is_type = declaration is not None and declaration.type == "interface_declaration"
            (self.type_exports if is_type else self.exports).add("default")
        elif declaration is not None:
            values, types = _declared_names(declaration)
            self.exports.update(values)
            self.type_exports.update(types)
        for clause in statement.named_children:
            if clause.type == "export_clause":
                self._local_export_clause(clause, type_only="type" in tokens)

    def _reexport(self, statement: Node, specifier: Node) -> None:
        type_only = _has_token(statement, "type") or statement.start_byte in self.gaps.type_stars
        star = namespace = False
        names: list[ImportedName] = []
        for child in statement.children:
            if child.type == "*":
                star = True
            elif child.type == "namespace_export":
                namespace = True
                exported = child.named_children[-1] if child.named_children else None
                if exported is not None:
                    self._exported(self.gaps.name(exported), type_only)
                elif _has_token(child, "default"):  # `export * as default from`: the namespace is the default
                    self._exported("default", type_only)
            elif child.type == "export_clause":
                for name, alias, marked in _export_specifiers(child):
                    names.append(self._imported(self.gaps.name(name), name, type_only or marked))
                    self._exported(self.gaps.name(alias or name), type_only or marked)
                    origin = (_string_value(specifier) or "", self.gaps.name(name))
                    self.forwarded[self.gaps.name(alias or name)] = origin
        self._add(
            ImportKind.REEXPORT,
            specifier,
            names=tuple(names),
            namespace=namespace,
            star=star and not namespace,
            type_only=type_only,
            attributes=self._attributes(statement, specifier),
            asserted=specifier.start_byte in self.gaps.asserted,
        )

    def _local_export_clause(self, clause: Node, *, type_only: bool) -> None:
        for name, alias, marked in _export_specifiers(clause):
            exported = self.gaps.name(alias or name)
            if type_only or marked:
                self.type_exports.add(exported)
            else:
                self.local_exports.append((self.gaps.name(name), exported))

    def _resolve_local_exports(self, root: Node) -> None:
        """`export { Foo }` of a local interface or type alias exports a type, not a value."""
        types_only = _local_type_names(root) if self.typescript and self.local_exports else set()
        for local, exported in self.local_exports:
            (self.type_exports if local in types_only else self.exports).add(exported)
            if local in self.bindings:
                self.forwarded[exported] = self.bindings[local]

    def _exported(self, name: str, type_only: bool) -> None:
        (self.type_exports if type_only else self.exports).add(name)

    def _attributes(self, statement: Node, specifier: Node) -> tuple[tuple[str, str], ...]:
        bridged = self.gaps.attributes.get(specifier.start_byte)
        if bridged is not None:
            return bridged
        for child in statement.children:
            if child.type == "import_attribute":
                entries = [node for node in child.named_children if node.type == "object"]
                return _object_attributes(entries[0]) if entries else ()
        return ()

    # -- require() and import() --

    def _requires(self, identifiers: Iterable[Node]) -> None:
        calls: list[Node] = []
        scopes: list[tuple[int, int]] = []
        for identifier in identifiers:
            parent = identifier.parent
            if parent is None:
                continue
            if (
                parent.type == "call_expression" and parent.child_by_field_name("function") == identifier
            ) or _resolve_call(parent, identifier) is not None:
                calls.append(parent)
            elif _declares(identifier):
                scope = _shadowing_scope(identifier)
                if scope is not None:
                    scopes.append(scope)
        for call in calls:
            if not any(start <= call.start_byte < end for start, end in scopes):
                self._require_call(call)

    def _require_call(self, call: Node) -> None:
        resolve = _resolve_call(call, call.child_by_field_name("object")) if call.type == "member_expression" else None
        if call.type == "member_expression":
            if resolve is None:
                return
            call = resolve
        arguments = _call_arguments(call)
        if not arguments:
            return
        where = _context(call, typescript=False, top=self._top_calls())
        if resolve is not None and _literal_text(arguments[0]) is None:
            return  # require.resolve(computed): a path lookup, not a load; nothing to follow
        resolve_only = resolve is not None
        self._add_call(ImportKind.REQUIRE, arguments[0], where, resolve_only=resolve_only, guarded=where.in_try)

    def _meta_resolve(self, meta: Node) -> None:
        """`import.meta.resolve('pkg')`: a package that is not there throws (a missing file does not)."""
        call = _resolve_call(meta.parent, meta) if meta.parent is not None else None
        arguments = _call_arguments(call) if call is not None else []
        specifier = _literal_text(arguments[0]) if arguments else None
        if call is None or specifier is None or specifier.startswith((".", "/", "file:", "data:", "#")):
            return
        where = _context(call, typescript=self.typescript, top=self._top_calls())
        self._add_call(ImportKind.DYNAMIC, arguments[0], where, guarded=where.in_try, resolve_only=True)

    def _dynamic_import(self, call: Node) -> None:
        where = _context(call, typescript=self.typescript, top=self._top_calls())
        arguments = _call_arguments(call)
        if where.in_type or not arguments:
            return
        options = arguments[1] if len(arguments) > 1 else None
        guarded = _promise_handled(call) or (where.in_try and _awaited(call))
        self._add_call(ImportKind.DYNAMIC, arguments[0], where, guarded=guarded, options=options)

    def _add_call(
        self,
        kind: ImportKind,
        argument: Node,
        where: _Context,
        *,
        guarded: bool,
        options: Node | None = None,
        resolve_only: bool = False,
    ) -> None:
        specifier = _literal_text(argument)
        line, column = self._position(argument)
        if specifier is None and not resolve_only:
            self.computed.append(argument)
        record = Import(
            kind=kind,
            specifier=specifier,
            line=line,
            column=column,
            expression="" if specifier is not None else _shortened(argument),
            attributes=_options_attributes(options) if options is not None else (),
            in_function=where.in_function,
            guarded=guarded,
            dev_only=where.dev_only,
            feature_test=where.feature_test,
            resolve_only=resolve_only,
        )
        self.imports.append((argument.start_byte, record))

    def _add(
        self,
        kind: ImportKind,
        specifier: Node,
        *,
        names: tuple[ImportedName, ...] = (),
        namespace: bool = False,
        star: bool = False,
        type_only: bool = False,
        attributes: tuple[tuple[str, str], ...] = (),
        asserted: bool = False,
        values_unused: bool = False,
        decorator_metadata: bool = False,
    ) -> None:
        line, column = self._position(specifier)
        record = Import(
            kind,
            _specifier_text(specifier),
            line,
            column,
            names=names,
            namespace=namespace,
            star=star,
            type_only=type_only,
            attributes=attributes,
            asserted=asserted,
            values_unused=values_unused,
            decorator_metadata=decorator_metadata,
        )
        self.imports.append((specifier.start_byte, record))

    def _imported(self, name: str, node: Node, type_only: bool, value_read: bool = False) -> ImportedName:
        line, column = self._position(node)
        return ImportedName(name, line, column, type_only, value_read)

    # -- assets, syntax errors, positions --

    def _assets(self, dirnames: Sequence[Node], metas: Sequence[Node]) -> tuple[AssetRef, ...]:
        found = []
        for path, node in assets.find_assets(dirnames, metas):
            if "{{" in path:
                continue  # a path template (i18next's `{{lng}}/{{ns}}.json`): its folder is a folder load
            line, column = self._position(node)
            found.append((node.start_byte, AssetRef(path, line, column)))
        return tuple(ref for _, ref in sorted(found, key=lambda pair: pair[0]))

    def _syntax_issues(self, root: Node) -> tuple[SyntaxIssue, ...]:
        if not root.has_error:
            return ()
        issues: list[SyntaxIssue] = []
        for node in _error_nodes(root):
            issue = self._issue(node)
            if issue not in issues:
                issues.append(issue)
            if len(issues) == _MAX_ISSUES:
                break
        return tuple(issues)

    def _issue(self, node: Node) -> SyntaxIssue:
        if node.is_missing:
            if self._only_trivia_after(node.start_byte):
                return self._end_of_input()
            label = node.type.replace("_", " ") if node.is_named else f"'{node.type}'"
            return SyntaxIssue(*self._position(node), f"Missing {label}")
        leaves = list(_leaves(node))
        if not leaves:
            return SyntaxIssue(*self._position(node), "Invalid or unexpected token")
        unterminated = next((leaf for leaf in leaves if _is_lone_quote(leaf)), None)
        if unterminated is not None:
            return SyntaxIssue(*self._position(unterminated), "Invalid or unexpected token")
        if _unclosed(leaves) and self._only_trivia_after(node.end_byte):
            return self._end_of_input()
        token = leaves[0]
        if len(leaves) == 1 and _expects_operand(token):
            token = _next_leaf(node) or token
        return SyntaxIssue(*self._position(token), _unexpected(token))

    def _end_of_input(self) -> SyntaxIssue:
        last_newline = self.source.rfind(b"\n")
        tail = self.source[last_newline + 1 :].decode("utf-8", "replace")
        return SyntaxIssue(self.source.count(b"\n") + 1, len(tail) + 1, "Unexpected end of input")

    def _only_trivia_after(self, position: int) -> bool:
        return commonjs.skip_trivia(self.source, position) >= len(self.source)

    def _module_syntax(self, node: Node, kind: str) -> None:
        """Module syntax at ``node``; the first in the file is where a CommonJS load fails."""
        self.esm_syntax = True
        line, column = self._position(node)
        if self.first_module_syntax is None or (line, column) < self.first_module_syntax[:2]:
            self.first_module_syntax = (line, column, kind)

    def _position(self, node: Node) -> tuple[int, int]:
        """1-based line and column; the column counts characters, not bytes."""
        row, byte_column = node.start_point
        start = node.start_byte
        prefix = self.source[start - byte_column : start]
        column = byte_column if prefix.isascii() else len(prefix.decode("utf-8", "replace"))
        return row + 1, column + 1


# --- module-level helpers: names, declarations, contexts -------------------------------------------------


def _by_text(nodes: Iterable[Node]) -> dict[bytes, list[Node]]:
    grouped: dict[bytes, list[Node]] = {}
    for node in nodes:
        grouped.setdefault(node.text or b"", []).append(node)
    return grouped


def _has_token(node: Node, token: str) -> bool:
    return any(child.type == token for child in node.children)


def _name_text(node: Node) -> str:
    """An import/export name: an identifier, `default`, or a string (`import { "a b" as c }`)."""
    if node.type == "string":
        return _specifier_text(node)
    return (node.text or b"").decode("utf-8", "replace")


def _specifier_text(node: Node) -> str:
    value = string_value(node)
    if value is not None:
        return value
    return (node.text or b"").decode("utf-8", "replace")[1:-1]


def _export_specifiers(clause: Node) -> Iterator[tuple[Node, Node | None, bool]]:
    """(name, alias, marked `type`) for each specifier of an `export { ... }` clause."""
    for specifier in clause.named_children:
        name = specifier.child_by_field_name("name")
        if specifier.type == "export_specifier" and name is not None:
            yield name, specifier.child_by_field_name("alias"), _has_token(specifier, "type")


def _declared_names(declaration: Node) -> tuple[list[str], list[str]]:
    """(value names, type-only names) a declaration introduces."""
    kind = declaration.type
    if kind in ("lexical_declaration", "variable_declaration"):
        return _variable_names(declaration), []
    if kind == "ambient_declaration":  # `declare ...`: nothing exists at run time
        inner = [child for child in declaration.named_children if child.type != "comment"]
        values, types = _declared_names(inner[0]) if inner else ([], [])
        return [], values + types
    if kind == "expression_statement":  # a namespace in statement position
        inner = declaration.named_children
        return _declared_names(inner[0]) if inner and inner[0].type in _MODULES else ([], [])
    name = _declaration_name(declaration)
    if name is None:
        return [], []
    if kind in _VALUE_DECLARATIONS or kind == "import_alias":
        return [name], []
    if kind in _TYPE_DECLARATIONS or (kind == "enum_declaration" and _has_token(declaration, "const")):
        return [], [name]
    if kind == "enum_declaration" or (kind in _MODULES and _instantiated(declaration, 0)):
        return [name], []
    return ([], [name]) if kind in _MODULES else ([], [])


def _declaration_name(declaration: Node) -> str | None:
    name = declaration.child_by_field_name("name")
    if name is None and declaration.type == "import_alias":
        name = next((child for child in declaration.named_children if child.type == "identifier"), None)
    if name is None or name.type == "string":
        return None
    while name.type == "nested_identifier" and name.named_children:  # namespace A.B.C -> A
        name = name.named_children[0]
    return (name.text or b"").decode("utf-8", "replace")


def _variable_names(declaration: Node) -> list[str]:
    names: list[str] = []
    stack = [
        declarator.child_by_field_name("name")
        for declarator in declaration.named_children
        if declarator.type == "variable_declarator"
    ]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        kind = node.type
        if kind in ("identifier", "shorthand_property_identifier_pattern"):
            names.append((node.text or b"").decode("utf-8", "replace"))
        elif kind == "pair_pattern":
            stack.append(node.child_by_field_name("value"))
        elif kind in ("assignment_pattern", "object_assignment_pattern"):
            stack.append(node.child_by_field_name("left"))
        elif kind in ("object_pattern", "array_pattern", "rest_pattern"):
            stack.extend(node.named_children)
    return names


def _instantiated(module: Node, depth: int) -> bool:
    """Whether a TypeScript namespace emits a value: anything in it beyond types and empty namespaces."""
    body = module.child_by_field_name("body")
    if body is None:
        return False
    for statement in body.named_children:
        inner: Node | None = statement
        if statement.type == "export_statement":
            inner = statement.child_by_field_name("declaration")
        elif statement.type == "expression_statement" and statement.named_children:
            inner = statement.named_children[0]
        if inner is None:
            return True
        if inner.type in ("comment", "empty_statement", "ambient_declaration") or inner.type in _TYPE_DECLARATIONS:
            continue
        if inner.type == "enum_declaration" and _has_token(inner, "const"):
            continue
        if inner.type in _MODULES and depth < _NAMESPACE_DEPTH and not _instantiated(inner, depth + 1):
            continue
        return True
    return False


def _local_type_names(root: Node) -> set[str]:
    """Top-level names declared only as types (interfaces, type aliases, `import type` bindings)."""
    values: set[str] = set()
    types: set[str] = set()
    for statement in root.named_children:
        if statement.type == "import_statement":
            _import_bindings(statement, values, types)
            continue
        declaration = statement
        if statement.type == "export_statement":
            declaration = statement.child_by_field_name("declaration") or statement
        declared_values, declared_types = _declared_names(declaration)
        values.update(declared_values)
        types.update(declared_types)
    return types - values


def _import_bindings(statement: Node, values: set[str], types: set[str]) -> None:
    statement_type_only = _has_token(statement, "type")
    for clause in statement.named_children:
        if clause.type != "import_clause":
            continue
        for child in clause.named_children:
            if child.type == "identifier":
                (types if statement_type_only else values).add(_name_text(child))
            elif child.type == "namespace_import" and child.named_children:
                (types if statement_type_only else values).add(_name_text(child.named_children[-1]))
            elif child.type == "named_imports":
                for specifier in child.named_children:
                    local = specifier.child_by_field_name("alias") or specifier.child_by_field_name("name")
                    if local is not None:
                        marked = statement_type_only or _has_token(specifier, "type")
                        (types if marked else values).add(_name_text(local))


def _declares(identifier: Node) -> bool:
    """Whether this identifier (`require`, an import's name) introduces a binding (a parameter, variable or
    function)."""
    parent = identifier.parent
    if parent is None:
        return False
    kind = parent.type
    if kind in ("formal_parameters", "required_parameter", "optional_parameter", "array_pattern", "rest_pattern"):
        return True
    field_name = {
        "variable_declarator": "name",
        "function_declaration": "name",
        "generator_function_declaration": "name",
        "arrow_function": "parameter",
        "assignment_pattern": "left",
        "object_assignment_pattern": "left",
        "pair_pattern": "value",
        "for_in_statement": "left",
    }.get(kind)
    return field_name is not None and parent.child_by_field_name(field_name) == identifier


def _shadowing_scope(identifier: Node) -> tuple[int, int] | None:
    """The byte range in which a local `require` hides the module's one: its function, or its block
    for `let`/`const`.

    Module-level declarations are ignored on purpose: in an ES module `const require = createRequire(...)`
    is how `require` exists at all, and its calls are real edges.
    """
    parent = identifier.parent
    if parent is not None and parent.type == "for_in_statement":  # for (const require of ...)
        return parent.start_byte, parent.end_byte
    declaration = parent.parent if parent is not None and parent.type == "variable_declarator" else None
    block_scoped = declaration is not None and declaration.type == "lexical_declaration"
    start = parent if parent is not None and parent.type in _NAMED_FUNCTIONS else identifier
    node = start.parent
    while node is not None and node.type != "program":
        if node.type in _FUNCTIONS or (block_scoped and node.type in _BLOCKS):
            return node.start_byte, node.end_byte
        node = node.parent
    return None


def _context(node: Node, *, typescript: bool, top: load_time.TopCalls | None = None) -> _Context:
    """Where *node* runs: inside a function, inside a try body, only in a TypeScript type, or only when
    NODE_ENV is not production."""
    in_function = in_try = in_type = dev_only = False
    feature_test = ""
    child, parent = node, node.parent
    while parent is not None:
        kind = parent.type
        if kind in _FUNCTIONS and load_time.runs_at_load(parent, top):
            pass  # an immediately invoked function (or a UMD factory its wrapper calls) runs at load
        elif kind in _FUNCTIONS or (kind in _FIELDS and _instance_field_value(parent, child)):
            in_function = True
        elif kind == "statement_block" and not in_function and not in_try:
            in_try = _is_try_body(parent)
        elif typescript and (kind in _TYPE_CONTEXTS or (kind in _TYPE_CASTS and _is_cast_type(parent, child))):
            in_type = True
        elif kind in _BRANCHES and not dev_only:
            dev_only = _branch_skipped_in_production(parent, child)
        if kind in _BRANCHES and not feature_test:
            feature_test = _feature_test(parent, child)
        elif kind == "catch_clause" and not feature_test:
            feature_test = _builtin_probe(parent)
        elif kind == "switch_case" and not feature_test:
            feature_test = _other_platform_case(parent)
        child, parent = parent, parent.parent
    return _Context(in_function, in_try, in_type, dev_only, feature_test)


_CASE_ENDS = frozenset({"break_statement", "return_statement", "throw_statement", "continue_statement"})


def _other_platform_case(case: Node) -> str:
    """The case (`case 'win32'`) when *case* is one of `switch (process.platform)` that Linux
    (load_time.PLATFORM) never enters: neither it nor a case that falls through into it names Linux, names a
    computed value or is `default`."""
    body = case.parent
    statement = body.parent if body is not None else None
    value = statement.child_by_field_name("value") if statement is not None else None
    if statement is None or statement.type != "switch_statement" or value is None:
        return ""
    if not load_time.reads_platform(value):
        return ""
    read = (value.named_children[0] if value.named_child_count == 1 else value).text or b""
    own = case.child_by_field_name("value")
    test = f"switch ({read.decode('utf-8', 'replace')}) case {_shortened_text(own) if own is not None else ''}"
    entered: Node | None = case
    while entered is not None and entered.type == "switch_case":
        tested = entered.child_by_field_name("value")
        name = string_value(tested) if tested is not None and tested.type == "string" else None
        if name is None or name == load_time.PLATFORM:
            return ""
        entered = entered.prev_named_sibling
        while entered is not None and entered.type == "comment":
            entered = entered.prev_named_sibling
        if entered is None or _case_ends(entered):
            return test
    return ""


def _case_ends(case: Node) -> bool:
    """True when *case* cannot fall through into the next one: its last statement leaves the switch."""
    statements = [node for node in case.children_by_field_name("body") if node.type != "comment"]
    return bool(statements) and statements[-1].type in _CASE_ENDS


def _builtin_probe(catch: Node) -> str:
    """The try (its source text) when *catch* is the fallback of a try that only loads Node built-ins:
    `try { E = require('events').EventEmitter } catch { E = require('emitter') }`. A built-in always loads
    under Node, so the fallback is for other platforms, like `globalThis.fetch || require('node-fetch')`."""
    statement = catch.parent
    body = statement.child_by_field_name("body") if statement is not None else None
    if statement is None or statement.type != "try_statement" or body is None:
        return ""
    loaded = []
    for node in folders.walk(body):
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            if callee is None or arguments is None or callee.type not in ("identifier", "import"):
                continue
            if callee.type == "identifier" and callee.text != b"require":
                continue
            values = [c for c in arguments.named_children if c.type != "comment"]
            loaded.append(string_value(values[0]) if values and values[0].type == "string" else None)
    if not loaded or not all(name is not None and builtin_name(name) for name in loaded):
        return ""
    return _shortened_text(body)


_FEATURE_PROBE = re.compile(rb"\btypeof\b|\bprocess\s*\.\s*(versions?|release|features|arch)\b|\bglobalThis\s*\.")


def _resolve_call(member: Node | None, object_node: Node | None) -> Node | None:
    """The call of `<object>.resolve(...)` when *member* is that member expression (`require.resolve`,
    `import.meta.resolve`)."""
    if member is None or member.type != "member_expression" or member.child_by_field_name("object") != object_node:
        return None
    prop = member.child_by_field_name("property")
    call = member.parent
    if prop is None or prop.text != b"resolve" or call is None or call.type != "call_expression":
        return None
    return call if call.child_by_field_name("function") == member else None


def _local_bindings(clause: Node) -> list[str]:
    """The local names an import clause binds: `a`, `{ b, c as d }` (b, d), `* as ns`."""
    names: list[str] = []
    for child in clause.named_children:
        if child.type == "identifier":
            names.append(_name_text(child))
        elif child.type == "namespace_import":
            names += [_name_text(n) for n in child.named_children if n.type == "identifier"]
        elif child.type == "named_imports":
            for specifier in child.named_children:
                if specifier.type != "import_specifier" or _has_token(specifier, "type"):
                    continue
                local = specifier.child_by_field_name("alias") or specifier.child_by_field_name("name")
                if local is not None:
                    names.append(_name_text(local))
    return names


_VALUE_REFERENCES = frozenset({"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"})


def _value_use(source: bytes, root: Node, statement: Node, names: list[str]) -> tuple[bool, bool]:
    """(no binding is read as a value, a binding is a type in a decorated class): how TypeScript compilers
    decide to drop an import. Each word occurrence is looked up in the tree: an `identifier` is a value
    reference, a `type_identifier` a type. Unknown shapes count as values (the import is kept)."""
    if not names:
        return False, False
    metadata = False
    for name in names:
        word = name.encode()
        for match in re.finditer(rb"(?<![\w$])" + re.escape(word) + rb"(?![\w$])", source):
            start = match.start()
            if statement.start_byte <= start < statement.end_byte:
                continue
            node = root.named_descendant_for_byte_range(start, start + len(word))
            if node is None or node.start_byte != start:
                continue  # inside a string, a comment or a longer token
            if node.type in _VALUE_REFERENCES:
                return False, False
            if node.type == "type_identifier" and not metadata:
                metadata = _in_decorated_class(node)
            elif node.type not in ("type_identifier", "property_identifier", "comment", "string_fragment"):
                return False, False
    return True, metadata


# Where an identifier names a type, not a value (`typeof x` in a type, `ns.T`): compilers erase it.
_NAMES_A_TYPE = _TYPE_CONTEXTS | {"nested_type_identifier", "extends_type_clause"}


def _certainly_read_as_value(source: bytes, root: Node, statement: Node, name: str) -> bool:
    """The import binding ``name`` is read as a value outside ``statement``: an identifier that is neither in
    a type nor the name of a declaration, nor exported again (tsc drops `export { T }` of a type, esbuild
    keeps it: which one builds the service is not known here). A shadowing declaration anywhere makes the
    answer no: esbuild
    (tsx) and tsc keep an import only for the reads of the binding itself, and telling them apart from
    reads of the shadowing name would take scopes, so no verdict is drawn from it (no false block)."""
    word = name.encode()
    read = False
    for match in re.finditer(rb"(?<![\w$])" + re.escape(word) + rb"(?![\w$])", source):
        start = match.start()
        if statement.start_byte <= start < statement.end_byte:
            continue
        node = root.named_descendant_for_byte_range(start, start + len(word))
        if node is None or node.start_byte != start or node.type not in _VALUE_REFERENCES:
            continue
        if node.type == "shorthand_property_identifier_pattern" or _declares(node):
            return False  # a declaration of the same name: shadowed somewhere
        if node.parent is not None and node.parent.type in ("export_specifier", "export_statement"):
            continue  # `export { T }`, `export default T`: tsc elides a type there, tsx keeps it (not judged)
        if not _in_type(node):
            read = True
    return read


def _in_type(node: Node) -> bool:
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in _NAMES_A_TYPE or (parent.type in _TYPE_CASTS and _is_cast_type(parent, child)):
            return True
        if parent.type in ("statement_block", "program", "class_body"):
            return False
        child, parent = parent, parent.parent
    return False


def _in_decorated_class(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "class_body":
            owner = parent.parent
            holder = owner.parent if owner is not None else None
            texts = [owner, holder] if holder is not None and holder.type == "export_statement" else [owner]
            return any(n is not None and b"@" in (n.text or b"") for n in texts)
        parent = parent.parent
    return False


def _feature_test(branch: Node, child: Node) -> str:
    """The test (its source text) when *child* runs only where a feature or version probe says so:
    a branch of `typeof X ...`/`process.versions...` (if, else, ?:), or the fallback side of `??`/`||` when
    the left side probes the platform (`globalThis.fetch ?? require('node-fetch')`, see _probes_the_platform),
    or `typeof X === 'undefined' && require(...)`.
    A UMD environment test and a test of `process.platform` are no feature tests: the branch Node's CommonJS
    loader takes, or the one Linux takes (load_time.PLATFORM), runs at load; the other never does."""
    for truth_of in (load_time.umd_truth, load_time.platform_truth):
        known = _known_branch(branch, child, truth_of)
        if known is not None:
            return "" if known else _shortened_text(_branch_condition(branch) or branch)
    if branch.type == "else_clause":
        statement = branch.parent
        condition = statement.child_by_field_name("condition") if statement is not None else None
        return _probe_text(condition) if statement is not None and statement.type == "if_statement" else ""
    if branch.type in ("if_statement", "ternary_expression"):
        condition = branch.child_by_field_name("condition")
        return "" if condition is None or condition == child else _probe_text(condition)
    if branch.child_by_field_name("right") != child:
        return ""
    operator = branch.child_by_field_name("operator")
    left = branch.child_by_field_name("left")
    if operator is None or left is None:
        return ""
    if operator.type in ("??", "||"):
        return _shortened_text(left) if _probes_the_platform(left) else ""
    return _probe_text(left) if operator.type == "&&" else ""


# Globals a `X || require(...)` fallback probes for: the require runs only where the platform lacks them.
_PLATFORM_GLOBALS = frozenset(
    {
        "globalThis", "global", "window", "self", "fetch", "WebSocket", "AbortController", "AbortSignal", "Blob",
        "FormData", "Headers", "Request", "Response", "ReadableStream", "TextEncoder", "TextDecoder", "URL",
        "URLSearchParams", "crypto", "structuredClone", "EventTarget", "Event", "BroadcastChannel", "performance",
        "queueMicrotask", "setImmediate", "Bun", "Deno",
    }
)  # fmt: skip
_LITERALS_TRUTHY = frozenset({"true", "object", "array", "function_expression", "arrow_function", "class"})


def _probes_the_platform(left: Node) -> bool:
    """`X || require(...)` / `X ?? require(...)` skips the require only when X is there: a probe of the
    platform (`typeof`, `process.versions`, a global such as `fetch` or `globalThis.fetch`) or a literal that
    is always truthy. Any other left side (`cache || require('./x')`) is falsy at start as often as not: the
    require is an edge that runs at start."""
    while left.type == "parenthesized_expression" and left.named_child_count == 1:
        left = left.named_children[0]
    text = left.text or b""
    if _FEATURE_PROBE.search(text):
        return True
    if left.type in _LITERALS_TRUTHY:
        return True
    if left.type in ("string", "template_string"):
        return len(text) > 2
    if left.type == "number":
        return text.strip(b"0.xXn_") != b""
    root = left
    while root.type in ("member_expression", "subscript_expression"):
        found = root.child_by_field_name("object")
        if found is None:
            break
        root = found
    return root.type == "identifier" and _name_text(root) in _PLATFORM_GLOBALS


def _branch_condition(branch: Node) -> Node | None:
    if branch.type == "else_clause":
        statement = branch.parent
        return statement.child_by_field_name("condition") if statement and statement.type == "if_statement" else None
    if branch.type in ("if_statement", "ternary_expression"):
        return branch.child_by_field_name("condition")
    operator = branch.child_by_field_name("operator")
    return branch.child_by_field_name("left") if operator is not None and operator.type in ("&&", "||") else None


def _known_branch(branch: Node, child: Node, truth_of: Callable[[Node | None], bool | None]) -> bool | None:
    """Whether *child* runs at start when *branch* tests what *truth_of* knows the value of (a UMD
    environment, the platform); None when it tests anything else."""
    condition = _branch_condition(branch)
    if condition is None or condition == child:
        return None
    truth = truth_of(condition)
    if truth is None:
        return None
    if branch.type == "else_clause":
        return not truth
    if branch.type in ("if_statement", "ternary_expression"):
        return truth if child == branch.child_by_field_name("consequence") else not truth
    if branch.child_by_field_name("right") != child:
        return None
    operator = branch.child_by_field_name("operator")
    return truth if operator is not None and operator.type == "&&" else not truth


def _probe_text(condition: Node | None) -> str:
    text = condition.text if condition is not None else None
    return _shortened_text(condition) if condition is not None and text and _FEATURE_PROBE.search(text) else ""


def _shortened_text(node: Node) -> str:
    text = (node.text or b"").decode("utf-8", "replace").strip("() \n")
    text = " ".join(text.split())
    return text if len(text) <= _EXPRESSION_LENGTH else text[: _EXPRESSION_LENGTH - 1] + "\u2026"


_BRANCHES = frozenset({"if_statement", "else_clause", "ternary_expression", "binary_expression"})
_PRODUCTION = "production"


def _branch_skipped_in_production(branch: Node, child: Node) -> bool:
    """True when *child* is the part of *branch* that does not run with NODE_ENV=production."""
    if branch.type == "else_clause":
        statement = branch.parent
        if statement is None or statement.type != "if_statement":
            return False
        return _production_truth(statement.child_by_field_name("condition")) is True
    if branch.type in ("if_statement", "ternary_expression"):
        truth = _production_truth(branch.child_by_field_name("condition"))
        if truth is None:
            return False
        if child == branch.child_by_field_name("consequence"):
            return truth is False
        return branch.type == "ternary_expression" and child == branch.child_by_field_name("alternative") and truth
    if branch.child_by_field_name("right") != child:
        return False
    operator = branch.child_by_field_name("operator")
    truth = _production_truth(branch.child_by_field_name("left"))
    if operator is None or truth is None:
        return False
    return (operator.type == "&&" and truth is False) or (operator.type == "||" and truth is True)


def _production_truth(node: Node | None) -> bool | None:
    """The value of a condition when NODE_ENV=production, or None when it does not depend on that alone."""
    return conditions.truth(node, _node_env_leaf)


def _node_env_leaf(node: Node) -> bool | None:
    compared = conditions.compared_string(node)
    if compared is None or not _is_node_env(compared[0]):
        return None
    return (compared[1] == _PRODUCTION) is compared[2]


def _is_node_env(node: Node) -> bool:
    text = (node.text or b"").replace(b" ", b"")
    return text in (b"process.env.NODE_ENV", b"process.env['NODE_ENV']", b'process.env["NODE_ENV"]')


def _string_value(node: Node) -> str | None:
    if node.type != "string":
        return None
    text = (node.text or b"").decode("utf-8", "replace")
    return text[1:-1] if len(text) >= 2 else None


def _instance_field_value(field_node: Node, child: Node) -> bool:
    """An instance field's initializer runs at `new`, like a function body; a static one at definition."""
    return field_node.child_by_field_name("value") == child and not _has_token(field_node, "static")


def _is_try_body(block: Node) -> bool:
    statement = block.parent
    return (
        statement is not None and statement.type == "try_statement" and (statement.child_by_field_name("body") == block)
    )


def _is_cast_type(cast: Node, child: Node) -> bool:
    named = cast.named_children
    return bool(named) and named[0] != child


def _in_function_or_static_block(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS or parent.type == "class_static_block":
            return True
        parent = parent.parent
    return False


def _promise_chain_top(call: Node) -> tuple[Node, bool]:
    """Follow `import(x).then(...).catch(...)`; (outermost call, whether a rejection handler is attached)."""
    top = call
    handled = False
    while (parent := top.parent) is not None:
        if parent.type == "parenthesized_expression":
            top = parent
            continue
        method = parent.child_by_field_name("property") if parent.type == "member_expression" else None
        outer = parent.parent
        if (
            method is None
            or method.text not in _PROMISE_METHODS
            or parent.child_by_field_name("object") != top
            or outer is None
            or outer.type != "call_expression"
            or outer.child_by_field_name("function") != parent
        ):
            break
        handlers = len(_call_arguments(outer))
        handled = handled or method.text == b"catch" or (method.text == b"then" and handlers >= 2)
        top = outer
    return top, handled


def _promise_handled(call: Node) -> bool:
    return _promise_chain_top(call)[1]


def _awaited(call: Node) -> bool:
    top = _promise_chain_top(call)[0]
    return top.parent is not None and top.parent.type == "await_expression"


def _call_arguments(call: Node) -> list[Node]:
    arguments = call.child_by_field_name("arguments")
    if arguments is None:
        return []
    return [child for child in arguments.named_children if child.type != "comment"]


def _literal_text(argument: Node) -> str | None:
    """`'x'` or a template literal without substitutions; None for anything computed."""
    if argument.type == "string":
        return _specifier_text(argument)
    if argument.type == "template_string" and not _has_token(argument, "template_substitution"):
        raw = (argument.text or b"")[1:-1].decode("utf-8", "replace")
        value = cooked(raw)
        return value if value is not None else raw
    return None


def _shortened(node: Node) -> str:
    text = " ".join((node.text or b"").decode("utf-8", "replace").split())
    if len(text) <= _EXPRESSION_LENGTH:
        return text
    return text[: _EXPRESSION_LENGTH - 3] + "..."


def _object_attributes(obj: Node) -> tuple[tuple[str, str], ...]:
    """`{ type: 'json' }` as (('type', 'json'),); entries that are not plain strings are left out."""
    entries = []
    for pair in obj.named_children:
        key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        if pair.type == "pair" and key is not None and value is not None and value.type == "string":
            entries.append((_name_text(key), _specifier_text(value)))
    return tuple(entries)


def _options_attributes(options: Node) -> tuple[tuple[str, str], ...]:
    """`import('x', { with: { type: 'json' } })` (or `assert:`)."""
    if options.type != "object":
        return ()
    for pair in options.named_children:
        key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        is_object = pair.type == "pair" and key is not None and value is not None and value.type == "object"
        if is_object and key is not None and value is not None and _name_text(key) in ("with", "assert"):
            return _object_attributes(value)
    return ()


# --- syntax errors ---------------------------------------------------------------------------------------

_OPERAND_EXPECTED = re.compile(r"^(?:[-+*/%&|^!~<>=?:,.]+|=>)$")


def _error_nodes(root: Node) -> Iterator[Node]:
    """ERROR and MISSING nodes in source order, without looking inside an ERROR."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
            continue
        stack.extend(child for child in reversed(node.children) if child.has_error or child.is_missing)


def _leaves(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.child_count == 0:
            yield current
        else:
            stack.extend(reversed(current.children))


def _next_leaf(node: Node) -> Node | None:
    current: Node | None = node
    while current is not None and current.next_sibling is None:
        current = current.parent
    following = current.next_sibling if current is not None else None
    while following is not None and following.child_count:
        following = following.child(0)
    return following


def _is_lone_quote(leaf: Node) -> bool:
    parent = leaf.parent
    return leaf.type in ("'", '"', "`") and (parent is None or parent.is_error)


def _unclosed(leaves: Sequence[Node]) -> bool:
    depth = 0
    for leaf in leaves:
        if leaf.type in ("(", "[", "{", "${"):
            depth += 1
        elif leaf.type in (")", "]", "}"):
            depth -= 1
    return depth > 0


def _expects_operand(leaf: Node) -> bool:
    return _OPERAND_EXPECTED.match(leaf.type) is not None


def _unexpected(token: Node) -> str:
    text = (token.text or b"").decode("utf-8", "replace")
    parent = token.parent
    if token.type in ("'", '"') and parent is not None and parent.type == "string":
        return "Unexpected string"
    if token.type in ("`", "template_string"):
        return "Unexpected template string"
    if token.type == "number":
        return "Unexpected number"
    if token.is_named and _IDENTIFIER.fullmatch(text):
        return f"Unexpected identifier '{text}'"
    return f"Unexpected token '{text[:20]}'"
