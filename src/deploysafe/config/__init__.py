"""deploysafe.toml, typed: every table and key is declared once in this package, read once, and checked.

The file holds the few things detection cannot know; every key has a default but ``[targets.NAME] path``
(and ``health``, checked when a deploy needs it). :func:`load` reads ``ROOT/deploysafe.toml`` into a frozen
:class:`Config`; :func:`parse` does the same for a table already in memory (the Python API's ``config=``).
An unknown table or key, or a value of the wrong type, is a :class:`ConfigError` (exit 2) naming the key
path and the nearest valid key::

    deploysafe.toml: [check] unknown key 'entriez' (did you mean 'entries'?)
    deploysafe.toml: [pack] exclude must be a list of strings

A table is a frozen dataclass; a key is a field: its annotation is the type checked (``str``, ``int``,
``float``, ``bool``, ``Literal[...]``, ``tuple[str, ...]`` — a lone string is a list of one —,
``dict[str, str]``, each optionally ``| None``) and its default the detected default. Adding a key is one
line in its table::

    include_nested: bool = False  # [check] include_nested = true
    replicas: int = key(2, at_least=1, means="a whole number of pods")

:func:`~deploysafe.config.tables.key` adds what a type cannot say: a lower bound, a required key, a phrase
for the error message, a check of each value, or a *family* of keys gathered into one field
(``before_<step>``/``after_<step>`` into ``hooks``). A new table is a dataclass in
:mod:`deploysafe.config.tables` plus one line in its ``TABLES``, and a property of :class:`Config`.

Where each part is, so that a command loads only what it reads (Python 3.11 takes about a millisecond to
build a dataclass, a tenth of a small check's own work):

- here: :class:`Config`, ``[check]`` (:class:`CheckTable`) and the reading. A check of a project without
  deploysafe.toml loads nothing else of the configuration.
- :mod:`deploysafe.config.tables`: the other tables, :func:`~deploysafe.config.tables.key` and the checking
  of keys and types, loaded by a file to read, or by a table's defaults when first used.
- :mod:`deploysafe.config.targets`: ``[targets.NAME]`` and ``[fleets.NAME]`` with their hooks, loaded when a
  file names one, or by a command that deploys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from deploysafe.errors import ConfigError

if TYPE_CHECKING:
    from deploysafe.config.tables import DriftTable, ImageTable, KubernetesTable, PackTable
    from deploysafe.config.targets import FleetTable, TargetTable

__all__ = ["CONFIG_NAME", "CheckTable", "Config", "ConfigError", "as_config", "load", "load_file", "parse", "read_toml"]

CONFIG_NAME = "deploysafe.toml"


@dataclass(frozen=True)
class CheckTable:
    """``[check]``: what ``deploysafe check`` cannot detect."""

    entries: tuple[str, ...] = ()  # default: detected (package.json, pm2 file, Dockerfile, ...)
    exclude: tuple[str, ...] = ()  # never listed as dormant
    node: str | None = None  # default: engines.node, then the local node
    typescript: Literal["compiled", "source"] | None = None  # tsc output run by node, or tsx/ts-node
    include_nested: bool = False  # folders with their own package.json no entry loads are other projects


class Config:
    """The whole of deploysafe.toml; ``Config()`` is a project without one.

    Frozen and compared by value, as a frozen dataclass of its tables would be. A table the file does not
    set is its defaults, built when first read: a check reads only ``check`` and ``targets``, so that it
    does not load the other tables' classes."""

    __slots__ = ("_tables", "fleets", "source", "targets")

    _tables: dict[str, Any]  # the tables given, and the defaults built so far
    targets: Mapping[str, TargetTable]
    fleets: Mapping[str, FleetTable]
    source: str  # how errors name the file

    def __init__(
        self,
        check: CheckTable | None = None,
        pack: PackTable | None = None,
        drift: DriftTable | None = None,
        image: ImageTable | None = None,
        kubernetes: KubernetesTable | None = None,
        targets: Mapping[str, TargetTable] | None = None,
        fleets: Mapping[str, FleetTable] | None = None,
        source: str = CONFIG_NAME,
    ) -> None:
        given = {"check": check, "pack": pack, "drift": drift, "image": image, "kubernetes": kubernetes}
        object.__setattr__(self, "_tables", {name: value for name, value in given.items() if value is not None})
        object.__setattr__(self, "targets", {} if targets is None else targets)
        object.__setattr__(self, "fleets", {} if fleets is None else fleets)
        object.__setattr__(self, "source", source)

    @property
    def check(self) -> CheckTable:
        return self._table("check")

    @property
    def pack(self) -> PackTable:
        return self._table("pack")

    @property
    def drift(self) -> DriftTable:
        return self._table("drift")

    @property
    def image(self) -> ImageTable:
        return self._table("image")

    @property
    def kubernetes(self) -> KubernetesTable:
        return self._table("kubernetes")

    def _table(self, name: str) -> Any:
        """The table as the file set it, else its defaults: built once, the other tables' module loaded then."""
        if name not in self._tables:
            if name == "check":
                self._tables[name] = CheckTable()
            else:
                from deploysafe.config.tables import TABLES

                self._tables[name] = TABLES[name]()
        return self._tables[name]

    def _fields(self) -> tuple[Any, ...]:
        return (self.check, self.pack, self.drift, self.image, self.kubernetes, self.targets, self.fleets, self.source)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Config)
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        names = ("check", "pack", "drift", "image", "kubernetes", "targets", "fleets", "source")
        return f"Config({', '.join(f'{n}={v!r}' for n, v in zip(names, self._fields(), strict=True))})"

    def __reduce__(self) -> tuple[type[Config], tuple[Any, ...]]:
        return (Config, self._fields())

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


# --- reading -----------------------------------------------------------------------------------------


def load(root: str | Path) -> Config:
    """``root``/deploysafe.toml, checked; ``Config()`` when there is none (or it sets nothing)."""
    raw = read_toml(Path(root))
    return parse(raw) if raw else Config()


def load_file(path: str | Path) -> Config:
    """A config file given by name (``--config FILE``); its errors name that file."""
    path = Path(path)
    return parse(_read(path, missing_ok=False), source=path.name)


def read_toml(root: Path) -> dict[str, Any]:
    """The raw parsed deploysafe.toml at ``root``, or ``{}`` when there is none."""
    return _read(root / CONFIG_NAME, missing_ok=True)


def _read(path: Path, *, missing_ok: bool) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as err:
        if missing_ok:
            return {}
        raise ConfigError(f"{path}: no such file") from err
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from err
    import tomllib  # only a project with a deploysafe.toml pays for loading the TOML reader

    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from err


def as_config(value: Config | Mapping[str, Any] | None, root: str | Path = ".") -> Config:
    """What the Python API accepts as ``config=``: a Config, a raw table, or None for ``root``'s file."""
    if value is None:
        return load(root)
    if isinstance(value, Config):
        return value
    return parse(value)


def parse(data: Mapping[str, Any], source: str = CONFIG_NAME) -> Config:
    """A raw table (as tomllib reads it) checked against the declared tables."""
    from deploysafe.config import tables

    return tables.parse(data, source)
