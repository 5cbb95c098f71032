"""The apps of a PM2 process file written in JavaScript, read once per content.

What :func:`~deploysafe.ecosystems.node.parse.literals.object_properties` finds (each app's ``script``) is
kept in the cache directory (``process-files.json`` beside the facts cache) by the file's sha256 and the
parser's version, so a check of a project whose ecosystem.config.js did not change does not load the
tree-sitter grammars (about a sixth of a small check's start). A cache that cannot be read or written only
costs a parse.
"""

from __future__ import annotations

import hashlib
import json
import os

from deploysafe.ecosystems.node.parse.properties import Property

FILE = "process-files.json"
KEPT = 64  # process files kept, the newest


def script_properties(source: bytes) -> list[Property]:
    """Every ``script: ...`` property of an object literal in ``source``, from the cache when it was read before."""
    from deploysafe.ecosystems.node.parse.version import parser_version

    key = f"{parser_version()}:{hashlib.sha256(source).hexdigest()}"
    known = _known()
    rows = known.get(key)
    if isinstance(rows, list):
        try:
            return [Property(*row) for row in rows]
        except TypeError:  # written by another layout: read the file again
            pass
    from deploysafe.ecosystems.node.parse.literals import object_properties

    found = object_properties(source, "script")
    known[key] = [[p.key, p.value, p.expression, p.line, p.siblings] for p in found]
    _write(known)
    return found


def _path() -> str:
    from deploysafe.check.cache import default_cache_dir

    return os.path.join(default_cache_dir(), FILE)


def _known() -> dict[str, object]:
    try:
        with open(_path(), encoding="utf-8") as handle:
            known = json.load(handle)
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _write(known: dict[str, object]) -> None:
    path = _path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(dict(list(known.items())[-KEPT:]), handle)
        os.replace(temporary, path)  # whole or not at all, for a check running beside this one
    except OSError:
        pass
