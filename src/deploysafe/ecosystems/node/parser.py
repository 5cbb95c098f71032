"""Node's :class:`~deploysafe.check.ecosystem.Parser`: tree-sitter's JavaScript and TypeScript grammars
behind the interface the source loader calls (in this process or in forked helpers). The grammars load on
the first parse: a check whose facts all come from the cache never loads them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from deploysafe.check.facts import ModuleFacts
from deploysafe.ecosystems.node.parse import dialects, version
from deploysafe.ecosystems.node.parse.facts import UNPARSABLE


@dataclass(frozen=True)
class NodeParser:
    not_a_source: ClassVar[str] = "not a JavaScript or TypeScript file"
    empty: ClassVar[ModuleFacts] = UNPARSABLE

    def version(self) -> str:
        return version.parser_version()

    def dialect_for(self, path: str) -> dialects.Dialect | None:
        return dialects.dialect_for(path)

    def dialect_name(self, dialect: dialects.Dialect) -> str:
        return dialect.name

    def prepare(self) -> None:
        """Load the grammars (before forked helpers start, so that each does not load them again)."""
        from deploysafe.ecosystems.node.parse import javascript  # noqa: F401

    def parse(self, data: bytes, dialect: dialects.Dialect) -> ModuleFacts:
        from deploysafe.ecosystems.node.parse import javascript

        return javascript.parse_module(data, dialect)  # looked up per call: tests replace it
