"""The command-line surface: argument parsing, output choice, exit codes. No logic lives here.

Each command is a module of its own in this package and registers itself on :data:`main`.
Exit codes: 0 success/deployable, 1 blocked or failed, 2 usage or configuration error.
"""

from __future__ import annotations

from deploysafe.cli.app import main

__all__ = ["main"]
