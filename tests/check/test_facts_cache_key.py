"""The facts cache never serves facts another parser wrote: its key is a digest of the parser's code and
grammars, so an edited or upgraded parser parses again, with no constant to remember to bump."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import deploysafe
from deploysafe.ecosystems.node.parse import version
from tests.support.projects import run_node, write_tree

GUARDED = "guarded=where.in_try)"
CHECK = (
    "import json, sys, deploysafe\n"
    "report = deploysafe.check(sys.argv[1])\n"
    "print(json.dumps({'module': deploysafe.__file__, 'parsed': report.parsed,"
    " 'findings': [(f.rule, str(f.severity), f.file) for f in report.findings]}))\n"
)


def run_check(package_parent: Path, root: Path, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(package_parent), "DEPLOYSAFE_CACHE_DIR": str(cache)}
    env.pop("DEPLOYSAFE_NO_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(root)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["module"].startswith(str(package_parent))  # the copy ran, not the installed package
    return result


def test_an_edited_parser_does_not_read_facts_the_old_one_cached(tmp_path: Path) -> None:
    """The regression the old hand-set key let through: with a warm cache, a parser that stops marking a
    require() inside try as guarded still reported the guarded verdict."""
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0"},
            "index.js": "let native;\ntry { native = require('pg-native'); } catch { native = null; }\n"
            "console.log('loaded');\n",
        },
    )
    assert run_node(root, "index.js").returncode == 0  # node: the failure is handled, the service loads
    original = tmp_path / "original"
    shutil.copytree(Path(deploysafe.__file__).parent, original / "deploysafe")
    broken = tmp_path / "broken"
    shutil.copytree(original, broken)
    parser = broken / "deploysafe" / "ecosystems" / "node" / "parse" / "javascript.py"
    source = parser.read_text()
    assert source.count(GUARDED) == 1, "the guarded require() line moved: update this test"
    parser.write_text(source.replace(GUARDED, "guarded=False)"))
    cache = tmp_path / "cache"

    cold = run_check(original, root, cache)
    warm = run_check(original, root, cache)
    assert cold["findings"] == warm["findings"]
    assert [rule for rule, severity, _ in cold["findings"]] == ["missing-package"]
    assert cold["findings"][0][1] == "warning"
    assert (cold["parsed"], warm["parsed"]) == (1, 0)

    after_edit = run_check(broken, root, cache)
    assert after_edit["parsed"] == 1
    assert after_edit["findings"] == [["missing-package", "error", "index.js"]]  # the edit shows, not hidden


def test_the_parser_digest_covers_the_parse_modules_facts_and_grammar_versions() -> None:
    files = {path.name for path in version._producers()}
    assert {"javascript.py", "commonjs.py", "assets.py", "facts.py", "version.py"} <= files
    assert version.parser_version() == version.parser_version()
    assert version.parser_version().startswith("js-")


def test_the_digest_changes_with_any_byte_of_a_producer_or_a_grammar_version(tmp_path: Path, monkeypatch) -> None:
    producer = tmp_path / "javascript.py"
    producer.write_text("x = 1\n")
    monkeypatch.setattr(version, "_producers", lambda: [producer])

    def digest() -> str:
        version.parser_version.cache_clear()
        return version.parser_version()

    try:
        first = digest()
        producer.write_text("x = 2\n")
        second = digest()
        monkeypatch.setattr(version, "_version", lambda name: "9.9.9" if name == "tree-sitter-javascript" else "1")
        third = digest()
    finally:
        version.parser_version.cache_clear()
    assert len({first, second, third}) == 3
