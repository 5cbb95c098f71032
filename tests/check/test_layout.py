"""The check core is language-neutral: no module under deploysafe/check imports Node's ecosystem, and
the pipeline reaches a language only through the registry in deploysafe.ecosystems."""

from __future__ import annotations

import ast
from pathlib import Path

import deploysafe

PACKAGE = Path(deploysafe.__file__).parent
CORE = PACKAGE / "check"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, absolute or relative."""
    names: set[str] = set()
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_check_core_imports_the_node_ecosystem() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) >= 10
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            n for n in imported_modules(path) if n.startswith("deploysafe.ecosystems.node")
        )
        for path in modules
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_core_reaches_ecosystems_only_through_the_registry() -> None:
    users = {
        str(path.relative_to(PACKAGE))
        for path in CORE.rglob("*.py")
        if "deploysafe.ecosystems" in imported_modules(path)
    }
    assert users == {"check/pipeline.py", "check/sources.py"}


def test_the_import_scan_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    """The check above would be blind if the scan missed imports inside functions."""
    sample = PACKAGE / "check" / "pipeline.py"
    assert "deploysafe.ecosystems.for_root" in imported_modules(sample)
