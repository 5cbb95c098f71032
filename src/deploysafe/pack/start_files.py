"""Files the start command reads before any module that the release leaves out: `node --env-file=.env` with
a `.env` that is here but is a secret (or git-ignored), so the artifact has none. Unless a deploy target
keeps it in `shared` (linked into each release), node exits 9 on the host (`node: .env: not found`) before
loading anything. Pack says so as a warning with the fix; a file missing here too is check's
`missing-start-file` error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from deploysafe.ecosystems.node.rules.missing_start_file import env_files
from deploysafe.pack.select import Selection


def left_out(root: str, commands: Iterable[str], selection: Selection, shared: Sequence[str]) -> list[str]:
    """A warning for each `--env-file` of ``commands`` present here, not packed and not shared."""
    kept = {os.path.normpath(s) for s in shared}
    warnings: list[str] = []
    seen: set[str] = set()
    for command in commands:
        for name in env_files(command):
            rel = os.path.normpath(name)
            if rel in seen or rel.startswith(".."):
                continue
            seen.add(rel)
            packed = rel.replace(os.sep, "/")
            if packed in selection.files or rel in kept or not os.path.isfile(os.path.join(root, rel)):
                continue
            excluded = selection.excluded.get(packed)
            why = f"left out as a {excluded.reason}" if excluded else "not packed"
            warnings.append(
                f"`{command.strip()}` reads {name} before loading anything, and the release has none ({why}): "
                f'on the host node exits 9 (node: {name}: not found) unless {name} is there; add "{packed}" to '
                "the target's `shared` files in deploysafe.toml (and put it in the target's shared/ folder)"
            )
    return warnings
