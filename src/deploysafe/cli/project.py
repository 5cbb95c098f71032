"""The project a command works on: ROOT (or the current folder) widened to its project root.

Every command that reads a project (check, why, graph, pack, drift, deploy of a tree) and every command that
reads deploysafe.toml for its targets calls :func:`project_root`, so that a command run from ``src/`` judges
the same service with the same entries as one run from the root (:mod:`deploysafe.rootfind` says how the
root is found). ``--entry`` files named from a subfolder are taken relative to where the user stands.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from deploysafe.rootfind import Root, discover

__all__ = ["project_root", "rebased_entries", "say_root"]


def project_root(given: str | os.PathLike[str] = ".") -> Root | None:
    """The project root for ``given``; None when ``given`` is not a folder (the command says why)."""
    try:
        if not Path(given).is_dir():
            return None
    except OSError:
        return None
    return discover(given)


def rebased_entries(found: Root | None, entries: tuple[str, ...]) -> tuple[str, ...]:
    """``--entry`` values relative to the found root: an entry that exists below the start folder is the one
    meant, as git takes paths relative to where it runs; others stay relative to the root."""
    if found is None or not found.moved:
        return entries
    rebased = []
    for entry in entries:
        beside = found.start / entry
        if not os.path.isabs(entry) and beside.exists():
            rebased.append(os.path.relpath(beside, found.path).replace(os.sep, "/"))
        else:
            rebased.append(entry)
    return tuple(rebased)


def say_root(found: Root | None) -> None:
    """One line on stderr when the root is not the folder the command was pointed at."""
    if found is not None and found.moved:
        click.echo(f"root {found.path} ({found.reason})", err=True)
