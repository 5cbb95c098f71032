"""A folder with its own package.json that no entry loads from is another application (a React frontend
beside the API): listed once, not scanned, so its files are neither dormant code nor warnings; a nested
package the service does load is the service's own; [check] include_nested = true scans them all."""

from __future__ import annotations

import json
from pathlib import Path

from deploysafe import check
from tests.support.projects import run_cli, run_node, write_tree

REPO = {
    "package.json": {"name": "api", "version": "1.0.0", "scripts": {"start": "node src/index.js"}},
    "src/index.js": "const { greet } = require('../shared/greet');\nconsole.log(greet('api'));\n",
    "shared/package.json": {"name": "shared", "version": "1.0.0", "main": "greet.js"},
    "shared/greet.js": "exports.greet = (who) => `hello ${who}`;\n",
    "shared/old.js": "require('./gone');\n",  # dormant in a folder the service loads from: a warning
    "frontend/package.json": {"name": "web", "private": True, "dependencies": {"react": "^19.0.0"}},
    "frontend/src/App.jsx": "import React from 'react';\nimport { Button } from './Button.jsx';\n"
    "export default function App() { return <Button />; }\n",
    "frontend/src/Button.jsx": "export const Buton = () => <button />;\n",
    "frontend/src/main.jsx": "import { createRoot } from 'react-dom/client';\nimport App from './App';\n",
}


def test_an_application_beside_the_service_is_listed_once_and_not_scanned(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", REPO)
    assert run_node(root, "src/index.js").stdout == "hello api\n"

    report = check(root)
    assert [(n.path, n.reason) for n in report.nested] == [
        ("frontend/", "its own package.json; not part of this service")
    ]
    assert report.deployable and report.dormant == ["shared/old.js"]
    assert [(f.file, f.rule) for f in report.findings] == [("shared/old.js", "unresolved-import")]
    assert report.unverified == [] and report.files == 3  # src/index.js, shared/greet.js, shared/old.js

    text = run_cli("check", str(root)).stdout
    assert "  frontend/ — its own package.json; not part of this service" in text
    assert "not scanned ([check] include_nested = true scans them)" in text  # not eaten as markup
    assert json.loads(run_cli("check", str(root), "--format", "json").stdout)["nested"] == [
        {"path": "frontend/", "reason": "its own package.json; not part of this service"}
    ]

    (root / "deploysafe.toml").write_text("[check]\ninclude_nested = true\n")
    scanned = check(root)
    assert scanned.nested == [] and scanned.deployable
    assert sorted(scanned.dormant) == [
        "frontend/src/App.jsx",
        "frontend/src/Button.jsx",
        "frontend/src/main.jsx",
        "shared/old.js",
    ]
    assert {f.file for f in scanned.warnings} >= {"frontend/src/App.jsx", "frontend/src/main.jsx"}
