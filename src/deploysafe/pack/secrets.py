"""Which files never go into an artifact by default, and why.

Name rules (matched on the file name, anywhere in the tree):

- ``.env`` and ``.env.*`` (also ``.envrc``): environment files hold credentials. The committed templates
  ``.env.example``, ``.env.sample`` and ``.env.template`` are *not* secrets; they are packed only when
  something asks for them (an include glob or a literal path in the code).
- ``*.pem``, ``*.key``, ``*.p12``, ``*.pfx``: certificates and private keys.
- ``id_rsa*``, ``id_dsa*``, ``id_ecdsa*``, ``id_ed25519*``: SSH keys. (Not every ``id_*``: that would catch
  ``id_generator.js``.)
- ``.netrc``, ``.pgpass``: credential files.
- ``.npmrc``, ``.yarnrc``, ``.yarnrc.yml`` that contain an auth token (``_authToken``, ``_auth``,
  ``_password``, ``npmAuthToken``, ``npmAuthIdent``). Without a token they are install settings and ship.

Names are matched without regard to letter case (``.ENV``, ``KEY.PEM``): a case-insensitive file system
opens them by the lower-case name, and a literal path in the code may spell either.

Anything git ignores is the other rule; :mod:`deploysafe.pack.tree` knows that. An ``--allow-secret``
pattern (gitignore syntax, matched on the path relative to the root) lifts both rules for what it matches.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from deploysafe.globs import user_patterns

ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template"})
_KEY_SUFFIXES = (".pem", ".key", ".p12", ".pfx")
_SSH_KEYS = ("id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*")
_CREDENTIAL_FILES = frozenset({".netrc", ".pgpass"})
_TOKEN_FILES = frozenset({".npmrc", ".yarnrc", ".yarnrc.yml"})
_TOKEN = re.compile(rb"_authToken|(?<![A-Za-z])_auth\s*[=:]|_password\s*[=:]|npmAuthToken|npmAuthIdent")


def secret_reason(rel: str, absolute: str | None = None) -> str | None:
    """Why the file at ``rel`` (relative, ``/``-separated) is a secret by its name or content, or None."""
    name = rel.rsplit("/", 1)[-1].lower()
    if (name == ".env" or name.startswith((".env.", ".envrc"))) and name not in ENV_TEMPLATES:
        return "secret (.env*)"
    if name.endswith(_KEY_SUFFIXES):
        return f"secret (*{name[name.rfind('.') :]})"
    for pattern in _SSH_KEYS:
        if fnmatch.fnmatchcase(name, pattern):
            return f"secret ({pattern}: SSH key)"
    if name in _CREDENTIAL_FILES:
        return f"secret ({name}: credentials)"
    if name in _TOKEN_FILES and absolute is not None and _has_token(absolute):
        return f"secret ({name} with an auth token)"
    return None


def _has_token(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return bool(_TOKEN.search(handle.read(1 << 20)))
    except OSError:
        return True  # unreadable: treat as a secret rather than guess


def might_be_secret(name: str) -> bool:
    """A cheap name test: could :func:`secret_reason` say yes for a file called ``name``?"""
    name = name.lower()
    return (
        name.startswith(".env")
        or name.endswith(_KEY_SUFFIXES)
        or name.startswith("id_")
        or name in _CREDENTIAL_FILES
        or name in _TOKEN_FILES
    )


class Allowed:
    """The ``--allow-secret`` patterns: gitignore-style globs on the root-relative path."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._spec = user_patterns(self.patterns, "--allow-secret") if self.patterns else None

    def __call__(self, rel: str) -> bool:
        return self._spec is not None and self._spec.match_file(rel)

    def __bool__(self) -> bool:
        return bool(self.patterns)
