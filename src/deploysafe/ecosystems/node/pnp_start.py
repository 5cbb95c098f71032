"""A Yarn Plug'n'Play service started without PnP's runtime: `node index.js` with no `-r ./.pnp.cjs` (or
`--loader ./.pnp.loader.mjs`), not through `yarn` (whose scripts and `yarn node` set NODE_OPTIONS to load it),
and no NODE_OPTIONS naming it. There is no node_modules, so Node's own lookup finds no package: the first
package the start loads throws `Cannot find module` (confirmed with Yarn 4.5 and Node 20).

Only a Procfile's command is judged: the shell runs it as written. A package.json script runs through the
package manager (`yarn start` loads the runtime for it), and a PM2 file or an entry given with --entry may
set the runtime where deploysafe does not look: those are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from deploysafe.check.findings import Finding, Severity
from deploysafe.check.graph import Edge, ModuleGraph
from deploysafe.check.resolution import ResolvedModule
from deploysafe.ecosystems.node.entries import Entry
from deploysafe.ecosystems.node.interiors import runs_at_load

RULE = "missing-package"
_RUNTIME_MARKS = (".pnp.cjs", ".pnp.loader.mjs", ".pnp.js", "NODE_OPTIONS")


def runs_without_runtime(entry: Entry, environment: Iterable[str] = ()) -> bool:
    """The entry's start command loads no PnP runtime (``environment``: the deploy targets' NODE_OPTIONS)."""
    if not entry.command or not entry.reason.startswith("Procfile") or any(".pnp" in v for v in environment):
        return False
    text = f"{entry.command} {entry.reason}"
    if any(mark in text for mark in _RUNTIME_MARKS):
        return False
    words = text.replace("(", " ").split()
    return "yarn" not in words and not any(os.path.basename(w) == "yarn" for w in words)


def unloaded_packages(graph: ModuleGraph, entries: Iterable[Entry], root: str) -> list[Finding]:
    """For each entry started without the runtime: the first package its start loads, as the crash."""
    found: list[Finding] = []
    for entry in entries:
        edge = _first_package_load(graph, os.path.join(root, entry.path))
        if edge is None:
            continue
        res = edge.resolution
        name = res.package if isinstance(res, ResolvedModule) and res.package else edge.imp.specifier
        command = entry.command.strip()
        message = (
            f"crashes at start: Cannot find module '{edge.imp.specifier}': the start command `{command}` runs node "
            f"without Yarn Plug'n'Play's runtime, and this project has no node_modules for '{name}' to be found in; "
            "load it: `node -r ./.pnp.cjs ...` (`--loader ./.pnp.loader.mjs` too for ES modules), or start "
            "through yarn (`yarn node ...`, `yarn start`)"
        )
        file = graph.rel(edge.source)
        finding = Finding(
            RULE,
            Severity.ERROR,
            file,
            edge.imp.line,
            edge.imp.column,
            message,
            True,
            tuple(graph.chain(edge.source)),
            specifier=edge.imp.specifier,
        )
        if all((f.file, f.line) != (finding.file, finding.line) for f in found):
            found.append(finding)
    return found


def _first_package_load(graph: ModuleGraph, entry: str) -> Edge | None:
    """The first import, breadth first through the project files the entry loads at start, that lands in
    a package."""
    seen = {entry}
    queue = [entry]
    for path in queue:
        module = graph.modules.get(path)
        if module is None:
            continue
        for edge in module.edges:
            if not runs_at_load(edge.imp) or edge.imp.specifier is None:
                continue
            res = edge.resolution
            if isinstance(res, ResolvedModule) and res.builtin:
                continue
            if isinstance(res, ResolvedModule) and res.package and res.path and not graph.is_project_file(res.path):
                return edge
            target = edge.target_path
            if target is not None and target not in seen and graph.is_project_file(target):
                seen.add(target)
                queue.append(target)
    return None
