"""deploysafe's dataclasses get the methods compiled in an earlier run from the cache directory, and behave
exactly as when compiled afresh; other modules' dataclasses and a damaged file change nothing."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

# Counts the dataclass method texts compiled in the process, then shows how deploysafe's classes behave.
PROBE = """
import builtins, json, sys
import deploysafe
from deploysafe import compiled_methods
compiled_methods.install()  # as the console script does
assert "dataclasses" not in sys.modules  # deploysafe --version never loads it
import dataclasses
real = builtins.compile
compiled = []
def counting(source, *args, **kwargs):
    if isinstance(source, str) and source.startswith("def __create_fn__"):
        compiled.append(source)
    return real(source, *args, **kwargs)
builtins.compile = counting
from deploysafe.check.facts import Import, ImportKind, ImportedName
from deploysafe.check.graph import Module
@dataclasses.dataclass(frozen=True)
class Mine:
    x: int = 1
a = Import(ImportKind.STATIC, "./a.js", 3, 1, names=(ImportedName("b", 3, 10),))
b = Import(ImportKind.STATIC, "./a.js", 3, 1, names=(ImportedName("b", 3, 10),))
try:
    a.line = 4
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(json.dumps({
    "compiled": len(compiled),
    "behaviour": [repr(a), a == b, hash(a) == hash(b), frozen, repr(Module("p", "commonjs", None)), repr(Mine())],
}))
"""


def _probe(cache_dir: Path, **env: str) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "DEPLOYSAFE_CACHE_DIR": str(cache_dir), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout)


def _stored(cache_dir: Path) -> dict[str, bytes]:
    (file,) = cache_dir.glob("dataclass-methods-*.marshal")
    return marshal.loads(file.read_bytes())


def test_a_second_process_compiles_no_method_and_its_classes_behave_the_same(tmp_path: Path) -> None:
    first = _probe(tmp_path)
    second = _probe(tmp_path)
    uncached = _probe(tmp_path / "unused", DEPLOYSAFE_NO_CACHE="1")
    assert first["compiled"] > 20
    assert second["compiled"] == 0
    assert first["behaviour"] == second["behaviour"] == uncached["behaviour"]
    assert second["behaviour"][1:4] == [True, True, True]
    modules = _stored(tmp_path)
    assert "deploysafe.check.facts" in modules and "__main__" not in modules
    assert not (tmp_path / "unused").exists()


def test_a_damaged_file_is_compiled_around_and_written_anew(tmp_path: Path) -> None:
    expected = _probe(tmp_path / "clean")["behaviour"]
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    name = next((tmp_path / "clean").glob("dataclass-methods-*.marshal")).name
    (damaged / name).write_bytes(b"\xff not marshal data")
    assert _probe(damaged)["behaviour"] == expected
    assert "deploysafe.check.facts" in _stored(damaged)
    assert _probe(damaged)["compiled"] == 0


def test_the_dataclasses_module_loaded_before_deploysafe_gets_the_methods_too(tmp_path: Path) -> None:
    probe = (
        "import dataclasses, deploysafe.compiled_methods as m; m.install(); import deploysafe.check.facts; "
        "print(dataclasses.exec is m._exec)"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "DEPLOYSAFE_CACHE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "True"
    assert "deploysafe.check.facts" in _stored(tmp_path)


def test_a_program_importing_deploysafe_keeps_its_dataclasses_module_and_the_console_script_stores(
    tmp_path: Path,
) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "package.json").write_text('{"name": "svc", "main": "index.js"}')
    (tmp_path / "svc" / "index.js").write_text("module.exports = 1;\n")
    env = {**os.environ, "DEPLOYSAFE_CACHE_DIR": str(tmp_path / "cache")}
    probe = "import dataclasses, sys, deploysafe; deploysafe.check(sys.argv[1]); print('exec' in vars(dataclasses))"
    library = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "svc")], env=env, capture_output=True, text=True, check=True
    )
    assert library.stdout.strip() == "False"
    assert not list((tmp_path / "cache").glob("dataclass-methods-*"))
    subprocess.run(
        [sys.executable, "-m", "deploysafe", "check", str(tmp_path / "svc")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "deploysafe.check.facts" in _stored(tmp_path / "cache")
