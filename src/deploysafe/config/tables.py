"""The tables of deploysafe.toml but ``[check]``, :func:`key`, and the checking of a file's keys and types.

Loaded by a file to read (:func:`parse`) or by a table's defaults when first used; a check of a project
without deploysafe.toml never loads it (see :mod:`deploysafe.config`).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from deploysafe.config import CONFIG_NAME, CheckTable, Config
from deploysafe.errors import ConfigError

T = TypeVar("T")
Check = Callable[[Any], str | None]  # a problem with one item of a value, said whole, or None


def key(
    default: Any = MISSING,
    *,
    at_least: float | None = None,
    required: bool = False,
    means: str | None = None,
    why: str = "",
    each: Check | None = None,
    family: Mapping[str, Any] | None = None,
    parse: Callable[[Mapping[str, Any], str], Any] | None = None,
) -> Any:
    """A field with what its type cannot say. ``means`` replaces the type's phrase ("a whole number of
    hosts"); ``why`` follows a range error in parentheses; ``each`` checks every item (or the value).
    ``family``: the field is not a key itself but gathers these keys, read by ``parse(keys, prefix)``."""
    meta: dict[str, Any] = {"at_least": at_least, "required": required, "means": means, "why": why, "each": each}
    if family is not None:
        meta.update(family=family, parse=parse)
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=None if default is MISSING else default, metadata=meta)


# --- the tables --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackTable:
    """``[pack]``: files loaded by computed paths, files never shipped, secrets allowed on purpose."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_secrets: tuple[str, ...] = ()
    # A reachable edge computed at run time that no include covers: "block" stops pack, "allow" packs and
    # records it in the manifest.
    unverified: Literal["block", "allow"] = "block"


@dataclass(frozen=True)
class DriftTable:
    """``[drift]``: paths never compared."""

    skip: tuple[str, ...] = ()


def _user(value: Any) -> str | None:
    if value in ("0", "root") or str(value).startswith(("0:", "root:")):
        return f"{value!r} is root: the image's entry runs as a non-root user"
    return None


@dataclass(frozen=True)
class ImageTable:
    """``[image]``: how ``pack --format oci`` builds the OCI image of the artifact."""

    base: str | None = None  # default: the official Node image of the checked version (node:X-bookworm-slim)
    name: str | None = None  # the image's repository; default: localhost/<package name>
    user: str = key("1000:1000", each=_user)  # uid:gid the entry runs as
    command: str | None = None  # default: the manifest's start (node <entry>)
    port: int | None = key(None, at_least=1)  # default: the health URL's port
    target: str | None = None  # the [targets] name whose health settings give HEALTHCHECK and the port
    init: str | None = None  # a static init binary (default: tini-static) run as PID 1, forwarding SIGTERM


@dataclass(frozen=True)
class KubernetesTable:
    """``[kubernetes]``: what ``deploysafe manifest --for kubernetes`` cannot take from the image's settings."""

    namespace: str | None = None
    replicas: int = key(2, at_least=1, means="a whole number of pods")
    progress_deadline: int = key(600, at_least=1, means="a whole number of seconds")
    cpu: str | None = None  # requests and limits, e.g. "250m"
    memory: str | None = None  # e.g. "256Mi"
    secret: str | None = None  # the Secret holding the target's shared files; default: <name>-shared


TABLES: dict[str, type] = {
    "check": CheckTable,
    "pack": PackTable,
    "drift": DriftTable,
    "image": ImageTable,
    "kubernetes": KubernetesTable,
}
NAMED = ("targets", "fleets")  # [targets.NAME], [fleets.NAME]: declared in deploysafe.config.targets


def parse(data: Mapping[str, Any], source: str = CONFIG_NAME) -> Config:
    """A raw table (as tomllib reads it) checked against the declared tables."""
    _known(data, [*TABLES, *NAMED], source, "", "table")
    tables: dict[str, Any] = {}
    for name, cls in TABLES.items():
        tables[name] = table(cls, _table(data.get(name, {}), source, name), source, f"[{name}]")
    for name in NAMED:
        group = _table(data.get(name, {}), source, name)
        if not group:
            continue
        from deploysafe.config.targets import NAMED as declared

        cls = declared[name]
        tables[name] = {
            item: table(cls, _table(raw, source, f"{name}.{item}"), source, f"[{name}.{item}]")
            for item, raw in group.items()
        }
    config = Config(**tables, source=source)
    _target_places(config)
    _fleet_targets(config)
    return config


def table(cls: type[T], raw: Mapping[str, Any], source: str, where: str) -> T:
    """One table as ``cls``: unknown keys and wrong types are errors naming ``source: where key``."""
    _known(raw, keys_of(cls), source, where, "key")
    return cls(**values(cls, raw, f"{source}: {where} ", whole=True))


def keys_of(cls: type) -> list[str]:
    """The keys a table of ``cls`` may hold: its fields, a family field's keys in its place."""
    out: list[str] = []
    for spec in fields(cls):
        out.extend(spec.metadata.get("family", [spec.name]))
    return out


