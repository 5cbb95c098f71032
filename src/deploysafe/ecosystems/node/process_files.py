"""The apps of a PM2 process file written in JavaScript, read once per content.

What :func:`~deploysafe.ecosystems.node.parse.literals.object_properties` finds (each app's ``script``) is
kept in the cache directory (``process-files.json`` beside the facts cache) by the file's sha256 and the
parser's version, so a check of a project whose ecosystem.config.js did not change does not load the
tree-sitter grammars (about a sixth of a small check's start). A cache that cannot be read or written only
costs a parse.
"""

from __future__ import annotations

import hashlib

from deploysafe.ecosystems.node import kept
from deploysafe.ecosystems.node.parse.properties import Property

FILE = "process-files.json"


def script_properties(source: bytes) -> list[Property]:
    """Every ``script: ...`` property of an object literal in ``source``, from the cache when it was read before."""
    from deploysafe.ecosystems.node.parse.version import parser_version

    key = f"{parser_version()}:{hashlib.sha256(source).hexdigest()}"
    known = kept.read(FILE)
    rows = known.get(key)
    if isinstance(rows, list):
        try:
            return [Property(*row) for row in rows]
        except TypeError:  # written by another layout: read the file again
            pass
    from deploysafe.ecosystems.node.parse.literals import object_properties

    found = object_properties(source, "script")
    known.pop(key, None)  # the newest last
    known[key] = [[p.key, p.value, p.expression, p.line, p.siblings] for p in found]
    kept.write(FILE, known)
    return found
