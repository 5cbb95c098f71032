"""`unknown-file-extension` under require(): a package file of another extension loads when it parses as
JavaScript and fails when it does not (real node decides each case); `require.resolve` loads nothing; a file
over 4 MiB, or one the check cannot read, is reported unverified rather than judged either way."""

from __future__ import annotations

import json

from deploysafe import check
from deploysafe.check.findings import UNREADABLE
from tests.support import other_user
from tests.support.projects import run_node, write_tree

MIB = 1024 * 1024
LOADED = "console.log('loaded');\n"
APP = {"name": "app", "version": "1.0.0", "dependencies": {"kit": "1.0.0"}}
KIT = {"node_modules/kit/package.json": {"name": "kit", "version": "1.0.0"}}


def test_a_package_file_of_another_extension_loads_under_require_when_it_parses_as_javascript(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": APP,
            **KIT,
            "node_modules/kit/data.json": '{"a": 1}\n',  # JSON is never parsed as JavaScript
            "node_modules/kit/lib.txt": "module.exports = 2;\n",
            "node_modules/kit/style.css": "body { color: red }\n",
            "node_modules/kit/README.md": "# kit\n\nSee the docs.\n",
            "index.js": "require('kit/data.json');\nrequire('kit/lib.txt');\nrequire.resolve('kit/style.css');\n"
            + LOADED,
            "readme.js": "require('kit/README.md');\n" + LOADED,
            "node_modules/kit/broken.js": "module.exports = {;\n",
            "broken.js": "require('kit/broken.js');\n" + LOADED,
        },
    )
    loads = check(root, ["index.js"])
    assert loads.errors == [] and loads.unverified == []
    done = run_node(root, "index.js")
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr

    blocked = check(root, ["readme.js"])
    assert [(f.rule, f.file) for f in blocked.errors] == [("unknown-file-extension", "readme.js")]
    assert blocked.errors[0].message == (
        "crashes at start: SyntaxError: require() loads node_modules/kit/README.md as JavaScript (.md is not a "
        "module format Node knows) and it does not parse"
    )
    failed = run_node(root, "readme.js")
    assert failed.returncode != 0 and "SyntaxError" in failed.stderr, failed.stderr

    # a .js file is JavaScript by its name: a syntax error in it is syntax-error's finding, said once
    broken = check(root, ["broken.js"])
    assert [(f.rule, f.file) for f in broken.errors] == [("syntax-error", "broken.js")]
    failed = run_node(root, "broken.js")
    assert failed.returncode != 0 and "SyntaxError" in failed.stderr, failed.stderr


def test_a_file_up_to_4_mib_is_parsed_and_a_larger_one_is_unverified(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": APP,
            **KIT,
            # 4 MiB exactly: read, and it does not parse (a comment, then a stray `@` on the last line)
            "node_modules/kit/exact.txt": b"/*" + b"x" * (4 * MIB - 7) + b"*/\n@\n",
            "node_modules/kit/large.txt": b"//" + b"x" * (4 * MIB - 1),  # one byte more: a comment, it loads
            "exact.js": "require('kit/exact.txt');\n" + LOADED,
            "large.js": "require('kit/large.txt');\n" + LOADED,
        },
    )
    exact = check(root, ["exact.js"])
    assert [(f.rule, f.file) for f in exact.errors] == [("unknown-file-extension", "exact.js")]
    assert (root / "node_modules/kit/exact.txt").stat().st_size == 4 * MIB
    failed = run_node(root, "exact.js")
    assert failed.returncode != 0 and "SyntaxError" in failed.stderr, failed.stderr[-300:]

    large = check(root, ["large.js"])
    assert large.errors == []
    assert [(u.reason, u.file, u.detail) for u in large.unverified] == [
        (
            UNREADABLE,
            "large.js",
            "require() loads node_modules/kit/large.txt as JavaScript (.txt is not a module format Node knows); "
            "deploysafe did not parse it (larger than 4 MiB, or unreadable)",
        )
    ]
    done = run_node(root, "large.js")
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr[-300:]


def test_a_package_file_the_service_cannot_read_is_unverified_not_a_crash(tmp_path):
    """Run as another user (root reads any file), as the service would run: node fails with EACCES, the
    check names the file as unverified and exits 0."""
    with other_user.shared_folder() as shared:
        root = write_tree(
            shared / "app",
            {
                "package.json": APP,
                **KIT,
                "node_modules/kit/notes.txt": "module.exports = 1;\n",
                "index.js": "require('kit/notes.txt');\n" + LOADED,
            },
        )
        (root / "node_modules" / "kit" / "notes.txt").chmod(0o600)
        ran = other_user.node(root, "index.js")
        checked = other_user.deploysafe_check(shared, root, "--format", "json")
    assert ran.returncode != 0 and "EACCES" in ran.stderr, ran.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["summary"]["errors"] == 0, report
    doubts = [u for u in report["unverified"] if "kit/notes.txt" in u["detail"]]
    assert doubts, report["unverified"]
