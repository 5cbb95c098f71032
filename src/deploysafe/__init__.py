"""deploysafe: prove a service's import closure will load, then ship exactly that, safely."""

from __future__ import annotations

__version__ = "0.1.0"
