"""Inventory of a directory on this machine: list first, then hash each file in one pass.

Symlinks to files are followed (a release links ``.env`` from ``shared/``); symlinks to directories are
not (``uploads/`` can be anything), the same rule the remote inventory uses. A file that vanishes between
the listing and its hashing, or cannot be read, becomes a :class:`Problem`, never an exception.
One thread on purpose: OpenSSL's sha256 is faster than coreutils', and threads only add GIL traffic.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time

from deploysafe.drift.model import Inventory, InventoryError, InventoryFile, ProgressFn, Skip, display

_SMALL = 1 << 20
_CHUNK = 1 << 20


class NotRegular(OSError):
    """The path is no longer a regular file (replaced by a FIFO, a device or a directory)."""


def sha256_of(path: str | bytes) -> tuple[int, str]:
    """(bytes read, sha256 hex) of a regular file, without blocking on a FIFO swapped in."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(0, "not a regular file")
        if info.st_size <= _SMALL:
            data = b""
            while chunk := os.read(fd, _SMALL + 1):
                data += chunk
            return len(data), hashlib.sha256(data).hexdigest()
        digest = hashlib.sha256()
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        size = 0
        while n := os.readv(fd, [buffer]):
            digest.update(view[:n])
            size += n
        return size, digest.hexdigest()
    finally:
        os.close(fd)


def describe_error(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "vanished during the scan (deleted or renamed while deploysafe read the tree)"
    if isinstance(err, PermissionError):
        return "permission denied: cannot read it"
    if isinstance(err, NotRegular):
        return "no longer a regular file"
    return f"cannot read: {err.strerror or err}"


def list_directory(root: str, skip: Skip, inventory: Inventory) -> list[str]:
    """Relative paths of the regular files under ``root`` (sorted), pruning skipped folders."""
    found: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        here = os.path.join(root, rel_dir) if rel_dir else root
        try:
            with os.scandir(here) as it:
                entries = list(it)
        except FileNotFoundError:
            inventory.problem(rel_dir or ".", "folder vanished during the scan")
            continue
        except OSError as err:
            inventory.problem(rel_dir or ".", f"cannot list folder: {err.strerror or err}")
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name == "node_modules":
                        inventory.node_modules.append(rel)
                    if not skip.directory(entry.name, rel):
                        stack.append(rel)
                    continue
                if not entry.is_file() or skip.file(rel):
                    continue  # sockets, FIFOs, dangling links, links to folders; skipped files
            except OSError as err:
                inventory.problem(rel, describe_error(err))
                continue
            found.append(rel)
    found.sort()
    return found


def inventory_directory(
    root: str | os.PathLike[str], skip: Skip | None = None, progress: ProgressFn | None = None
) -> Inventory:
    """Every file under ``root`` with its size and sha256."""
    path = os.fspath(root)
    if not os.path.isdir(path):
        raise InventoryError(
            f"{display(path)}: no such directory" if not os.path.exists(path) else f"{path}: not a directory"
        )
    inventory = Inventory(location=path, tool="python", directory=os.path.realpath(path))
    label = f"hashing {display(path)}"
    names = list_directory(path, skip or Skip(), inventory)
    total = len(names)
    if progress is not None:
        progress(label, 0, total)  # the listing is done: the total is known before hashing starts
    last = time.monotonic()
    for done, rel in enumerate(names, 1):
        full = os.path.join(path, rel)
        try:
            size, digest = sha256_of(full)
        except FileNotFoundError as err:
            inventory.problem(rel, describe_error(err))
            continue
        except OSError as err:
            inventory.problem(rel, describe_error(err))
            inventory.add(InventoryFile(rel, _size_or_zero(full), None))
            continue
        inventory.add(InventoryFile(rel, size, digest))
        if progress is not None and (done == total or time.monotonic() - last > 0.1):
            last = time.monotonic()
            progress(label, done, total)
    return inventory


def read_files(root: str, paths: list[str]) -> dict[str, bytes]:
    """The bytes of ``paths`` under ``root`` (those that can still be read)."""
    out: dict[str, bytes] = {}
    for rel in paths:
        try:
            with open(os.path.join(root, rel), "rb") as handle:
                out[rel] = handle.read()
        except OSError:
            continue
    return out


def _size_or_zero(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
