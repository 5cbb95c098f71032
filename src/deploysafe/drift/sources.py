"""SOURCE as the user names it: a directory, an archive, ``ssh://user@host[:port]/path`` or a
``[targets.NAME]`` of deploysafe.toml. A deployed layout (``current`` beside ``releases/``) is read
through ``current``; otherwise the plain tree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from deploysafe.config import Config, as_config
from deploysafe.drift.archive import ArchiveTree, is_archive
from deploysafe.drift.local import inventory_directory, read_files
from deploysafe.drift.model import Inventory, InventoryError, ProgressFn, Skip, display
from deploysafe.errors import ConfigError
from deploysafe.hosts.locate import Location, of_table, of_url


class Tree(Protocol):
    """Something with files: inventory it once, then read the bytes of chosen files."""

    location: str

    def inventory(self, progress: ProgressFn | None = None) -> Inventory: ...
    def read(self, paths: list[str], progress: ProgressFn | None = None) -> dict[str, bytes]: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceInfo:
    kind: str  # directory | archive | ssh
    location: str  # as given, resolved: a path, an ssh:// URL
    label: str  # what the text report calls it: "production", "prod.tar.gz", "app1.example.com"
    target: str | None = None  # the [targets.NAME] it came from


class DirectoryTree:
    def __init__(self, path: str, skip: Skip) -> None:
        self.location = path
        self.skip = skip
        self.directory = path

    def inventory(self, progress: ProgressFn | None = None) -> Inventory:
        release = _deployed_release(self.location)
        if release is not None:
            self.directory = os.path.realpath(os.path.join(self.location, "current"))
        found = inventory_directory(self.directory, self.skip, progress)
        found.location = self.location
        found.release = release
        return found

    def read(self, paths: list[str], progress: ProgressFn | None = None) -> dict[str, bytes]:
        return read_files(self.directory, paths)

    def close(self) -> None:
        pass


class ArchiveSource(ArchiveTree):
    location: str

    def __init__(self, path: str, skip: Skip) -> None:
        super().__init__(path, skip)
        self.location = path

    def close(self) -> None:
        pass


class SshSource:
    def __init__(self, where: Location, keys: dict[str, Any], skip: Skip) -> None:
        from deploysafe.drift.remote import SshTree
        from deploysafe.hosts import SshHost

        assert where.ssh is not None
        self.location = where.url
        self._target = SshHost(where.ssh, **keys)
        self._tree = SshTree(self._target, where.path, skip)

    def inventory(self, progress: ProgressFn | None = None) -> Inventory:
        return self._tree.inventory(progress)

    def read(self, paths: list[str], progress: ProgressFn | None = None) -> dict[str, bytes]:
        return self._tree.read(paths, progress)

    def close(self) -> None:
        self._target.close()


def open_source(
    against: str,
    *,
    config: Config | dict[str, Any] | None = None,
    skip: Skip | None = None,
    known_hosts: str | None = None,
    identity: str | None = None,
    trust_new_host_key: bool | None = None,
) -> tuple[Tree, SourceInfo]:
    """The tree SOURCE names, opened (an SSH source is connected), and how to describe it."""
    skip = skip or Skip()
    loaded = as_config(config if config is not None else {})
    targets = loaded.targets
    if against in targets or against.startswith("ssh://"):
        table = targets.get(against)
        where = of_table(table.host, table.path) if table is not None else of_url(against)
        given = {"known_hosts": known_hosts, "identity": identity, "trust_new_host_key": trust_new_host_key}
        keys: dict[str, Any] = {k: getattr(table, k, None) for k in given} | {
            k: v for k, v in given.items() if v is not None
        }
        keys["trust_new_host_key"] = bool(keys["trust_new_host_key"])
        name = against if table is not None else None
        if where.ssh is None:
            if not os.path.isdir(where.path):
                raise InventoryError(f"[targets.{against}] path {display(where.path)}: no such directory")
            return DirectoryTree(where.path, skip), SourceInfo("directory", where.path, against, name)
        label = name or where.ssh.host
        return SshSource(where, keys, skip), SourceInfo("ssh", where.url, label, name)
    if "://" in against:
        raise ConfigError(f"--against {against}: expected a directory, an archive, ssh://... or a [targets] name")
    path = os.path.abspath(os.path.expanduser(against))
    if os.path.isdir(path):
        return DirectoryTree(path, skip), SourceInfo("directory", path, os.path.basename(path) or path)
    if os.path.isfile(path):
        if not is_archive(path):
            raise ConfigError(f"--against {against}: not a directory or a .tar.gz/.tgz/.tar/.zip archive")
        return ArchiveSource(path, skip), SourceInfo("archive", path, os.path.basename(path))
    hint = f" (known targets: {', '.join(sorted(targets))})" if targets else ""
    raise ConfigError(f"--against {against}: no such directory, archive or [targets] name{hint}")


def _deployed_release(path: str) -> str | None:
    """The release ``current`` names when ``path`` is a deployed layout, else None."""
    current = os.path.join(path, "current")
    if os.path.islink(current) and os.path.isdir(os.path.join(path, "releases")) and os.path.isdir(current):
        return os.readlink(current)
    return None
