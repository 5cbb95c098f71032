"""Node's :class:`~deploysafe.check.ecosystem.Parser`: tree-sitter's JavaScript and TypeScript grammars
behind the interface the source loader calls (in this process or in forked helpers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from deploysafe.check.facts import ModuleFacts
from deploysafe.ecosystems.node.parse import javascript, version
from deploysafe.ecosystems.node.parse.facts import UNPARSABLE


@dataclass(frozen=True)
class NodeParser:
    not_a_source: ClassVar[str] = "not a JavaScript or TypeScript file"
    empty: ClassVar[ModuleFacts] = UNPARSABLE

    def version(self) -> str:
        return version.parser_version()

    def dialect_for(self, path: str) -> javascript.Dialect | None:
        return javascript.dialect_for(path)

    def dialect_name(self, dialect: javascript.Dialect) -> str:
        return dialect.name

    def parse(self, data: bytes, dialect: javascript.Dialect) -> ModuleFacts:
        return javascript.parse_module(data, dialect)  # looked up per call: tests replace it
