"""module-alias: `require('module-alias/register')` (or `node -r module-alias/register`) hooks require() with
the `_moduleAliases` of the project's package.json.

As module-alias does: the package.json is the one above node_modules/module-alias (the project root); a
target is joined to that folder unless absolute; a request matches an alias when it is the alias or starts
with the alias and "/"; aliases are tried from the last in sorted order; the rest of the request is joined
to the target and Node resolves the result as usual. It hooks require() only, never import. Aliases
apply when the project depends on module-alias and its register runs first: a `-r module-alias/register`
preload, a top-level `require('module-alias/register')` (or `require('module-alias')`) earlier in the same
file, or one in another project file (whose load order is not traced); with none anywhere, or only later in
the requiring file, the aliased require fails as Node fails it. Functions passed to `addAlias` at run time
are not read.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from deploysafe.check.facts import Import
from deploysafe.ecosystems.node.packages import PackageJson

PACKAGE = "module-alias"
REGISTERS = (f"{PACKAGE}/register", PACKAGE)


@dataclass(frozen=True)
class ModuleAliases:
    base: str  # absolute: the folder of the package.json that declares them
    targets: dict[str, str]  # alias -> absolute target

    def rewrite(self, request: str) -> str | None:
        """The path module-alias gives Node for ``request``; None when no alias matches."""
        for alias in sorted(self.targets, reverse=True):
            if request == alias or request.startswith(alias + "/"):
                return posixpath.join(self.targets[alias], request[len(alias) :].lstrip("/")).rstrip("/")
        return None


def read(package: PackageJson | None) -> ModuleAliases | None:
    """The aliases of the project's package.json, when it declares module-alias and `_moduleAliases`."""
    if package is None or package.dependency_section(PACKAGE) is None:
        return None
    declared = package.data.get("_moduleAliases")
    if not isinstance(declared, dict):
        return None
    targets = {
        alias: target if os.path.isabs(target) else os.path.normpath(os.path.join(package.dir, target))
        for alias, target in declared.items()
        if isinstance(alias, str) and alias and isinstance(target, str)
    }
    return ModuleAliases(package.dir, targets) if targets else None


def register_line(imports: Iterable[Import]) -> int | None:
    """The line of the first top-level require of module-alias's register in ``imports``, or None."""
    lines = [i.line for i in imports if i.specifier in REGISTERS and not i.in_function and not i.type_only]
    return min(lines) if lines else None
