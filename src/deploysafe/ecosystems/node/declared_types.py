"""Type-only names a package declares (interfaces and type aliases in its .d.ts files or @types).

A TypeScript file may write `import { Request } from 'express'` where `Request` is an interface: the
import is erased when compiled, so the missing runtime export is no fault. Only interface and type alias
declarations count — a declared class, function or const is a value that must exist at run time.
"""

from __future__ import annotations

import os
from functools import lru_cache

_MAX_FILES = 400
_MAX_BYTES = 8 * 1024 * 1024
_SKIPPED_DIRS = frozenset({"node_modules", ".git", "test", "tests", "__tests__"})


def is_declared_type(package_dir: str, package: str, name: str) -> bool:
    """True when ``package`` (installed at ``package_dir``) or its @types package declares ``name`` as an
    interface or a type alias."""
    return name in _type_names(package_dir) or name in _type_names(_types_package(package_dir, package))


def _types_package(package_dir: str, package: str) -> str:
    """node_modules/@types/<name> next to the package (scoped names become @types/scope__name)."""
    types_name = package[1:].replace("/", "__") if package.startswith("@") else package
    node_modules = package_dir
    while os.path.basename(node_modules) != "node_modules":
        parent = os.path.dirname(node_modules)
        if parent == node_modules:
            return ""
        node_modules = parent
    return os.path.join(node_modules, "@types", types_name)


@lru_cache(maxsize=256)
def _type_names(directory: str) -> frozenset[str]:
    """The interface and type alias names of the declaration files in ``directory`` (read by the TypeScript
    parser: a doc comment saying "no interface Router" declares nothing)."""
    if not directory or not os.path.isdir(directory):
        return frozenset()
    names: set[str] = set()
    files = budget = 0
    for current, dirs, filenames in os.walk(directory):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
        for filename in filenames:
            if not filename.endswith((".d.ts", ".d.mts", ".d.cts")):
                continue
            try:
                with open(os.path.join(current, filename), "rb") as handle:
                    data = handle.read(_MAX_BYTES - budget)
            except OSError:
                continue
            from deploysafe.ecosystems.node.parse.literals import declared_type_names  # the grammars, when needed

            names.update(declared_type_names(data))
            files += 1
            budget += len(data)
            if files >= _MAX_FILES or budget >= _MAX_BYTES:
                return frozenset(names)
    return frozenset(names)
