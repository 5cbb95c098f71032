"""A file the parser fails on (an internal fault, not a syntax error) is never taken for a file without
imports: the check lists it as unverified, so a clean verdict is never a quiet blind spot."""

from __future__ import annotations

from deploysafe import check
from deploysafe.ecosystems.node.parse import javascript
from tests.support.projects import write_tree


def test_a_file_the_parser_fails_on_is_unverified_not_silently_empty(tmp_path, monkeypatch):
    root = write_tree(
        tmp_path / "app",
        {
            "package.json": {"name": "app", "version": "1.0.0", "type": "module"},
            "index.js": "import './routes.js';\nconsole.log('loaded');\n",
            "routes.js": "import './missing.js';\n",  # its import would block, if the parser could read it
        },
    )
    read = javascript._read

    def failing(source: bytes, dialect: javascript.Dialect):
        if b"missing.js" in source:
            raise RecursionError("maximum recursion depth exceeded")
        return read(source, dialect)

    monkeypatch.setattr(javascript, "_read", failing)
    report = check(root, cache=False)
    assert [(u.file, u.reachable) for u in report.unverified] == [("routes.js", True)]
    assert "parser failed on it (RecursionError: maximum recursion depth exceeded)" in report.unverified[0].detail
    assert report.to_json()["summary"]["unverified"] == 1
