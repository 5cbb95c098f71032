"""Project root discovery, as git and npm find theirs: from any folder inside a project, upward.

The root is the nearest folder (the start included) holding ``deploysafe.toml``; else the nearest holding
``package.json`` — but when that one has no lockfile beside it and a folder above holds both a package.json
and a lockfile (``src/package.json`` saying only ``"type": "module"``), the one beside the lockfile, unless
the nearer package is one of its workspaces (package.json ``workspaces`` or pnpm-workspace.yaml: a workspace
package is a project of its own). The walk stops
at the repository's top (a folder holding ``.git``), the home folder and the system's temporary folder,
never looking at or above them but for ``.git``'s own folder. Nothing found: the start is the root.

:func:`discover` returns the root with the one-line reason every report prints.
"""

from __future__ import annotations

import json
import os
import sys
from fnmatch import fnmatch
from pathlib import Path
from typing import NamedTuple

from deploysafe.config import CONFIG_NAME

__all__ = ["LOCKFILES", "Root", "discover"]

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock")


class Root(NamedTuple):
    """The project root found from ``start``, and why it is the root. (A named tuple: as immutable as a frozen
    dataclass, and about a millisecond cheaper to define for every command that reads a project.)"""

    path: Path
    reason: str
    start: Path

    @property
    def moved(self) -> bool:
        """True when the root is not the folder the search started from."""
        return self.path != self.start


def discover(start: str | os.PathLike[str] = ".") -> Root:
    """The project root for a command run in (or given) ``start``; ``start`` itself must be a folder."""
    here = Path(os.path.realpath(start))
    chain = _upward(here)
    for folder in chain:
        if (folder / CONFIG_NAME).is_file():
            return Root(folder, f"nearest folder with {CONFIG_NAME}", here)
    packages = [f for f in chain if (f / "package.json").is_file()]
    if not packages:
        return Root(here, f"no {CONFIG_NAME} or package.json here or above", here)
    nearest = packages[0]
    if _lockfile(nearest):
        return Root(nearest, f"nearest folder with package.json, beside {_lockfile(nearest)}", here)
    for above in packages[1:]:
        lock = _lockfile(above)
        if lock and not _is_workspace(above, nearest):
            rel = nearest.relative_to(above).as_posix()
            return Root(above, f"package.json beside {lock}; {rel}/package.json has no lockfile", here)
    return Root(nearest, "nearest folder with package.json", here)


def _upward(start: Path) -> list[Path]:
    """``start`` and its parents up to the repository top (included), stopping below home and tmp."""
    stops = {Path(os.path.realpath(p)) for p in (str(Path.home()), *_temporary_folders(), "/")}
    chain: list[Path] = []
    for folder in (start, *start.parents):
        if folder in stops and folder != start:
            break
        chain.append(folder)
        if (folder / ".git").exists():
            break
    return chain


def _temporary_folders() -> list[str]:
    """The places tempfile.gettempdir() picks from, without importing tempfile nor its test of each by
    writing a file there (a sixth of the root search's cost)."""
    chosen = getattr(sys.modules.get("tempfile"), "tempdir", None)
    if isinstance(chosen, str):
        return [chosen]
    named = [os.environ[name] for name in ("TMPDIR", "TEMP", "TMP") if os.environ.get(name)]
    return [*named, "/tmp", "/var/tmp", "/usr/tmp"]


def _lockfile(folder: Path) -> str | None:
    return next((name for name in LOCKFILES if (folder / name).is_file()), None)


def _is_workspace(top: Path, package: Path) -> bool:
    """True when ``package`` is matched by ``top``'s package.json ``workspaces`` (npm and yarn forms)."""
    try:
        manifest = json.loads((top / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    workspaces = manifest.get("workspaces") if isinstance(manifest, dict) else None
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    patterns = [p for p in workspaces if isinstance(p, str)] if isinstance(workspaces, list) else []
    patterns += _pnpm_workspaces(top)
    rel = package.relative_to(top).as_posix()
    return any(fnmatch(rel, p.removeprefix("./").rstrip("/")) for p in patterns)


def _pnpm_workspaces(top: Path) -> list[str]:
    """The ``packages:`` list of pnpm-workspace.yaml (one quoted or bare glob a line; ``!`` ones skipped)."""
    try:
        lines = (top / "pnpm-workspace.yaml").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    globs: list[str] = []
    inside = False
    for line in lines:
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if not text.startswith((" ", "\t", "-")):
            inside = text.strip() == "packages:"
            continue
        item = text.strip()
        if inside and item.startswith("-"):
            glob = item[1:].strip().strip("'\"")
            if glob and not glob.startswith("!"):
                globs.append(glob)
    return globs
