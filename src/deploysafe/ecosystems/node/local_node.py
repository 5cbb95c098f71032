"""What the node on PATH says about itself (its version, its builtin modules' exports), asked once per node.

Starting node costs more than the rest of a small check, so each answer is kept in the cache directory
(``node-answers.json`` beside the facts cache), by the binary's identity — its real path, size,
modification time and inode — and by the question asked: another node, the same path upgraded, or a new
deploysafe asking otherwise asks node again. A cache that cannot be read or written only costs a node start.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil

from deploysafe.ecosystems.node import kept

FILE = "node-answers.json"


def run_node(args: list[str], timeout: float = 30) -> str | None:
    """Standard output of ``node ARGS`` for the node on PATH, from the cache when this node was asked
    exactly this before; None when there is no node or it failed to run."""
    node = shutil.which("node")
    if node is None:
        return None
    try:
        real = os.path.realpath(node)
        st = os.stat(real)
    except OSError:
        return None
    question = hashlib.sha256(json.dumps(args).encode()).hexdigest()[:16]
    key = f"{real}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{question}"
    known = _known()
    if key in known:
        return known[key]
    import subprocess  # only when node is asked: most checks find every answer kept

    try:
        done = subprocess.run([node, *args], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    _remember(key, done.stdout)
    return done.stdout


def _known() -> dict[str, str]:
    return {k: v for k, v in kept.read(FILE).items() if isinstance(v, str)}


def _remember(key: str, answer: str) -> None:
    kept.write(FILE, {**_known(), key: answer})
