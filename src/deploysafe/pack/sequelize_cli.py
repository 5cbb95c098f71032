"""What sequelize-cli reads when a start command runs it (``sequelize db:migrate && node index.js``,
``npx sequelize-cli db:migrate``): ``.sequelizerc`` in the working directory when there is one, and the
paths it names, else the CLI's defaults.

``.sequelizerc`` is JavaScript the CLI requires; its options are read as written, without running it:
``'migrations-path': path.resolve('db', 'migrations')``, ``path.join(__dirname, 'db', 'migrations')`` or a
plain string (all relative to the project root, where the CLI runs and where the file is). An option whose
value holds anything else (``process.env.X``) is named as unread, so the pack can say so.

The commands decide which paths count: ``db:migrate`` (and ``db:migrate:undo``…) reads the config and the
migrations; ``db:seed`` / ``db:seed:all`` the config and the seeders. Defaults: ``config/config.json``,
``migrations``, ``seeders``.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CliRead", "reads"]

RC = ".sequelizerc"
_RUNS = re.compile(r"\bsequelize(?:-cli)?(?:\.js)?\s+(db:(?:migrate|seed)\S*)")
_DEFAULTS = {"config": "config/config.json", "migrations-path": "migrations", "seeders-path": "seeders"}
_OPTION = re.compile(r"""['"]?(config|migrations-path|seeders-path)['"]?\s*:\s*((?:[^,\n}(]|\([^)]*\))+)""")
_LITERAL = re.compile(r"""'([^'\\]*)'|"([^"\\]*)\"""")
_PLAIN = re.compile(
    r"""^\s*(?:path\s*\.\s*)?(?:resolve|join)\s*\(\s*(?:__dirname\s*,\s*)?(?:['"][^'"]*['"]\s*,?\s*)*\)\s*$"""
)


@dataclass(frozen=True)
class CliRead:
    """A path sequelize-cli reads (relative to the root, ``/``-separated), the option that names it, and
    ``unread``: the option's source text when its value could not be read (``path`` is then empty)."""

    path: str
    option: str
    unread: str = ""


def reads(root: str, commands: Iterable[str]) -> list[CliRead]:
    """What the sequelize-cli commands among ``commands`` read; empty when none runs it."""
    actions = {match for command in commands for match in _RUNS.findall(command)}
    if not actions:
        return []
    wanted = ["config"]
    if any(action.startswith("db:migrate") for action in actions):
        wanted.append("migrations-path")
    if any(action.startswith("db:seed") for action in actions):
        wanted.append("seeders-path")
    options = _rc_options(root)
    found = [CliRead(RC, "the sequelize-cli settings")] if options is not None else []
    for option in wanted:
        value = (options or {}).get(option)
        if value is None:
            found.append(CliRead(_DEFAULTS[option], option))
            continue
        path = _path_of(value)
        found.append(CliRead(path, option) if path else CliRead("", option, unread=value.strip()))
    return found


def _rc_options(root: str) -> dict[str, str] | None:
    try:
        with open(os.path.join(root, RC), encoding="utf-8", errors="replace") as handle:
            text = handle.read(100_000)
    except OSError:
        return None
    return {name: value for name, value in _OPTION.findall(text)}


def _path_of(value: str) -> str:
    """The root-relative path of an option's value, or "" when it is not a plain path."""
    literals = [single or double for single, double in _LITERAL.findall(value)]
    plain_string = _LITERAL.fullmatch(value.strip()) is not None
    if not literals or not (plain_string or _PLAIN.match(value)):
        return ""
    joined = posixpath.normpath("/".join(literals))
    return "" if joined.startswith(("/", "..")) else joined
