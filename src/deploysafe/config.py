"""deploysafe.toml: the few things detection cannot know. Every key has a detected default."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from deploysafe.errors import ConfigError

CONFIG_NAME = "deploysafe.toml"


def read_toml(root: Path) -> dict[str, Any]:
    """The parsed deploysafe.toml at ``root``, or ``{}`` when there is none."""
    path = root / CONFIG_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from err
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from err


def section(config: dict[str, Any], name: str) -> dict[str, Any]:
    """A top-level table of the config, checked to be a table."""
    value = config.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{CONFIG_NAME}: [{name}] must be a table")
    return value
