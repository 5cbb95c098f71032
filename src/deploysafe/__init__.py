"""deploysafe: prove a service's import closure will load, then ship exactly that, safely.

The Python API mirrors the command line::

    import deploysafe
    report = deploysafe.check("path/to/service")
    if not report.deployable:
        for finding in report.errors:
            print(finding.file, finding.line, finding.message)
    changes = deploysafe.drift("path/to/service", "production")     # DriftReport
    artifact = deploysafe.pack("path/to/service", output="dist/")   # PackResult
    result = deploysafe.deploy(artifact.path, "production")         # release Result; raises ReleaseFailed
    deploysafe.rollback("production")                                # the previous good release

Importing deploysafe is cheap: ``check``, ``Report`` and the finding types load the check pipeline when
first used, and ``pack``, ``drift``, ``deploy`` and ``rollback`` their stage (packer, inventories, SSH) when
first called, so that ``deploysafe --version`` loads neither. ``deploysafe.pack`` and ``deploysafe.drift`` stay these functions
once their modules are loaded; the modules are imported by name (``from deploysafe.pack import verify``).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from deploysafe.errors import (
    ArtifactError,
    ConfigError,
    DeployFailed,
    DeploysafeError,
    LockError,
    ProjectError,
    TargetError,
)

if TYPE_CHECKING:
    from deploysafe.check.findings import Finding, Severity, Unverified
    from deploysafe.check.pipeline import Report, check
    from deploysafe.drift import drift as drift
    from deploysafe.pack.api import pack as pack
    from deploysafe.release import Result, TargetSpec
    from deploysafe.release import deploy as deploy

    # mypy takes ``from deploysafe.release import rollback`` for the submodule of that name.
    def rollback(to: str | TargetSpec, *, release: str | None = None, **options: Any) -> Result: ...


__all__ = [
    "ArtifactError",
    "ConfigError",
    "DeployFailed",
    "DeploysafeError",
    "Finding",
    "LockError",
    "ProjectError",
    "Report",
    "Severity",
    "TargetError",
    "Unverified",
    "__version__",
    "check",
    "deploy",
    "drift",
    "pack",
    "rollback",
]


def _lazy(module: str, name: str, doc: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__module__ = __name__
    call.__doc__ = f"{doc}\n\nSee :func:`{module}.{name}` for every option."
    return call


if not TYPE_CHECKING:
    pack = _lazy("deploysafe.pack.api", "pack", "Build the release artifact of the service in ``root``.")
    drift = _lazy("deploysafe.drift", "drift", "Compare ``root`` with ``against`` through ``root``'s graph.")
    deploy = _lazy(
        "deploysafe.release", "deploy", "Deploy ``artifact`` to ``to``, health-gated, rolled back on failure."
    )
    rollback = _lazy("deploysafe.release", "rollback", "Put back the previous good release (or ``release``) on ``to``.")


# name -> the module it is loaded from on first use
_ON_USE = {
    "check": "deploysafe.check.pipeline",
    "Report": "deploysafe.check.pipeline",
    "Finding": "deploysafe.check.findings",
    "Severity": "deploysafe.check.findings",
    "Unverified": "deploysafe.check.findings",
}


def __getattr__(name: str) -> Any:
    if name in _ON_USE:
        value = getattr(importlib.import_module(_ON_USE[name]), name)
        if name != "check":  # deploysafe.check stays looked up here: the package of that name must not shadow it
            globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Api(types.ModuleType):
    """Keeps ``deploysafe.check``, ``deploysafe.pack`` and ``deploysafe.drift`` the API functions when their
    packages load (the import system would bind the package of the same name here); the packages stay in
    sys.modules under their names."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("check", "pack", "drift") and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Api
