"""Which files are Node's: the sources the check parses, what a scan skips, and what never runs."""

from __future__ import annotations

import os

from deploysafe.check.scan import VCS_AND_TOOL_DIRS

DEPENDENCY_DIRS = frozenset({"node_modules"})
ALWAYS_SKIPPED_DIRS = VCS_AND_TOOL_DIRS | DEPENDENCY_DIRS
SOURCE_EXTENSIONS = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")
# Files that are source code but never part of a running service: tool configs and tests. They are not
# listed as dormant (a file an entry does import is still checked and packed, whatever its name).
DEFAULT_EXCLUDES = (
    "*.config.js",
    "*.config.cjs",
    "*.config.mjs",
    "*.config.ts",
    "*.config.mts",
    "*.config.cts",
    ".*rc.js",
    ".*rc.cjs",
    "*.test.*",
    "*.spec.*",
    "__tests__/",
    "__mocks__/",
    "/test/",
    "/tests/",
    # Yarn Plug'n'Play's runtime and cache: read at start, never the service's own code (see pnp.py)
    ".pnp.cjs",
    ".pnp.loader.mjs",
    ".yarn/",
)


def is_source(name: str) -> bool:
    return name.endswith(SOURCE_EXTENSIONS) and not name.endswith(DECLARATION_SUFFIXES)


def is_project_file(path: str) -> bool:
    """A file of the project itself, not of an installed package."""
    return f"{os.sep}node_modules{os.sep}" not in path
