"""Small real projects on disk, and the two judges that run on them: deploysafe and node itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def write_tree(root: Path, files: dict[str, str | bytes | dict]) -> Path:
    """Write ``files`` (relative path -> text, bytes, or a dict written as JSON) under ``root``."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            path.write_text(json.dumps(content, indent=2) + "\n")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def run_node(
    root: Path, entry: str, *args: str, timeout: float = 30, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Start real node on ``entry`` in ``root``; fixtures exit by themselves once loaded."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        ["node", *args, entry], cwd=root, capture_output=True, text=True, timeout=timeout, env=full_env
    )


def run_cli(
    *args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the real deploysafe command line in a child process."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "deploysafe", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def rules_of(report) -> list[tuple[str, str, str]]:
    """(rule, severity, file) of every finding, for compact assertions."""
    return [(f.rule, str(f.severity), f.file) for f in report.findings]
