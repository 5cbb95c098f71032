"""One exception hierarchy; the CLI turns each into a one-line message and an exit code."""

from __future__ import annotations


class DeploysafeError(Exception):
    """Base of every error deploysafe raises on purpose. ``str(err)`` is the one-line message."""

    exit_code = 2


class ConfigError(DeploysafeError):
    """Bad input from the user: a missing root, a malformed deploysafe.toml, an unknown entry."""


class ProjectError(DeploysafeError):
    """The project tree cannot be read as asked (malformed package.json that matters, unreadable root)."""


class ArtifactError(DeploysafeError):
    """A release artifact is malformed, tampered with or unsafe to unpack."""

    exit_code = 1


class PackError(DeploysafeError):
    """The artifact cannot be built as asked (a secret an include glob matches, an unwritable output...)."""

    exit_code = 1


class TargetError(DeploysafeError):
    """A deploy target cannot be reached or is not in a state we can work with."""

    exit_code = 1


class LockError(TargetError):
    """Another deploy holds the target's lock."""


class DeployFailed(DeploysafeError):
    """A deploy ran and failed (and was rolled back, or stopped before switching)."""

    exit_code = 1
