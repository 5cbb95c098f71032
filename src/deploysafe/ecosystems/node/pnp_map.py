"""Yarn Plug'n'Play's map, read as its runtime reads it: which package a file belongs to, and where a bare
import of that package goes (Yarn's PnP specification, RESOLVE_TO_UNQUALIFIED).

The map is the JSON string `.pnp.cjs` embeds as `RAW_RUNTIME_STATE`, or `.pnp.data.json` beside it when Yarn
writes it apart (`pnpEnableInlining: false`). A package may import only what it declares
(`packageDependencies`); a dependency (never a workspace, which `fallbackExclusionList` names) that imports
an undeclared package falls back to the top-level dependencies and the `fallbackPool` when
`enableTopLevelFallback` is on (Yarn 4's default `pnpFallbackMode: dependencies-only`). A `null` reference is
a peer dependency no ancestor provides. A file no package location holds, or one `ignorePatternData`
matches, is resolved by Node's own node_modules lookup.

Package locations are folders relative to the map, inside zip archives (the project's `.yarn/cache` or Yarn's
global cache) or `.yarn/unplugged/`;
:mod:`~deploysafe.ecosystems.node.pnp_zip` makes an archive's folder readable. A map that cannot be read
gives None: the caller keeps its fallback (packages not verified, said once).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

DATA = ".pnp.data.json"
_STATE = re.compile(r"RAW_RUNTIME_STATE\s*=\s*'((?:[^'\\]|\\.)*)'", re.S)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


@dataclass(frozen=True, slots=True)
class Locator:
    name: str | None  # None for the top level
    reference: str | None


TOP = Locator(None, None)


@dataclass(frozen=True, slots=True)
class Package:
    location: str  # absolute folder, with a trailing separator; may lie inside a .zip archive
    dependencies: dict[str, Locator | None]  # name -> what it resolves to (None: an unprovided peer)


@dataclass(frozen=True, slots=True)
class Found:
    """The folder of the package a bare import names (absolute; may lie inside a .zip)."""

    location: str
    name: str  # the package's real name (an alias names another)


@dataclass(frozen=True, slots=True)
class Refused:
    """What the PnP runtime throws instead: an undeclared dependency or an unprovided peer."""

    detail: str
    peer: bool = False


class PnpMap:
    def __init__(self, folder: str, state: dict) -> None:
        self.folder = folder
        self.packages: dict[Locator, Package] = {}
        self.fallback_pool: dict[str, Locator | None] = {}
        self.top_level_fallback = bool(state.get("enableTopLevelFallback"))
        self.excluded: set[Locator] = set()
        self.ignore: re.Pattern[str] | None = None
        # Several locators may share a location (a package and its virtual instances): as in Yarn's
        # runtime, the last one not discarded from lookup owns it.
        owners: dict[str, tuple[Locator, bool]] = {}
        for name, versions in state.get("packageRegistryData") or []:
            for reference, info in versions:
                locator = Locator(name, reference)
                location = os.path.normpath(os.path.join(folder, info["packageLocation"])) + os.sep
                deps = {dep: _target(dep, ref) for dep, ref in info.get("packageDependencies") or []}
                self.packages[locator] = Package(location, deps)
                discard = bool(info.get("discardFromLookup"))
                known = owners.get(location)
                if known is None:
                    owners[location] = (locator, discard)
                else:
                    owners[location] = (known[0] if discard else locator, known[1] and discard)
        self._by_location = sorted(
            ((location, locator) for location, (locator, discard) in owners.items() if not discard),
            key=lambda item: -len(item[0]),
        )
        self.fallback_pool = {dep: _target(dep, ref) for dep, ref in state.get("fallbackPool") or []}
        for name, references in state.get("fallbackExclusionList") or []:
            self.excluded.update(Locator(name, ref) for ref in references)
        pattern = state.get("ignorePatternData")
        if pattern:
            try:
                self.ignore = re.compile(pattern)
            except re.error:
                self.ignore = None  # a JavaScript pattern Python cannot read: nothing is ignored

    def locator_of(self, path: str) -> Locator | None:
        """FIND_LOCATOR: the package whose location holds ``path`` (the deepest), or None outside the map."""
        rel = os.path.relpath(path, self.folder).replace(os.sep, "/")
        if self.ignore is not None and self.ignore.search(rel):
            return None
        probe = path if path.endswith(os.sep) else path + os.sep
        for location, locator in self._by_location:
            if probe.startswith(location):
                return locator
        return None

    def resolve(self, name: str, importer_dir: str) -> Found | Refused | None:
        """Where the package ``name`` imported from a file in ``importer_dir`` is, what PnP throws instead,
        or None when the importer is outside the map (Node's own lookup applies)."""
        issuer = self.locator_of(importer_dir)
        if issuer is None:
            return None
        package = self.packages.get(issuer)
        if package is None:
            return None
        if name in package.dependencies:
            target = package.dependencies[name]
        elif self.top_level_fallback and issuer not in self.excluded:
            top = self.packages.get(TOP)
            if top is not None and name in top.dependencies:
                target = top.dependencies[name]
            elif name in self.fallback_pool:
                target = self.fallback_pool[name]
            else:
                return Refused(_undeclared(name, issuer))
        else:
            return Refused(_undeclared(name, issuer))
        if target is None:
            who = issuer.name or "the project"
            return Refused(
                f"{who} tried to access {name} (a peer dependency) but it isn't provided by its ancestors", peer=True
            )
        found = self.packages.get(target)
        if found is None:
            return Refused(f"{name} ({target.reference}) is in no package entry of the PnP map: run yarn install")
        return Found(found.location, target.name or name)


def _target(name: str, reference: str | list | None) -> Locator | None:
    if reference is None:
        return None
    if isinstance(reference, list):  # an alias: [real name, reference]
        return Locator(reference[0], reference[1])
    return Locator(name, reference)


def _undeclared(name: str, issuer: Locator) -> str:
    who = issuer.name or "your application"
    return f"{who} tried to access {name}, but it isn't declared in its dependencies"


def load(folder: str) -> PnpMap | None:
    """The PnP map of the project in ``folder`` (which holds .pnp.cjs), or None when it cannot be read."""
    state = _read_state(folder)
    if state is None:
        return None
    try:
        return PnpMap(folder, state)
    except (KeyError, TypeError, ValueError):
        return None


def _read_state(folder: str) -> dict | None:
    """The state .pnp.cjs inlines, else the .pnp.data.json it reads."""
    try:
        with open(os.path.join(folder, ".pnp.cjs"), encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    match = _STATE.search(text)
    try:
        if match is not None:
            data = json.loads(_unquote(match.group(1)))
        elif DATA in text:
            with open(os.path.join(folder, DATA), encoding="utf-8") as handle:
                data = json.load(handle)
        else:
            return None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _unquote(body: str) -> str:
    """The value of a single-quoted JavaScript string literal's body."""
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt == "\n":
            i += 2  # a line continuation
        elif nxt == "\r":
            i += 3 if body[i + 2 : i + 3] == "\n" else 2
        elif nxt == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif nxt == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
    return "".join(out)