def values(cls: type, raw: Mapping[str, Any], prefix: str, *, whole: bool = False) -> dict[str, Any]:
    """``raw``'s keys of ``cls`` converted to their declared types (keys not in ``raw`` are left out).

    ``prefix`` starts every error ("deploysafe.toml: [pack] ", or "" for the Python API's overrides);
    ``whole``: ``raw`` is the whole table, so a required key must be in it (overrides are a part)."""
    out: dict[str, Any] = {}
    for spec in fields(cls):
        family = spec.metadata.get("family")
        if family is not None:
            found = {k: v for k, v in raw.items() if k in family}
            if found:
                out[spec.name] = spec.metadata["parse"](found, prefix)
            continue
        if spec.name not in raw:
            if whole and spec.metadata.get("required"):
                raise ConfigError(f"{prefix}{spec.name} is required")
            continue
        out[spec.name] = _convert(_hints(cls)[spec.name], raw[spec.name], spec.metadata, f"{prefix}{spec.name}")
    return out


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s field types, evaluated when a table first sets one of its keys (not for every empty table)."""
    return get_type_hints(cls)


def nearest(name: str, valid: list[str]) -> str | None:
    """The valid name a typo most likely meant."""
    import difflib

    found = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return found[0] if found else None


def _known(raw: Mapping[str, Any], valid: list[str], source: str, where: str, what: str) -> None:
    for name in raw:
        if name in valid:
            continue
        close = nearest(str(name), valid)
        shown = f"[{name}]" if what == "table" else repr(name)
        hint = (f"[{close}]" if what == "table" else repr(close)) if close else None
        tail = f"did you mean {hint}?" if hint else f"{what}s: {', '.join(valid)}"
        raise ConfigError(f"{source}: {where + ' ' if where else ''}unknown {what} {shown} ({tail})")


def _table(value: Any, source: str, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: [{name}] must be a table")
    return value


def _target_places(config: Config) -> None:
    """A target is a path (on a host or here) or a swarm service, never neither or both."""
    for name, target in config.targets.items():
        where = f"{config.source}: [targets.{name}]"
        if target.swarm is not None and (target.path or target.host):
            raise ConfigError(f"{where} swarm is a service, not a place on a host: drop host and path")
        if target.swarm is None and not target.path:
            raise ConfigError(f"{where} path is required")
        if target.swarm is not None and not target.swarm.strip():
            raise ConfigError(f"{where} swarm must name a service")


def _fleet_targets(config: Config) -> None:
    """A fleet's target that is not a [targets] name must look like a path: a typo is not a directory."""
    for name, fleet in config.fleets.items():
        for entry in fleet.targets:
            if entry in config.targets and config.targets[entry].swarm:
                raise ConfigError(f"{config.source}: [fleets.{name}] {entry!r} is a swarm service, not a host")
            if entry not in config.targets and "/" not in entry:
                close = nearest(entry, list(config.targets))
                tail = f"did you mean {close!r}?" if close else f"targets: {', '.join(config.targets) or 'none'}"
                raise ConfigError(f"{config.source}: [fleets.{name}] no target {entry!r} in [targets] ({tail})")


# --- types -------------------------------------------------------------------------------------------


class _Wrong(Exception):
    pass


def _convert(hint: Any, value: Any, meta: Mapping[str, Any], path: str) -> Any:
    try:
        out = _as(hint, value)
    except _Wrong:
        raise ConfigError(f"{path} must be {meta.get('means') or _phrase(hint)}") from None
    least = meta.get("at_least")
    if least is not None and out is not None and out < least:
        why = f" ({meta['why']})" if meta.get("why") else ""
        shown = int(least) if float(least).is_integer() else least
        raise ConfigError(f"{path} must be {meta.get('means') or _phrase(hint)}, at least {shown}{why}")
    if meta.get("required") and not out:
        raise ConfigError(f"{path} must be {meta.get('means') or 'given'}")
    check: Check | None = meta.get("each")
    if check is not None:
        for item in out if isinstance(out, tuple | dict) else (out,):
            problem = check(item)
            if problem:
                raise ConfigError(f"{path}: {problem}")
    return out


def _optional(hint: Any) -> Any:
    """``X`` of ``X | None``; None when ``hint`` is not optional."""
    if get_origin(hint) in (Union, types.UnionType):
        rest = [a for a in get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else None
    return None


def _as(hint: Any, value: Any) -> Any:
    inner = _optional(hint)
    if inner is not None:
        return None if value is None else _as(inner, value)
    origin = get_origin(hint)
    if origin is Literal:
        if value not in get_args(hint):
            raise _Wrong
        return value
    if origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise _Wrong
        return tuple(items)
    if origin is dict:
        if not isinstance(value, Mapping) or not all(_scalar(v) for v in value.values()):
            raise _Wrong
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise _Wrong
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise _Wrong
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Wrong
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise _Wrong
        return value
    raise TypeError(f"deploysafe.config: no conversion for {hint!r}")  # a declaration mistake, not input


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _phrase(hint: Any) -> str:
    inner = _optional(hint)
    if inner is not None:
        return _phrase(inner)
    origin = get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(f'"{v}"' for v in get_args(hint))
    if origin is tuple:
        return "a list of strings"
    if origin is dict:
        return "a table of strings"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}[hint]
