"""What a service's package.json declares, judged at its edges, each verdict beside real node's: a dev
dependency imported by a subpath is still a dev dependency; a package's own (wrong) declarations are not the
service's business when node loads the import; a package declared but not installed here is unverified."""

from __future__ import annotations

from deploysafe import check
from deploysafe.check.findings import NOT_INSTALLED
from tests.support.projects import run_node, write_tree

LOADED = "console.log('loaded');\n"


def test_a_dev_dependency_imported_by_a_subpath_blocks_as_production_leaves_it_out(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "devDependencies": {"kit": "1.0.0"}},
            "index.js": "require('kit/sub');\n" + LOADED,  # as after `npm ci --omit=dev`: kit is not installed
        },
    )
    report = check(root)
    assert [(f.rule, f.file) for f in report.errors] == [("dev-dependency-at-runtime", "index.js")]
    assert report.errors[0].message.startswith(
        "crashes at start: Cannot find package 'kit' imported from index.js; it is only in devDependencies"
    )
    failed = run_node(root, "index.js")
    assert failed.returncode != 0 and "Cannot find module 'kit/sub'" in failed.stderr, failed.stderr


def test_a_package_that_lists_its_own_dependency_as_dev_only_still_loads_it_and_is_not_blamed(tmp_path):
    # `a` requires `b` but lists it in its devDependencies, and `c` not at all: both are installed at the
    # top level for the service, so node loads them. Only the service's own declarations are judged.
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {
                "name": "app",
                "version": "1.0.0",
                "dependencies": {"a": "1.0.0", "b": "1.0.0", "c": "1.0.0"},
            },
            "node_modules/a/package.json": {"name": "a", "version": "1.0.0", "devDependencies": {"b": "1.0.0"}},
            "node_modules/a/index.js": "require('b');\nrequire('c');\n",
            "node_modules/b/package.json": {"name": "b", "version": "1.0.0"},
            "node_modules/b/index.js": "module.exports = 1;\n",
            "node_modules/c/package.json": {"name": "c", "version": "1.0.0"},
            "node_modules/c/index.js": "module.exports = 2;\n",
            "index.js": "require('a');\n" + LOADED,
        },
    )
    report = check(root)
    assert report.errors == [] and report.warnings == []
    done = run_node(root, "index.js")
    assert done.returncode == 0 and "loaded" in done.stdout, done.stderr


def test_a_declared_package_that_is_not_installed_here_is_unverified_not_blocked(tmp_path):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "dependencies": {"kit": "1.0.0"}},
            "index.js": "require('kit');\n" + LOADED,
        },
    )
    report = check(root)
    assert report.errors == []
    assert [(u.reason, u.file, u.detail) for u in report.unverified] == [
        (
            NOT_INSTALLED,
            "index.js",
            "'kit' is declared in dependencies but not installed here; run npm ci to check what is imported from it",
        )
    ]
