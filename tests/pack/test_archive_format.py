"""The archive writer's bytes: POSIX headers identical to Python's tarfile, readable by GNU tar and gzip,
long and non-ASCII names intact through deploysafe's own safe reader."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from deploysafe import artifact
from deploysafe.artifact.tarheaders import DIRECTORY, REGULAR, header
from deploysafe.pack import pack
from tests.support.projects import write_tree

NAMES = ["a.js", "src/x" * 19 + ".js", "n" * 100, "deep/" * 30 + "file.js", "unicodé/ファイル.js", "dir"]


@pytest.mark.parametrize("name", NAMES)
def test_headers_match_pythons_pax_tarfile_byte_for_byte(name: str) -> None:
    is_dir = name == "dir"
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime, info.uname, info.gname = (
        0 if is_dir else 1234,
        0o755 if is_dir else 0o644,
        0,
        "",
        "",
    )
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE

    assert header(name, info.size, info.mode, DIRECTORY if is_dir else REGULAR) == info.tobuf(
        tarfile.PAX_FORMAT, "utf-8", "surrogateescape"
    )


def test_long_and_non_ascii_names_survive_gnu_tar_and_the_safe_reader(tmp_path: Path) -> None:
    long_dir = "/".join(["segment-of-a-long-path"] * 8)
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "names", "version": "1.0.0", "type": "module", "main": "index.js"},
            "index.js": f"import './{long_dir}/m.js';\nimport './données/é.js';\n",
            f"{long_dir}/m.js": "export {};\n",
            "données/é.js": "export {};\n",
        },
    )
    result = pack(root, output=tmp_path / "out/")

    assert subprocess.run(["gzip", "-t", str(result.path)]).returncode == 0
    listing = subprocess.run(["tar", "tzf", str(result.path)], capture_output=True, text=True, check=True).stdout
    assert f"{long_dir}/m.js" in listing.splitlines()
    assert "données/é.js" in listing.splitlines()
    artifact.extract(result.path, tmp_path / "unpacked")
    assert (tmp_path / "unpacked" / long_dir / "m.js").read_text() == "export {};\n"
    assert (tmp_path / "unpacked" / "données" / "é.js").is_file()
