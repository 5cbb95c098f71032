"""Answers kept between runs in one small JSON file of the cache directory (beside the facts cache), the
newest :data:`KEPT` of them: what the local node said about itself, the apps of a PM2 process file. A file
is written whole or not at all (a check running beside this one reads the old one or the new one); one that
cannot be read is empty, one that cannot be written only costs asking again."""

from __future__ import annotations

import json
import os

KEPT = 64  # answers kept, the newest


def read(name: str) -> dict[str, object]:
    """The answers in the cache directory's file ``name`` ({} when there is none or it cannot be read)."""
    try:
        with open(_path(name), encoding="utf-8") as handle:
            known = json.load(handle)
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def write(name: str, known: dict[str, object]) -> None:
    """``known`` (its newest :data:`KEPT` entries, the last inserted) as the file ``name``."""
    path = _path(name)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(dict(list(known.items())[-KEPT:]), handle)
        os.replace(temporary, path)
    except OSError:
        pass


def _path(name: str) -> str:
    from deploysafe.check.cache import default_cache_dir

    return os.path.join(default_cache_dir(), name)
