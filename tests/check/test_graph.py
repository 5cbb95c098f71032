"""How the graph names files: relative to the root with '/', exactly as os.path.relpath would, also for
the paths its fast way (slicing off the root) must leave to relpath."""

from __future__ import annotations

import os

import pytest

from deploysafe.check.graph import _relative


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("/srv/app/src/index.js", "/srv/app"),
        ("/srv/app/src/index.js", "/srv/app/"),
        ("/srv/app", "/srv/app"),
        ("/srv/application/x.js", "/srv/app"),  # a sibling sharing the root's name as a prefix
        ("/srv/app/node_modules/.pnpm/a@1/node_modules/a/i.js", "/srv/app"),
        ("/srv/app/src/../lib/x.js", "/srv/app"),
        ("/srv/app//src/x.js", "/srv/app"),
        ("/srv/app/src/", "/srv/app"),
        ("/srv/app/x.js", "/srv/./app"),
        ("/other/x.js", "/srv/app"),
        ("/x.js", "/"),
    ],
)
def test_a_file_is_named_as_relpath_names_it(path: str, root: str) -> None:
    assert _relative(path, root) == os.path.relpath(path, root).replace(os.sep, "/")
