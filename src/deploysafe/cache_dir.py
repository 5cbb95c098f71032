"""Where deploysafe keeps what it may compute again: ``$DEPLOYSAFE_CACHE_DIR``, else
``$XDG_CACHE_HOME/deploysafe``, else ``~/.cache/deploysafe``."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    explicit = os.environ.get("DEPLOYSAFE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deploysafe"
