"""What only Node cares about in a file's facts: module syntax (which decides how Node loads a .js file),
top-level await, what cjs-module-lexer would see if the file were loaded as CommonJS, and TypeScript's
`export = x`. Registered with the facts cache, so they are cached by content like the rest."""

from __future__ import annotations

from dataclasses import dataclass

from deploysafe.check import cache
from deploysafe.check.facts import ModuleFacts


@dataclass(frozen=True, slots=True)
class CommonJsFacts:
    """What Node's cjs-module-lexer would report for this file if it were loaded as CommonJS."""

    exports: frozenset[str] = frozenset()
    reexports: tuple[str, ...] = ()  # specifiers, resolved with require() rules


@dataclass(frozen=True, slots=True)
class FolderLoad:
    """Code this file loads from a folder by listing it (an autoload plugin, ``readdirSync`` + ``import()``).

    ``folder`` is relative to the file's directory (``base`` "file") or to the working directory (``base``
    "cwd"), ``/``-separated; empty when the folder could not be read from the source (the load is then
    unverified). ``call`` is the source text of the call, shortened, for the report."""

    loader: str  # "autoload" | "readdir" | a package that reads a folder at start ("migrate", "express", ...)
    base: str  # "file" | "cwd" | "" (unknown)
    folder: str
    line: int
    column: int
    call: str
    recursive: bool = False  # sub-folders are loaded too (autoload)
    asset: bool = False  # data the package reads (views, locales): packed whole, not followed
    at_load: bool = False  # the call runs while the module loads (not inside a function, not guarded)
    # the loader's options that decide which files load, (option, kind, value): @fastify/autoload's
    # ignorePattern, matchFilter, maxDepth, autoHooks... (see deploysafe.ecosystems.node.autoload)
    options: tuple[tuple[str, str, str], ...] = ()
    # positions (line, column) of the computed import()/require() calls that load the listing's entries
    replaces: tuple[tuple[int, int], ...] = ()
    # globs the file names must match, `|`-separated (umzug's `*.js`; a listing's `*.js|!*.test.js`: an
    # exclusion starts with `!`; `&` separates groups that must all match; `re:PATTERN/FLAGS` is a regular
    # expression); empty: all
    names: str = ""
    # a filter on the listed names that could not be read (its source): which files load is not known
    unread: str = ""


@dataclass(frozen=True, slots=True)
class NodeModuleFacts(ModuleFacts):
    esm_syntax: bool = False  # import/export statements or import.meta: Node's "module syntax"
    # the first of them in the file, (line, column, "import" | "export" | "import.meta"): where V8 stops when
    # the file is loaded as CommonJS
    first_module_syntax: tuple[int, int, str] | None = None
    top_level_await: bool = False
    commonjs: CommonJsFacts = CommonJsFacts()
    # A TypeScript `export = x` (CommonJS-style export of a TS file).
    export_assignment: bool = False
    # Exports that are another module's binding, (name, specifier, name there): `export { a } from './x'`,
    # `import { a } from './x'; export { a }` (`*` there: its namespace). Star-export conflicts compare these.
    forwarded: tuple[tuple[str, str, str], ...] = ()
    # Code loaded from folders by listing them (see deploysafe.ecosystems.node.parse.folders).
    folder_loads: tuple[FolderLoad, ...] = ()
    # The first place that needs a browser at load, (line, column, what): "reads `window`", "throws under
    # `!window.document`" (see deploysafe.ecosystems.node.parse.browser_globals); (0, 0, "") when none.
    browser_need: tuple[int, int, str] = (0, 0, "")


UNPARSABLE = NodeModuleFacts()  # a file not parsed (unreadable, too large, not a source, internal fault)

cache.register(NodeModuleFacts, CommonJsFacts, FolderLoad)
