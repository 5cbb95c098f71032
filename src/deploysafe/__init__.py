"""deploysafe: prove a service's import closure will load, then ship exactly that, safely.

The Python API mirrors the command line::

    import deploysafe
    report = deploysafe.check("path/to/service")
    if not report.deployable:
        for finding in report.errors:
            print(finding.file, finding.line, finding.message)

Importing deploysafe is cheap: each stage loads its heavy parts (parsers, SSH) when first used.
"""

from __future__ import annotations

__version__ = "0.1.0"

from deploysafe.check.findings import Finding, Severity, Unverified
from deploysafe.check.pipeline import Report, check
from deploysafe.errors import (
    ArtifactError,
    ConfigError,
    DeployFailed,
    DeploysafeError,
    LockError,
    ProjectError,
    TargetError,
)

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
]
