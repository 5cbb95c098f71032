"""Same inputs, same bytes; one changed reachable file, a new hash and manifest."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from deploysafe.pack import pack
from tests.pack.conftest import FIXED


def test_two_packs_of_the_same_tree_are_byte_identical(fixed: Path, out: Path) -> None:
    first = pack(fixed, output=out / "a.tar.gz")
    second = pack(fixed, output=out / "b.tar.gz")

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.id == second.id


def test_two_copies_with_different_mtimes_and_places_give_the_same_bytes(
    copy_of: Callable[[Path, str], Path], out: Path
) -> None:
    one = copy_of(FIXED, "one")
    other = copy_of(FIXED, "elsewhere-deeper")
    for number, path in enumerate(sorted(p for p in other.rglob("*") if p.is_file())):
        os.utime(path, (1_000_000 + number * 7919, 1_500_000_000 + number * 104729))
    (other / "src" / "index.js").chmod(0o664)  # group write does not matter; only the x bit does

    assert (
        pack(one, output=out / "a.tar.gz").path.read_bytes() == pack(other, output=out / "b.tar.gz").path.read_bytes()
    )


def test_changing_one_reachable_file_changes_the_hash_and_the_manifest(fixed: Path, out: Path) -> None:
    before = pack(fixed, output=out)
    health = fixed / "src" / "routes" / "health.js"
    health.write_text(health.read_text() + "// changed\n")
    after = pack(fixed, output=out)

    assert after.id != before.id
    assert after.manifest["content_sha256"] != before.manifest["content_sha256"]
    changed = {f["path"] for f in after.files} ^ {f["path"] for f in before.files}
    assert not changed
    diff = [a["path"] for a, b in zip(after.files, before.files, strict=True) if a != b]
    assert diff == ["src/routes/health.js"]
    assert after.path != before.path and before.path.exists()


def test_changing_a_dormant_file_or_the_env_keeps_the_release_id(fixed: Path, out: Path) -> None:
    before = pack(fixed, output=out)
    (fixed / "src" / "legacy" / "public-signup.js").write_text("// rewritten\n")
    (fixed / ".env").write_text("DATABASE_URL=postgres://other\n")
    after = pack(fixed, output=out)

    # The same files ship (the recorded check summary may differ: the dormant file's fault is gone).
    assert after.id == before.id
    assert after.files == before.files


def test_a_large_tree_spanning_many_compression_pieces_is_still_deterministic(tmp_path: Path, out: Path) -> None:
    root = tmp_path / "big"
    (root / "src").mkdir(parents=True)
    imports = []
    for i in range(40):  # ~3 MB of varied text: several 1 MiB deflate pieces
        body = "".join(f"export const v{i}_{j} = '{os.urandom(16).hex()}';\n" for j in range(1500))
        (root / "src" / f"m{i}.js").write_text(body)
        imports.append(f"import './m{i}.js';")
    (root / "src" / "index.js").write_text("\n".join(imports) + "\n")
    (root / "package.json").write_text('{"name": "big", "version": "1.0.0", "type": "module", "main": "src/index.js"}')
    copy = tmp_path / "big-copy"
    shutil.copytree(root, copy)

    first = pack(root, output=out / "a.tar.gz")
    assert first.path.stat().st_size > 1 << 20
    assert pack(copy, output=out / "b.tar.gz").path.read_bytes() == first.path.read_bytes()
