"""The methods ``@dataclass`` writes for deploysafe's classes, compiled once and kept on disk.

On Python 3.11 creating a dataclass costs about 0.6 ms, three quarters of it compiling the source text of
the ``__init__``, ``__repr__``, ``__eq__``, ... that the dataclasses module generates and passes to
``exec``; a warm check creates some sixty of them (about 35 ms of a 0.3 s run). :func:`install` (called
by the console script only, :func:`deploysafe.cli.run`: a program that imports deploysafe keeps its own
dataclasses module as it is) gives the dataclasses module, as soon as it loads, an ``exec`` of
its own (a module global, found before the builtin) that, for a
class of a deploysafe module, takes the code compiled from the same text in an earlier run from one file
in the cache directory, and compiles only a text not seen before. What runs is exactly what the builtin
compiles from that text: the same file name (``<string>``) and no inherited compiler flags (the
dataclasses module has no ``__future__`` imports). Any other module's classes reach the builtin
untouched.

The file is named by the interpreter's cache tag and exact version (compiled code is only valid for the
Python that made it), is read on the first deploysafe dataclass, and is written back, atomically, when a
process that compiled new texts exits (the last writer wins; a text lost that way is compiled again).
Nothing here is needed: an unreadable or missing file, ``DEPLOYSAFE_NO_CACHE``, or a dataclasses module
that already has an ``exec`` of someone else's, and every text is compiled as before.
"""

from __future__ import annotations

import builtins
import contextlib
import marshal
import os
import sys
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_TEXTS = 256  # a module's texts kept at most (older versions of its classes go past that)

_stored: dict[str, bytes] | None = None  # module -> its texts and code, marshalled, as the file holds them
_codes: dict[str, dict[str, CodeType]] = {}  # module -> text -> code, for the modules seen in this process
_changed: set[str] = set()  # modules with a text the file does not hold
_used: dict[str, set[str]] = {}  # module -> the texts this process ran


def install() -> None:
    """Route the dataclasses module's ``exec`` through :func:`_exec`: now if it is loaded, else the moment
    it is (``deploysafe --version`` never loads it)."""
    if os.environ.get("DEPLOYSAFE_NO_CACHE"):
        return
    module = sys.modules.get("dataclasses")
    if module is not None:
        _patch(module)
    elif not any(isinstance(finder, _OnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OnImport())


def _patch(module: ModuleType) -> None:
    if "exec" not in vars(module):  # never over someone else's
        module.exec = _exec  # type: ignore[attr-defined]


class _OnImport:
    """A finder that leaves finding the dataclasses module to the others and patches it once loaded."""

    def find_spec(self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None) -> Any:
        if name != "dataclasses":
            return None
        sys.meta_path.remove(self)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        load = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            load(module)
            _patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _exec(source: Any, *args: Any, **kwargs: Any) -> None:
    scope = args[0] if args else kwargs.get("globals")
    module = scope.get("__name__") if isinstance(scope, dict) else None
    if isinstance(source, str) and isinstance(module, str) and module.startswith("deploysafe"):
        source = _code(module, source)
    builtins.exec(source, *args, **kwargs)


def _code(module: str, text: str) -> CodeType:
    global _stored
    if _stored is None:
        _stored = _read()
    codes = _codes.get(module)
    if codes is None:
        codes = _codes[module] = _decoded(_stored.get(module))
    _used.setdefault(module, set()).add(text)
    code = codes.get(text)
    if code is None:
        code = codes[text] = compile(text, "<string>", "exec", dont_inherit=True)
        if not _changed:
            import atexit

            atexit.register(_write)
        _changed.add(module)
    return code


def _decoded(raw: bytes | None) -> dict[str, CodeType]:
    try:
        codes = marshal.loads(raw) if raw else {}
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(codes, dict):
        return {}
    return {text: code for text, code in codes.items() if isinstance(text, str) and isinstance(code, CodeType)}


def _path() -> str:
    from deploysafe.cache_dir import default_cache_dir

    tag = sys.implementation.cache_tag or sys.implementation.name
    return os.path.join(default_cache_dir(), f"dataclass-methods-{tag}-{sys.hexversion:x}.marshal")


def _read() -> dict[str, bytes]:
    try:
        with open(_path(), "rb") as handle:
            stored = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {module: raw for module, raw in stored.items() if isinstance(module, str) and isinstance(raw, bytes)}


def _write() -> None:
    """The file again, with the changed modules' new texts (and their older ones, up to MAX_TEXTS)."""
    stored = dict(_stored or {})
    for module in _changed:
        codes = _codes[module]
        if len(codes) > MAX_TEXTS:  # mostly older versions of its classes: only what ran here stays
            codes = {text: codes[text] for text in _used[module]}
        stored[module] = marshal.dumps(codes)
    path = _path()
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "wb") as handle:
            handle.write(marshal.dumps(stored))
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(partial)
