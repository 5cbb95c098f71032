"""Adding a file to a tree the user owns: never outside it, never over a file that is there unless asked.

The bytes go to a temporary name first, then take their place with a hard link (which fails when a file
appeared meanwhile) or, with ``overwrite``, an atomic rename. A reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import os

from deploysafe.drift.model import safe_relative

WRITTEN = "written"
ALREADY = "already"  # the same bytes are there: nothing to do


def add_file(root: str, rel: str, data: bytes, *, overwrite: bool = False) -> str:
    """Put ``data`` at ``root/rel``: :data:`WRITTEN`, :data:`ALREADY`, or why it was not written."""
    if safe_relative(rel) != rel or not rel:
        return "not a plain relative path; refused"
    root = os.path.realpath(root)
    dest = os.path.join(root, rel)
    parent = os.path.dirname(dest)
    if not _inside(root, _existing_ancestor(parent)):
        return "its folder leads outside ROOT through a symlink"
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as err:
        return f"cannot create its folder: {err.strerror or err}"
    if os.path.lexists(dest):
        if _same_bytes(dest, data):
            return ALREADY
        if not overwrite:
            return "a local file is already there (pass --overwrite to replace it)"
    tmp = os.path.join(parent, f".{os.path.basename(dest)}.deploysafe-{os.getpid()}-{os.urandom(3).hex()}")
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, dest)
        else:
            _link_or_create(tmp, dest, data)
    except FileExistsError:
        return "a local file appeared there meanwhile; not replaced"
    except OSError as err:
        return f"cannot write it: {err.strerror or err}"
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return WRITTEN


def _link_or_create(tmp: str, dest: str, data: bytes) -> None:
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: exclusive create is still exclusive
        with open(dest, "xb") as handle:
            handle.write(data)


def _existing_ancestor(path: str) -> str:
    while not os.path.lexists(path):
        up = os.path.dirname(path)
        if up == path:
            break
        path = up
    return os.path.realpath(path)


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _same_bytes(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(data) + 1) == data
    except OSError:
        return False
