"""Property-based fuzzing of the readers that take input nobody vouches for. Each property says what may
come out: a value, or the one documented error; never another exception. Runs are bounded (examples and
per-example deadline) so the suite stays fast; a failure prints the smallest input that breaks it."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deploysafe import globs, safejson
from deploysafe.artifact import MANIFEST_PATH, read_manifest
from deploysafe.artifact import verify_archive as verify_artifact
from deploysafe.check.fs import FileSystem
from deploysafe.config import parse as parse_config
from deploysafe.ecosystems.node import jsonc
from deploysafe.ecosystems.node.packages import ABSENT
from deploysafe.ecosystems.node.resolve import _exports_resolve, _imports_exports_resolve, _PackageError
from deploysafe.ecosystems.node.tsconfig import TsconfigLoader
from deploysafe.errors import ArtifactError, ConfigError

BOUNDED = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)

# -- JSONC (tsconfig.json) ------------------------------------------------------------------------------


@BOUNDED
@given(st.text(max_size=300))
def test_jsonc_reads_or_raises_jsonc_error(text: str) -> None:
    with contextlib.suppress(jsonc.JsoncError):
        jsonc.loads(text)


@BOUNDED
@given(json_values)
def test_jsonc_reads_plain_json_as_json(value) -> None:
    assert jsonc.loads(json.dumps(value)) == value


def _jsonc(value, filler: str) -> str:
    """``value`` as JSONC: a comment or blank before every member, a trailing comma after the last."""
    if isinstance(value, list):
        return "[" + "".join(f"{filler}{_jsonc(v, filler)}," for v in value) + filler + "]"
    if isinstance(value, dict):
        members = "".join(f"{filler}{json.dumps(k)}: {_jsonc(v, filler)}," for k, v in value.items())
        return "{" + members + filler + "}"
    return json.dumps(value)


@BOUNDED
@given(json_values, st.sampled_from(["// note\n", "/* a, b } */", "\n", "  "]))
def test_jsonc_ignores_comments_and_trailing_commas(value, filler: str) -> None:
    assert jsonc.loads(_jsonc(value, filler) + "\n// end\n") == value


@settings(max_examples=20, deadline=5000)
@given(st.integers(min_value=1, max_value=200_000))
def test_deep_json_is_read_or_refused_as_too_deep(depth: int) -> None:
    text = "[" * depth + "]" * depth
    try:
        safejson.loads(text)
    except json.JSONDecodeError as err:
        assert "nested too deeply" in err.msg
    try:
        jsonc.loads(text)
    except jsonc.JsoncError as err:
        assert "nested too deeply" in str(err)


# -- package.json "exports" and "imports" ---------------------------------------------------------------

conditions = st.frozensets(st.sampled_from(["node", "import", "require", "default", "module-sync", "custom"]))
subpaths = st.sampled_from([".", "./a", "./a/b.js", "./x/*", "./*", "./a/../b", "./%2e%2e/x"]) | st.text(max_size=10)
targets = st.recursive(
    st.none() | st.sampled_from(["./a.js", "./lib/*.js", "../up.js", "/abs.js", "pkg", "./node_modules/x", "./*"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["node", "import", "require", "default", "types", "x"]), inner, max_size=3)
    ),
    max_leaves=12,
)
exports_maps = targets | st.dictionaries(subpaths, targets, max_size=5) | json_values


@BOUNDED
@given(exports_maps, subpaths, conditions)
def test_exports_resolution_gives_a_path_or_a_package_error(exports, subpath: str, conds) -> None:
    try:
        resolved = _exports_resolve("/pkg", subpath, exports, conds)
    except _PackageError:
        return
    assert resolved is None or resolved is ABSENT or isinstance(resolved, (str, tuple))
    if isinstance(resolved, str):
        assert resolved == os.path.normpath(resolved)


@BOUNDED
@given(
    st.dictionaries(st.text(max_size=8).map(lambda s: "#" + s), targets, max_size=5), st.text(max_size=10), conditions
)
def test_imports_resolution_gives_a_path_a_package_or_a_package_error(imports, specifier: str, conds) -> None:
    try:
        resolved = _imports_exports_resolve("#" + specifier, imports, "/pkg", True, conds)
    except _PackageError:
        return
    assert resolved is None or resolved is ABSENT or isinstance(resolved, (str, tuple))


def test_exports_nested_as_deep_as_json_allows_is_a_package_error_or_a_path() -> None:
    exports: object = "./a.js"
    for _ in range(5000):
        exports = {"node": exports}
    with contextlib.suppress(_PackageError):
        _exports_resolve("/pkg", ".", exports, frozenset({"node"}))


# -- glob patterns ----------------------------------------------------------------------------------------

pattern_text = st.text(alphabet=st.sampled_from(list("ab/*?[]!\\.-# ")), max_size=12) | st.text(max_size=12)


@BOUNDED
@given(st.lists(pattern_text, max_size=6), st.text(alphabet=st.sampled_from(list("ab/.c")), min_size=1, max_size=10))
@example(["[?-.]"], "a")  # a reversed range: pathspec's regex fails to compile, git matches nothing
def test_gitignore_lines_never_raise_and_user_patterns_raise_only_config_errors(lines: list[str], path: str) -> None:
    globs.gitignore_lines(lines).match_file(path)
    try:
        spec = globs.user_patterns(lines, "--exclude")
    except ConfigError as err:
        assert "--exclude" in str(err) and "\n" not in str(err)
        return
    spec.match_file(path)


# -- tsconfig chains --------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=5000)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(min_value=0, max_value=5), max_size=3),  # which configs each extends
            json_values,  # compilerOptions, often nonsense
        ),
        min_size=1,
        max_size=6,
    )
)
def test_tsconfig_extends_graphs_load_with_cycles_reported(configs) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for index, (parents, options) in enumerate(configs):
            extends = [f"./c{p}.json" for p in parents]
            Path(tmp, f"c{index}.json").write_text(json.dumps({"extends": extends, "compilerOptions": options}))
        loader = TsconfigLoader(FileSystem())
        for index in range(len(configs)):
            loader.load(os.path.join(tmp, f"c{index}.json"))


def test_a_tsconfig_extends_chain_3000_long_loads() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(3000):
            parent = {"extends": f"./c{index + 1}.json"} if index < 2999 else {"compilerOptions": {"baseUrl": "."}}
            Path(tmp, f"c{index}.json").write_text(json.dumps(parent))
        config = TsconfigLoader(FileSystem()).load(os.path.join(tmp, "c0.json"))
        assert config.base_url == tmp


# -- configuration ------------------------------------------------------------------------------------------

toml_tables = st.dictionaries(
    st.sampled_from(["check", "pack", "drift", "targets", "fleets", "other"]),
    st.dictionaries(st.sampled_from(["entries", "node", "include", "exclude", "path", "health", "x"]), json_values),
    max_size=4,
)


@BOUNDED
@given(toml_tables)
def test_configuration_tables_parse_or_raise_config_errors(data) -> None:
    try:
        parse_config(data)
    except ConfigError as err:
        assert "\n" not in str(err)


# -- archives ---------------------------------------------------------------------------------------------


def _artifact_bytes(manifest: bytes, members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
        for name, body in [(MANIFEST_PATH, manifest), *members]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


@settings(max_examples=100, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=400) | json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(st.tuples(st.text(min_size=1, max_size=12), st.binary(max_size=40)), max_size=3),
    st.integers(min_value=0, max_value=600),
    st.binary(min_size=1, max_size=4),
)
def test_archives_are_read_or_refused_with_artifact_errors(manifest, members, cut: int, noise: bytes) -> None:
    data = _artifact_bytes(manifest, members)
    for variant in (data, data[:cut], data[:cut] + noise + data[cut + len(noise) :], noise + data):
        with tempfile.NamedTemporaryFile(suffix=".tar.gz") as handle:
            handle.write(variant)
            handle.flush()
            for reader in (read_manifest, verify_artifact):
                try:
                    reader(handle.name)
                except ArtifactError as err:
                    assert "\n" not in str(err)
