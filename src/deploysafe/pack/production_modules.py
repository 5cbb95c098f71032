"""``--with-node-modules``: exactly the production dependency closure, for hosts without a registry.

Two ways to know the closure, in this order:

1. npm's lockfile (``npm-shrinkwrap.json`` or ``package-lock.json``, lockfileVersion 2 or 3): every
   ``node_modules/...`` entry that is not ``dev`` (nor ``extraneous``): what ``npm ci --omit=dev`` installs.
   Each package must be on disk at the version the lockfile names (else: run ``npm ci``); an optional one
   that is absent (another platform's binary) is skipped.
2. Otherwise (yarn, older lockfiles, none): walk ``dependencies``, ``optionalDependencies`` and installed
   ``peerDependencies`` from the root package.json through node_modules the way Node resolves them,
   which is what ``npm ls --omit=dev --all --parseable`` lists.

A package's files are taken whole, but not its own ``node_modules`` folder (each nested package is a
closure member of its own, or not). Symlinks cannot be artifact members: a link to a file inside the
project is packed as that file's bytes; any other link (``.bin`` entries, links out of the tree) is
skipped and listed. pnpm's and Yarn Plug'n'Play's layouts are refused: copying them does not give a
tree Node can load.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from deploysafe import safejson
from deploysafe.pack.errors import PackError

NPM_LOCKFILES = ("npm-shrinkwrap.json", "package-lock.json")
_DEPENDENCY_FIELDS = ("dependencies", "optionalDependencies")


@dataclass(slots=True)
class ProductionModules:
    source: str  # how the closure was found
    packages: list[str] = field(default_factory=list)  # package folders relative to root, sorted
    files: list[str] = field(default_factory=list)  # files to pack, relative to root, sorted
    links: dict[str, str] = field(default_factory=dict)  # packed path -> file it links to (absolute)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    native: list[str] = field(default_factory=list)  # compiled addons (.node): built for this machine


def production_closure(root: str) -> ProductionModules:
    modules = os.path.join(root, "node_modules")
    if not os.path.isdir(modules):
        if os.path.exists(os.path.join(root, ".pnp.cjs")):
            raise PackError("--with-node-modules: this project uses Yarn Plug'n'Play (no node_modules to pack)")
        raise PackError(f"--with-node-modules: {modules} does not exist; run npm ci first")
    if os.path.isdir(os.path.join(modules, ".pnpm")):
        raise PackError(
            "--with-node-modules: node_modules is pnpm's symlinked layout, which cannot be packed as files; "
            "pack without it and install on the host (pnpm install --prod --frozen-lockfile)"
        )
    lock = _npm_lock(root)
    if lock is not None:
        name, data = lock
        packages, source = _from_lockfile(root, data), f"{name} (non-dev packages)"
    else:
        packages, source = _from_package_json(root), "package.json dependencies, resolved in node_modules"
    result = ProductionModules(source=source, packages=sorted(packages))
    for package in result.packages:
        _collect(root, package, result)
    result.files.sort()
    result.native.sort()
    result.skipped.sort()
    return result


def _npm_lock(root: str) -> tuple[str, dict[str, Any]] | None:
    for name in NPM_LOCKFILES:
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                data = safejson.load(handle)
        except (OSError, ValueError) as err:
            raise PackError(f"{name}: cannot read it: {err}") from err
        if isinstance(data, dict) and isinstance(data.get("packages"), dict):
            return name, data
        return None  # lockfileVersion 1: walk package.json instead
    return None


def _from_lockfile(root: str, lock: dict[str, Any]) -> list[str]:
    found = []
    for key, entry in lock["packages"].items():
        if not key.startswith("node_modules/") or not isinstance(entry, dict):
            continue
        if entry.get("dev") or entry.get("extraneous"):
            continue
        if entry.get("link"):
            raise PackError(
                f"--with-node-modules: {key} is a workspace link, which an artifact cannot hold; "
                "pack without node_modules and install on the host"
            )
        manifest = _read_package(os.path.join(root, key))
        if manifest is None:
            if entry.get("optional") or entry.get("devOptional"):
                continue  # an optional dependency for another platform
            raise PackError(f"--with-node-modules: {key} is in the lockfile but not installed; run npm ci first")
        locked, installed = entry.get("version"), manifest.get("version")
        if isinstance(locked, str) and installed != locked:
            raise PackError(
                f"--with-node-modules: {key} is {installed} on disk but {locked} in the lockfile; run npm ci first"
            )
        found.append(key)
    return found


def _from_package_json(root: str) -> list[str]:
    top = _read_package(root)
    if top is None:
        raise PackError("--with-node-modules: no package.json at the root")
    found: dict[str, None] = {}
    queue: deque[tuple[str, dict[str, Any]]] = deque([(root, top)])
    while queue:
        folder, manifest = queue.popleft()
        for name, optional in _dependency_names(manifest, folder == root):
            location = _resolve_package(root, folder, name)
            if location is None:
                if optional:
                    continue
                raise PackError(
                    f"--with-node-modules: '{name}' (needed by {_rel(root, folder) or 'package.json'}) is not "
                    "installed; run npm install first"
                )
            rel = _rel(root, location)
            if rel in found:
                continue
            found[rel] = None
            dependency = _read_package(location)
            if dependency is not None:
                queue.append((location, dependency))
    return list(found)


def _dependency_names(manifest: dict[str, Any], is_root: bool) -> list[tuple[str, bool]]:
    names: list[tuple[str, bool]] = []
    for key in _DEPENDENCY_FIELDS:
        deps = manifest.get(key)
        if isinstance(deps, dict):
            names += [(name, key == "optionalDependencies") for name in deps]
    peers = manifest.get("peerDependencies")
    if isinstance(peers, dict) and not is_root:
        names += [(name, True) for name in peers]  # installed peers are loaded; absent ones are the caller's
    return names


def _resolve_package(root: str, start: str, name: str) -> str | None:
    """Node's lookup: ``<dir>/node_modules/<name>`` for ``start`` and each folder above it, up to the root."""
    current = start
    while True:
        if os.path.basename(current) != "node_modules":
            candidate = os.path.join(current, "node_modules", name)
            if os.path.isdir(candidate):
                return candidate
        if len(current) <= len(root):
            return None
        current = os.path.dirname(current)


def _read_package(folder: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(folder, "package.json"), encoding="utf-8") as handle:
            data = safejson.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _collect(root: str, package: str, result: ProductionModules) -> None:
    base = os.path.join(root, package)
    real_root = os.path.realpath(root)
    for directory, dirnames, filenames in os.walk(base):
        rel_dir = _rel(root, directory)
        kept = []
        for name in dirnames:
            path = os.path.join(directory, name)
            if name == "node_modules":
                continue  # nested packages are closure members of their own
            if os.path.islink(path):
                result.skipped.append((f"{rel_dir}/{name}", "symlinked folder"))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            path = os.path.join(directory, name)
            rel = f"{rel_dir}/{name}"
            if os.path.islink(path):
                target = os.path.realpath(path)
                if os.path.isfile(target) and target.startswith(real_root + os.sep):
                    result.links[rel] = target
                    result.files.append(rel)
                else:
                    result.skipped.append((rel, "symlink out of the project or to a folder"))
                continue
            if not os.path.isfile(path):
                continue
            result.files.append(rel)
            if name.endswith(".node"):
                result.native.append(rel)


def _rel(root: str, path: str) -> str:
    rel = os.path.relpath(path, root)
    return "" if rel == "." else rel.replace(os.sep, "/")
