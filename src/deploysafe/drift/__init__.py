"""Drift: ROOT against what production runs, every difference judged by ROOT's import graph.

- Inventories (relative path, size and sha256 of every file, skipping node_modules, VCS folders and
  configured globs): :mod:`.local` (a directory), :mod:`.archive` (a .tar.gz/.tar/.zip), :mod:`.remote`
  (a directory on an SSH host, hashed there); :mod:`.sources` opens what ``--against`` names;
  :mod:`.model` holds the records.
- The comparison: :mod:`.compare` (``drift()``, ``pull_needed()``), using :mod:`.worktree` and
  :mod:`.overlay` for the scratch tree it checks.

    from deploysafe.drift import Skip, drift, inventory_directory, open_source
    local = inventory_directory("api", Skip(["logs/"]))
    tree, info = open_source("ssh://deploy@app1/srv/api", config={})
    try:
        production = tree.inventory()
    finally:
        tree.close()
    report = drift("api", against="production")
"""

from __future__ import annotations

from deploysafe.drift.archive import ArchiveTree, inventory_archive, is_archive
from deploysafe.drift.compare import (
    Changed,
    CompareError,
    DriftReport,
    LocalOnly,
    Needed,
    PullResult,
    SourceOnly,
    drift,
    pull_needed,
)
from deploysafe.drift.local import inventory_directory, sha256_of
from deploysafe.drift.model import (
    Inventory,
    InventoryError,
    InventoryFile,
    Problem,
    ProgressFn,
    Skip,
    display,
    is_code,
)
from deploysafe.drift.sources import SourceInfo, Tree, open_source

__all__ = [
    "ArchiveTree",
    "Changed",
    "CompareError",
    "DriftReport",
    "Inventory",
    "InventoryError",
    "InventoryFile",
    "LocalOnly",
    "Needed",
    "Problem",
    "ProgressFn",
    "PullResult",
    "Skip",
    "SourceInfo",
    "SourceOnly",
    "Tree",
    "display",
    "drift",
    "inventory_archive",
    "inventory_directory",
    "is_archive",
    "is_code",
    "open_source",
    "pull_needed",
    "sha256_of",
]
