"""Which Node version the checks assume, and which loader behaviours that version has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nodesemver


from deploysafe.check.ecosystem import RuntimeChoice

_VERSION = re.compile(r"v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?")


@dataclass(frozen=True, slots=True)
class NodeVersion:
    major: int
    minor: int
    patch: int
    source: str  # why this version: "package.json engines.node '>=20'", "local node --version", ...

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def at_least(self, *lines: tuple[int, int]) -> bool:
        """True when this version has a feature that landed in each release line at the given minor,
        e.g. ``at_least((20, 19), (22, 12))``; release lines above the highest one listed have it."""
        highest = max(major for major, _ in lines)
        if self.major > highest:
            return True
        for major, minor in lines:
            if self.major == major:
                return self.minor >= minor
        return False

    @property
    def detects_module_syntax(self) -> bool:
        """A typeless .js file with import/export is re-parsed as ESM (unflagged in 20.19 and 22.7)."""
        return self.at_least((20, 19), (22, 7))

    @property
    def requires_esm(self) -> bool:
        """require() of an ES module works without a flag (20.19, 22.12)."""
        return self.at_least((20, 19), (22, 12))

    @property
    def module_sync_condition(self) -> bool:
        """The "module-sync" export condition is active: with require(esm), so unflagged in 20.19 and 22.12
        (22.10 and 22.11 have it only under --experimental-require-module)."""
        return self.at_least((20, 19), (22, 12))

    def conditions(self, for_require: bool) -> frozenset[str]:
        base = {"node", "default", "require" if for_require else "import"}
        if self.module_sync_condition:
            base.add("module-sync")
        return frozenset(base)


def parse_version(text: str, source: str) -> NodeVersion | None:
    match = _VERSION.fullmatch(text.strip())
    if not match:
        return None
    return NodeVersion(int(match[1]), _num(match[2]), _num(match[3]), source)


def lowest_in_range(spec: str, source: str) -> NodeVersion | None:
    """The lowest version an npm semver range admits (npm's ``semver.minVersion``), or None when the range
    admits none, has no lower bound (``*``, ``<20``: npm says 0.0.0, no Node to check against) or is not a
    range npm reads. A prerelease bound (``>=20.0.0-rc.1``) counts as its release line.

    The range is parsed by node-semver (a port of npm's own), and the walk below is ``minVersion``'s."""
    lowest = _min_version(spec)
    if lowest is None or (lowest.major, lowest.minor, lowest.patch) == (0, 0, 0):
        return None
    return NodeVersion(lowest.major, lowest.minor, lowest.patch, source)


def admits(spec: str, version: str) -> bool | None:
    """Whether the npm range ``spec`` admits ``version`` ("v20.11.1" or "10.2.4"); None when either does not
    read as npm reads it."""
    import nodesemver

    try:
        admitted = nodesemver.make_range(spec, False)
        return bool(admitted.test(nodesemver.make_semver(version.strip().removeprefix("v"), False)))
    except (ValueError, TypeError):
        return None


def _min_version(spec: str) -> nodesemver.SemVer | None:
    import nodesemver  # only a project with engines.node pays for loading npm's range grammar

    try:
        admitted = nodesemver.make_range(spec, False)
    except (ValueError, TypeError):
        return None
    for floor in ("0.0.0", "0.0.0-0"):
        candidate = nodesemver.make_semver(floor, False)
        if admitted.test(candidate):
            return candidate
    lowest: nodesemver.SemVer | None = None
    for comparators in admitted.set:
        set_min: nodesemver.SemVer | None = None
        for comparator in comparators:
            if comparator.semver is nodesemver.ANY or comparator.operator in ("<", "<="):
                continue
            bound = nodesemver.make_semver(comparator.semver.version, False)
            if comparator.operator == ">":
                if bound.prerelease:
                    bound = nodesemver.make_semver(f"{bound.version}.0", False)
                else:
                    bound = nodesemver.make_semver(f"{bound.major}.{bound.minor}.{bound.patch + 1}", False)
            if set_min is None or nodesemver.gt(bound, set_min, False):
                set_min = bound
        if set_min is not None and (lowest is None or nodesemver.gt(lowest, set_min, False)):
            lowest = set_min
    return lowest if lowest is not None and admitted.test(lowest) else None


@lru_cache(maxsize=1)
def local_node() -> NodeVersion | None:
    """What `node --version` says for the node on PATH (kept per node binary, see local_node.py)."""
    from deploysafe.ecosystems.node.local_node import run_node

    out = run_node(["--version"], timeout=20)
    return parse_version(out.strip(), "local node --version") if out is not None else None


def assume(
    explicit: str | RuntimeChoice | None,
    configured: str | None,
    engines: str | None,
    engines_from: str = "package.json",
) -> NodeVersion:
    """The version to check against: --node (or the deploy target's recorded version), then deploysafe.toml
    [check] node, then package.json engines.node (its lowest admitted version), then the local node, then
    Node 20.0.0. A --node or [check] node that is not a version raises ConfigError (a recorded version that
    does not parse is passed over: the target's record is not the user's to fix)."""
    if isinstance(explicit, RuntimeChoice):
        version = parse_version(explicit.version, explicit.source)
        if version:
            return version
        explicit = None
    if explicit:
        return _given(explicit, "--node")
    if configured:
        return _given(configured, "deploysafe.toml [check] node")
    if engines:
        version = lowest_in_range(engines, f"lowest version {engines_from} engines.node '{engines}' admits")
        if version:
            return version
    return local_node() or NodeVersion(20, 0, 0, "default (no node found, no engines.node)")


def _given(text: str, source: str) -> NodeVersion:
    """A version someone wrote: one that is not a version is an error, never passed over for another."""
    version = parse_version(text, source)
    if version is None:
        from deploysafe.errors import ConfigError

        raise ConfigError(f"{source} {text!r} is not a Node version: give one like 20, 20.19 or v20.19.1")
    return version


def _num(part: str | None) -> int:
    return int(part) if part and part.isdigit() else 0
