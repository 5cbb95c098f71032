"""`missing-start-file`: the start command names a file Node reads before any module, and it is not there:
`node --env-file=.env` exits 9 with `node: .env: not found`. Node 20 and 22 read every `--env-file` on their
command line, after the script's name as well, up to a `--`. A file a deploy target keeps in `shared` is
linked into each release, so it counts as present. (`--env-file-if-exists` never fails; `-r`/`--import`
preloads are imports of the file holding the command and go through the other rules.)"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Sequence

from deploysafe.check.findings import Finding, Severity
from deploysafe.check.rules import Rule

ID = "missing-start-file"
_RUNNERS = ("node", "nodejs")


class MissingStartFileRule(Rule):
    id = ID
    summary = "The start command names a file Node reads before any module (`--env-file`), and it is missing."
    predicts = "`node: .env: not found`: node exits 9 before loading anything"
    help = (
        "Create the file on the host (list it in the target's `shared` so each release links it), or use "
        "`--env-file-if-exists` (Node 22.9+) when the variables may come from elsewhere."
    )


def env_files(command: str) -> list[str]:
    """The `--env-file` values node reads in ``command`` (each part of a && chain): all of them, before and
    after the script's name, up to a `--` (what follows it is the script's alone)."""
    found: list[str] = []
    for part in re.split(r"&&|\|\||;", command):
        try:
            words = shlex.split(part)
        except ValueError:
            continue
        runner = next((i for i, w in enumerate(words) if os.path.basename(w) in _RUNNERS), None)
        if runner is None:
            continue
        args = words[runner + 1 :]
        for i, arg in enumerate(args):
            if arg == "--":
                break
            if arg.startswith("--env-file="):
                found.append(arg.partition("=")[2])
            elif arg == "--env-file" and i + 1 < len(args):
                found.append(args[i + 1])
    return found


def missing_start_files(root: str, commands: Iterable[tuple[str, str]], shared: Sequence[str], locate) -> list[Finding]:
    """Findings for each (command, file holding it) whose `--env-file` is neither on disk nor shared."""
    found: list[Finding] = []
    seen: set[str] = set()
    kept = {os.path.normpath(s) for s in shared}
    for command, holder in commands:
        for name in env_files(command):
            rel = os.path.normpath(name)
            if rel in seen or os.path.isfile(os.path.join(root, rel)) or rel in kept:
                continue
            seen.add(rel)
            line, column = locate(os.path.join(root, holder), "--env-file")
            message = (
                f"crashes at start: node: {name}: not found — `{command}` reads {name} before loading anything "
                "and exits 9; create it on the host (a target's `shared` file) or use --env-file-if-exists"
            )
            found.append(Finding(ID, Severity.ERROR, holder, line, column, message, True, (), name))
    return found
