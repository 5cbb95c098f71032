"""A second opinion on syntax errors before they block a deploy.

tree-sitter finds errors fast but its TypeScript grammar reports some valid code as broken. Node itself
(`node --check`) judges JavaScript; the project's own TypeScript compiler, when installed, judges
TypeScript. Where no judge is available the error stays, as an unconfirmed warning.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass

from deploysafe.ecosystems.node.formats import is_typescript

MAX_CONFIRMATIONS = 64  # beyond this many broken files, tree-sitter's word is taken as it is
CONFIRMED, REFUTED, UNCONFIRMED = "confirmed", "refuted", "unconfirmed"

_TS_SCRIPT = r"""
const ts = require(process.argv[1]);
const fs = require('fs');
const out = {};
for (const file of JSON.parse(fs.readFileSync(0, 'utf8'))) {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, kind);
  const d = sf.parseDiagnostics[0];
  if (!d) { out[file] = null; continue; }
  const pos = sf.getLineAndCharacterOfPosition(d.start);
  out[file] = [pos.line + 1, pos.character + 1, ts.flattenDiagnosticMessageText(d.messageText, ' ')];
}
process.stdout.write(JSON.stringify(out));
"""


@dataclass(frozen=True, slots=True)
class SyntaxVerdict:
    status: str  # CONFIRMED, REFUTED or UNCONFIRMED
    line: int = 0
    column: int = 0
    message: str = ""
    judge: str = ""


def confirm(paths: list[str], root: str) -> dict[str, SyntaxVerdict]:
    verdicts: dict[str, SyntaxVerdict] = {}
    if not paths:  # nothing broken: no judge to look for
        return verdicts
    node = shutil.which("node")
    todo = paths[:MAX_CONFIRMATIONS]
    javascript = [p for p in todo if not is_typescript(p)]
    typescript = [p for p in todo if is_typescript(p)]
    for path in javascript:
        verdicts[path] = _node_check(node, path) if node else SyntaxVerdict(UNCONFIRMED, judge="no node found")
    if typescript:
        verdicts.update(_typescript_check(node, typescript, root))
    return verdicts


def _node_check(node: str, path: str) -> SyntaxVerdict:
    import subprocess  # only with a file to judge: a check of code that parses never starts one

    try:
        done = subprocess.run([node, "--check", path], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return SyntaxVerdict(UNCONFIRMED, judge=f"node --check failed to run: {err}")
    if done.returncode == 0:
        return SyntaxVerdict(REFUTED, judge="node --check")
    line = 0
    first = done.stderr.splitlines()[0] if done.stderr else ""
    match = re.search(r":(\d+)$", first)
    if match:
        line = int(match[1])
    column = 0
    lines = done.stderr.splitlines()
    for i, text in enumerate(lines):
        if text.strip() == "^" or set(text.strip()) == {"^"}:
            column = len(text) - len(text.lstrip()) + 1
            break
        if i > 4:
            break
    message = next((t for t in lines if re.match(r"^\w*Error\b", t)), "SyntaxError")
    return SyntaxVerdict(CONFIRMED, line, column, message.removeprefix("SyntaxError: "), "node --check")


def _typescript_check(node: str | None, paths: list[str], root: str) -> dict[str, SyntaxVerdict]:
    compiler = _find_typescript(root)
    if node is None or compiler is None:
        why = "no node found" if node is None else "no TypeScript compiler installed in node_modules"
        return {p: SyntaxVerdict(UNCONFIRMED, judge=why) for p in paths}
    import subprocess

    try:
        done = subprocess.run(
            [node, "-e", _TS_SCRIPT, compiler],
            input=json.dumps(paths),
            capture_output=True,
            text=True,
            timeout=120,
        )
        results = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {p: SyntaxVerdict(UNCONFIRMED, judge="the TypeScript compiler failed to run") for p in paths}
    verdicts = {}
    for path in paths:
        result = results.get(path)
        if result is None:
            verdicts[path] = SyntaxVerdict(REFUTED, judge="typescript")
        else:
            verdicts[path] = SyntaxVerdict(CONFIRMED, result[0], result[1], result[2], "typescript")
    return verdicts


def _find_typescript(root: str) -> str | None:
    current = root
    while True:
        candidate = os.path.join(current, "node_modules", "typescript")
        if os.path.isfile(os.path.join(candidate, "package.json")):
            return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
