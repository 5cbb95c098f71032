"""How Node will load a file: as an ES module, as CommonJS, as JSON, or as something else."""

from __future__ import annotations

import os
from enum import StrEnum

from deploysafe.check.facts import ModuleFacts
from deploysafe.ecosystems.node.nodeversion import NodeVersion
from deploysafe.ecosystems.node.packages import PackageJsonCache
from deploysafe.ecosystems.node.parse.facts import NodeModuleFacts


class Format(StrEnum):
    ESM = "esm"
    COMMONJS = "commonjs"
    JSON = "json"
    ADDON = "addon"  # .node native addon
    WASM = "wasm"
    OTHER = "other"


TYPESCRIPT_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts")


def is_typescript(path: str) -> bool:
    return path.endswith(TYPESCRIPT_EXTENSIONS)


def module_format(path: str, facts: ModuleFacts | None, packages: PackageJsonCache, node: NodeVersion) -> Format:
    ext = os.path.splitext(path)[1]
    if ext in (".mjs", ".mts"):
        return Format.ESM
    if ext in (".cjs", ".cts"):
        return Format.COMMONJS
    if ext == ".json":
        return Format.JSON
    if ext == ".node":
        return Format.ADDON
    if ext == ".wasm":
        return Format.WASM
    if ext not in (".js", ".jsx", ".ts", ".tsx", ""):
        return Format.OTHER
    scope = packages.scope(os.path.dirname(path))
    package_type = scope.type if scope else None
    if package_type == "module":
        return Format.ESM
    if package_type == "commonjs" or ext in (".ts", ".tsx"):
        # tsx and ts-node follow "type" for TypeScript and compile other files' ESM syntax to require().
        return Format.COMMONJS
    if (
        isinstance(facts, NodeModuleFacts)
        and (facts.esm_syntax or facts.top_level_await)
        and node.detects_module_syntax
    ):
        return Format.ESM
    return Format.COMMONJS


def emitted_format(path: str, module_option: str | None, packages: PackageJsonCache) -> Format:
    """The format of the JavaScript tsc emits for the TypeScript file ``path``, from tsconfig's
    `module`: ESM for es2015…esnext/preserve, Node's own rule (extension, package "type") for
    node16/nodenext, CommonJS otherwise (its default for Node projects)."""
    ext = os.path.splitext(path)[1]
    if ext == ".mts":
        return Format.ESM
    if ext == ".cts":
        return Format.COMMONJS
    module = (module_option or "commonjs").lower()
    if module.startswith("node"):
        scope = packages.scope(os.path.dirname(path))
        return Format.ESM if scope is not None and scope.type == "module" else Format.COMMONJS
    if module.startswith("es") or module == "preserve":
        return Format.ESM
    return Format.COMMONJS
