"""A file the start command reads before any module (`node --env-file=.env`) that is here but is a secret pack
leaves out: the packed release, started as the command says, exits 9; pack warns unless a target shares it."""

from __future__ import annotations

import subprocess
import tarfile

from deploysafe.pack import pack
from tests.support.projects import write_tree

SERVICE = {
    "package.json": {"name": "api", "version": "1.0.0", "scripts": {"start": "node --env-file=.env index.js"}},
    "index.js": "console.log('loaded', process.env.GREETING);\n",
    ".env": "GREETING=hello\n",
}


def test_an_env_file_left_out_as_a_secret_is_a_warning_until_a_target_shares_it(tmp_path):
    root = write_tree(tmp_path / "api", SERVICE)
    result = pack(root, output=tmp_path / "out" / "a.tar.gz")
    [warning] = [w for w in result.selection.warnings if ".env" in w]
    assert "left out as a secret" in warning and 'add ".env" to the target\'s `shared` files' in warning

    unpacked = tmp_path / "release"
    with tarfile.open(result.path) as archive:
        archive.extractall(unpacked, filter="data")
    release = next(p.parent for p in unpacked.rglob("index.js"))
    started = subprocess.run(
        ["node", "--env-file=.env", "index.js"], cwd=release, capture_output=True, text=True, timeout=30
    )
    assert started.returncode == 9 and ".env: not found" in started.stderr
    (release / ".env").write_text("GREETING=hello\n")  # what a target's shared .env links in
    started = subprocess.run(
        ["node", "--env-file=.env", "index.js"], cwd=release, capture_output=True, text=True, timeout=30
    )
    assert started.returncode == 0 and started.stdout == "loaded hello\n"

    (root / "deploysafe.toml").write_text('[targets.web]\npath = "/srv/api"\nshared = [".env"]\n')
    shared = pack(root, output=tmp_path / "out" / "b.tar.gz")
    assert [w for w in shared.selection.warnings if ".env" in w] == []
