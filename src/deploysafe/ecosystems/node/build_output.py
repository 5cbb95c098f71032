"""Findings in tsc's output shown where the user edits: the TypeScript line they come from.

When node runs tsc's output and that output is on disk, the check judges the JavaScript, so a finding
sits at `dist/x.js:3:24`. It is moved to the source line: through the output's source map when tsc wrote
one (`x.js.map`, or an inline one), else at the same import's specifier in the `.ts` file; the output
location stays beside it in the message. The sources themselves are what the output is built from
(``source_files``): the scan leaves them out, so they are neither dormant nor judged a second time.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import replace

from deploysafe.check.findings import Finding
from deploysafe.ecosystems.node.tsc import TscBuild

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_INLINE_MAP = re.compile(r"//# sourceMappingURL=data:application/json;(?:charset=[^;,]+;)?base64,([A-Za-z0-9+/=]+)")


def to_sources(root: str, build: TscBuild, findings: list[Finding]) -> list[Finding]:
    """``findings`` with those in tsc's output moved to the TypeScript lines they come from."""
    locator = _Locator(root, build)
    return [locator.finding(f) for f in findings]


def source_files(root: str, build: TscBuild) -> set[str]:
    """The inputs tsc compiles into the output, relative to ``root``."""
    return {os.path.relpath(p, root).replace(os.sep, "/") for p in build.inputs if not build.in_output(p)}


class _Locator:
    def __init__(self, root: str, build: TscBuild) -> None:
        self.root = root
        self.build = build
        self._maps: dict[str, dict[int, list[_Segment]] | None] = {}

    def finding(self, finding: Finding) -> Finding:
        output = os.path.join(self.root, finding.file)
        source = self.build.source_of(output)
        if source is None:
            return finding
        mapped = self._mapped(output, finding.line, finding.column)
        if mapped is not None:
            source, line, column = mapped
            column = _specifier_column(source, line, finding.specifier) or column
        else:
            found = _specifier_line(source, finding.specifier)
            if found is None:
                return finding
            line, column = found
        rel = os.path.relpath(source, self.root).replace(os.sep, "/")
        return replace(
            finding,
            file=rel,
            line=line,
            column=column,
            message=f"{finding.message} [runs as {finding.file}:{finding.line}:{finding.column}]",
        )

    def _mapped(self, output: str, line: int, column: int) -> tuple[str, int, int] | None:
        """The source place of the last mapped segment at or before ``column`` on ``line``."""
        if output not in self._maps:
            self._maps[output] = _read_map(output)
        segments = (self._maps[output] or {}).get(line)
        if not segments:
            return None
        before = [s for s in segments if s[0] <= column - 1] or segments[:1]
        return before[-1][1:]


def _specifier_column(source: str, line: int, specifier: str | None) -> int | None:
    """The column of ``specifier``, quoted, on ``line`` of the source (None when it is not there)."""
    if not specifier:
        return None
    try:
        with open(source, encoding="utf-8", errors="replace") as handle:
            text = next((t for n, t in enumerate(handle, 1) if n == line), "")
    except OSError:
        return None
    for quote in ("'", '"', "`"):
        index = text.find(quote + specifier + quote)
        if index >= 0:
            return index + 1
    return None


def _specifier_line(source: str, specifier: str | None) -> tuple[int, int] | None:
    """The line and column of ``specifier``, quoted, in the TypeScript source."""
    if not specifier:
        return None
    try:
        with open(source, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                for quote in ("'", '"', "`"):
                    index = text.find(quote + specifier + quote)
                    if index >= 0:
                        return number, index + 1
    except OSError:
        return None
    return None


_Segment = tuple[int, str, int, int]  # generated column (0-based), absolute source, line, column (1-based)


def _read_map(output: str) -> dict[int, list[_Segment]] | None:
    """Generated line (1-based) -> its mapped segments, in order."""
    data = None
    try:
        with open(output + ".map", encoding="utf-8") as handle:
            data = json.load(handle)
        base = os.path.dirname(output)
    except (OSError, ValueError):
        try:
            with open(output, encoding="utf-8", errors="replace") as handle:
                found = _INLINE_MAP.search(handle.read())
            data = json.loads(base64.b64decode(found.group(1))) if found else None
        except (OSError, ValueError):
            data = None
        base = os.path.dirname(output)
    if not isinstance(data, dict) or not isinstance(data.get("mappings"), str):
        return None
    sources = [
        os.path.normpath(os.path.join(base, str(data.get("sourceRoot") or ""), str(s)))
        for s in data.get("sources") or []
    ]
    return _decode(data["mappings"], sources)


def _decode(mappings: str, sources: list[str]) -> dict[int, list[_Segment]]:
    """The Source Map v3 "mappings" field: base64 VLQ segments, fields relative to the previous one."""
    lines: dict[int, list[_Segment]] = {}
    source = source_line = source_column = 0
    for number, group in enumerate(mappings.split(";"), 1):
        generated = 0
        for segment in group.split(","):
            values = _vlq(segment) if segment else []
            if not values:
                continue
            generated += values[0]
            if len(values) < 4:
                continue
            source += values[1]
            source_line += values[2]
            source_column += values[3]
            if 0 <= source < len(sources):
                lines.setdefault(number, []).append((generated, sources[source], source_line + 1, source_column + 1))
    return lines


def _vlq(segment: str) -> list[int]:
    values = []
    value = shift = 0
    for char in segment:
        digit = _B64.get(char)
        if digit is None:
            return []
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        value = shift = 0
    return values
