"""What `nest build` compiles and what `nest start` runs, read from nest-cli.json as the Nest CLI reads it.

`nest build` compiles with tsc (unless nest-cli.json picks webpack or swc) using
`compilerOptions.tsConfigPath`, by default tsconfig.build.json when it exists, else tsconfig.json.
`nest start` builds, then runs `node <outDir>/<sourceRoot>/<entryFile>.js` when that file exists, else
`node <outDir>/<entryFile>.js` (sourceRoot defaults to "src", entryFile to "main", outDir to "dist"): where
tsc's inferred rootDir widens to the project (a file outside src/ compiled), the first is the one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from deploysafe import safejson
from deploysafe.check.fs import FileSystem
from deploysafe.ecosystems.node.tsconfig import TsconfigLoader

CONFIG = "nest-cli.json"
NEST_BUILD = re.compile(r"(?<![\w-])nest\s+build\b")
NEST_START = re.compile(r"(?<![\w-])nest\s+start\b")


@dataclass(frozen=True)
class NestProject:
    """nest-cli.json's answers (defaults where it is silent). Paths relative to the project root."""

    source_root: str = "src"
    entry_file: str = "main"
    tsconfig: str = "tsconfig.json"
    builder: str = "tsc"  # "tsc", "swc" or "webpack"


def read(root: str) -> NestProject:
    """nest-cli.json of ``root``; a missing or unreadable file gives the CLI's defaults."""
    data: object = {}
    try:
        with open(os.path.join(root, CONFIG), encoding="utf-8") as handle:
            data = safejson.loads(handle.read())
    except (OSError, ValueError):
        data = {}
    config = data if isinstance(data, dict) else {}
    options = config.get("compilerOptions")
    options = options if isinstance(options, dict) else {}
    default_tsconfig = (
        "tsconfig.build.json" if os.path.isfile(os.path.join(root, "tsconfig.build.json")) else ("tsconfig.json")
    )
    builder = options.get("builder")
    if isinstance(builder, dict):
        builder = builder.get("type")
    if options.get("webpack") is True:
        builder = "webpack"
    return NestProject(
        source_root=_string(config.get("sourceRoot"), "src").strip("/") or ".",
        entry_file=_string(config.get("entryFile"), "main"),
        tsconfig=_string(options.get("tsConfigPath"), default_tsconfig),
        builder=builder if builder in ("tsc", "swc", "webpack") else "tsc",
    )


def started_output(root: str, nest: NestProject) -> tuple[str, str] | None:
    """(source, output) for `nest start`: the TypeScript entry and the file node runs after the build,
    relative to root; None when the entry source is not there or the build is not tsc's."""
    source = os.path.normpath(os.path.join(nest.source_root, nest.entry_file + ".ts")).replace(os.sep, "/")
    config_path = os.path.join(root, nest.tsconfig)
    if nest.builder != "tsc" or not os.path.isfile(os.path.join(root, source)) or not os.path.isfile(config_path):
        return None
    from deploysafe.ecosystems.node.tsc import TscBuild  # only for a nest project built by tsc

    build = TscBuild(TsconfigLoader(FileSystem(), stop_at=os.path.dirname(root)).load(os.path.normpath(config_path)))
    out_dir = build.out_dir or os.path.join(root, "dist")
    emitted = os.path.normpath(build.output_of(os.path.join(root, source)))
    with_root = os.path.normpath(os.path.join(out_dir, nest.source_root, nest.entry_file + ".js"))
    without_root = os.path.normpath(os.path.join(out_dir, nest.entry_file + ".js"))
    # After the build, the first exists exactly when tsc writes it there.
    output = with_root if emitted == with_root or os.path.isfile(with_root) else without_root
    return source, os.path.relpath(output, root).replace(os.sep, "/")


def _string(value: object, default: str) -> str:
    return value if isinstance(value, str) and value else default
