"""The tests one mutant runs: only those that execute the mutated statement, read from a per-test coverage map.

`bench/mutation.py` records once which test executes which line of a target (coverage.py through pytest-cov,
`--cov-context=test`) and gives cosmic-ray this script as its test command. For each mutant the script
compares the target's files with the pristine copy, finds the statement around each changed line (all its
lines: Python reports a multi-line statement under any of them; for an `if`, `for`, `while` or `with`, its
header) and runs every test that executed it, those first that executed the changed line itself. A mutant in
a statement no test executes cannot change what a test sees. A change outside any function body (a default
argument, a class attribute, a module constant: they run at import) runs every test that executed the file.
Exit status is pytest's; a mutant that no test reaches runs nothing and survives, which is the truth about it.

    python bench/mutation_tests.py MAP PRISTINE MODULE -- PYTEST-ARGS...
"""

from __future__ import annotations

import ast
import difflib
import json
import subprocess
import sys
from pathlib import Path


def coverage_map(data_file: Path, root: Path) -> dict[str, dict[str, list[str]]]:
    """{file relative to root: {line: [test node ids]}} from a coverage data file written with
    `--cov-context=test` (pytest-cov names a context `<node id>|setup`, `|run` or `|teardown`)."""
    from coverage import CoverageData

    data = CoverageData(basename=str(data_file))
    data.read()
    out: dict[str, dict[str, list[str]]] = {}
    for measured in data.measured_files():
        path = Path(measured).resolve()
        if not path.is_relative_to(root):
            continue
        lines = {}
        for line, contexts in (data.contexts_by_lineno(measured) or {}).items():
            tests = sorted({c.rsplit("|", 1)[0] for c in contexts if c})
            if tests:
                lines[str(line)] = tests
        out[path.relative_to(root).as_posix()] = lines
    return out


def durations(junit: Path, root: Path) -> dict[str, float]:
    """{test node id: seconds} from pytest's JUnit XML report (`classname` is the test file's dotted path,
    then any class)."""
    import xml.etree.ElementTree as ET

    seconds: dict[str, float] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        parts = case.get("classname", "").split(".")
        for k in range(len(parts), 0, -1):
            path = "/".join(parts[:k]) + ".py"
            if (root / path).is_file():
                node_id = "::".join([path, *parts[k:], case.get("name", "")])
                seconds[node_id] = seconds.get(node_id, 0.0) + float(case.get("time", "0"))
                break
    return seconds


def changed_lines(pristine: str, mutated: str) -> set[int]:
    """Line numbers (in the pristine file) that the mutant changed."""
    old, new = pristine.splitlines(), mutated.splitlines()
    changed: set[int] = set()
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            changed.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return changed


def statement_span(source: str, line: int) -> tuple[int, int] | None:
    """The lines of the innermost statement inside a function body that holds `line` (for a compound
    statement whose header holds it, the header's lines); None outside any function body."""
    best: tuple[int, int] | None = None
    for func in ast.walk(ast.parse(source)):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if node is func or not isinstance(node, ast.stmt) or node.end_lineno is None:
                continue
            if not node.lineno <= line <= node.end_lineno:
                continue
            first, last = node.lineno, node.end_lineno
            inner = [b for field in ("body", "orelse", "finalbody", "handlers") for b in getattr(node, field, ())]
            if inner and line < min(b.lineno for b in inner):
                last = min(b.lineno for b in inner) - 1  # the header only
            elif inner:
                continue  # in the body: a nested statement holds it
            if best is None or last - first < best[1] - best[0]:
                best = (first, last)
    return best


def tests_for(lines_map: dict[str, list[str]], source: str, changed: set[int]) -> tuple[set[str], set[str]]:
    """(tests that executed a changed line, tests that executed its statement or, outside any function
    body, the file)."""
    on_line = {t for line in changed for t in lines_map.get(str(line), ())}
    around: set[str] = set()
    for line in changed:
        span = statement_span(source, line)
        if span is None:
            return on_line, {t for covered in lines_map.values() for t in covered}
        for covered in range(span[0], span[1] + 1):
            around.update(lines_map.get(str(covered), ()))
    return on_line, around


def selected(map_file: Path, pristine: Path, module: Path) -> list[str]:
    """The node ids to run for the mutant now in `module` (a file or a package directory): those that
    executed the changed line first, as they are the likeliest to fail (pytest stops at the first failure),
    the quickest first within each group."""
    recorded = json.loads(map_file.read_text())
    coverage = recorded.get("lines", recorded)
    seconds = recorded.get("seconds", {})
    if pristine.is_file():
        pairs = [(pristine, module)]
    else:
        pairs = [(p, module / p.relative_to(pristine)) for p in sorted(pristine.rglob("*.py"))]
    first: set[str] = set()
    rest: set[str] = set()
    for original, current in pairs:
        before, after = original.read_text(), current.read_text()
        if before == after:
            continue
        on_line, around = tests_for(coverage.get(current.as_posix(), {}), before, changed_lines(before, after))
        first |= on_line
        rest |= around

    def quickest(tests: set[str]) -> list[str]:
        return sorted(tests, key=lambda t: (seconds.get(t, float("inf")), t))

    return quickest(first) + quickest(rest - first)


def every_test(map_file: Path) -> list[str]:
    recorded = json.loads(map_file.read_text())
    coverage = recorded.get("lines", recorded)
    return sorted({t for lines in coverage.values() for tests in lines.values() for t in tests})


def main(argv: list[str]) -> int:
    split = argv.index("--")
    map_file, pristine, module = (Path(a) for a in argv[:split])
    try:
        node_ids = selected(map_file, pristine, module)
    except Exception as exc:  # a fault here must not pass for a killed mutant
        print(f"mutation_tests: no selection ({exc!r}); running every mapped test", file=sys.stderr)
        node_ids = every_test(map_file)
    print(f"mutation_tests: {len(node_ids)} test(s) execute the mutated code", file=sys.stderr)
    if not node_ids:
        return 0
    return subprocess.run([sys.executable, "-m", "pytest", *argv[split + 1 :], *node_ids], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
