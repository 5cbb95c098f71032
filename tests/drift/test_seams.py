"""The package seams hold: the transports, drift and the artifact format import nothing of release, and a
deploy step never reaches back into the engine or the flows that run it (checked in the source, by ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "deploysafe"

# package -> what it must not import
FORBIDDEN = {
    "hosts": ("deploysafe.release", "deploysafe.drift", "deploysafe.pack", "deploysafe.cli"),
    "artifact": ("deploysafe.release", "deploysafe.drift", "deploysafe.pack", "deploysafe.hosts", "deploysafe.cli"),
    "drift": ("deploysafe.release", "deploysafe.pack", "deploysafe.cli"),
    "release/steps": ("deploysafe.release.engine", "deploysafe.release.flows", "deploysafe.cli"),
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_above_it(package: str) -> None:
    files = sorted((SRC / package).rglob("*.py"))
    assert files, package
    wrong = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in files
        for name in sorted(_imports(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
    ]
    assert wrong == []


def test_the_check_finds_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from deploysafe.release.spec import resolve\nimport deploysafe.cli.app\n")
    assert {"deploysafe.release.spec", "deploysafe.cli.app"} <= _imports(sample)
