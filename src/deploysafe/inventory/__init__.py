"""File inventories: relative path, size and sha256 of every file in a directory, an archive or a
directory on an SSH host, skipping node_modules, VCS folders and configured globs.

    from deploysafe.inventory import Skip, inventory_directory, open_source
    local = inventory_directory("api", Skip(["logs/"]))
    tree, info = open_source("ssh://deploy@app1/srv/api", config={})
    try:
        production = tree.inventory()
    finally:
        tree.close()
"""

from __future__ import annotations

from deploysafe.inventory.archive import ArchiveTree, inventory_archive, is_archive
from deploysafe.inventory.local import inventory_directory, sha256_of
from deploysafe.inventory.model import (
    FileRecord,
    Inventory,
    InventoryError,
    Problem,
    ProgressFn,
    Skip,
    display,
    is_code,
)
from deploysafe.inventory.sources import SourceInfo, Tree, open_source

__all__ = [
    "ArchiveTree",
    "FileRecord",
    "Inventory",
    "InventoryError",
    "Problem",
    "ProgressFn",
    "Skip",
    "SourceInfo",
    "Tree",
    "display",
    "inventory_archive",
    "inventory_directory",
    "is_archive",
    "is_code",
    "open_source",
    "sha256_of",
]
