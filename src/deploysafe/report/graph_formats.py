"""The import graph as the graph formats draw it (HTML, Graphviz dot, Mermaid), from a check report.

One view model for all of them: a node per project file (entry, reachable or dormant), per package the
code imports, and per file or package an import names that is not there (missing); a link per import,
marked ``error`` or ``warning`` when a finding sits on it (the red edges), with the findings' messages.
Node built-ins and computed specifiers are left out: they are not part of the map a person fixes.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

from deploysafe.check.findings import Finding, Severity
from deploysafe.check.graph import Edge, ModuleGraph
from deploysafe.check.pipeline import Report
from deploysafe.check.resolution import PACKAGE_NOT_FOUND, ResolvedModule, Unresolved
from deploysafe.errors import DeploysafeError

ENTRY, REACHABLE, DORMANT, PACKAGE, MISSING = "entry", "reachable", "dormant", "package", "missing"
OK, ERROR, WARNING = "ok", "error", "warning"
PACKAGES_FOLDER = "node_modules"  # where package nodes sit when the map groups nodes by folder


@dataclass(slots=True)
class Node:
    id: str  # a project path relative to root, or "node_modules/<package>" for a package
    kind: str  # entry | reachable | dormant | package | missing
    label: str
    folder: str  # "" at the root; "node_modules" for packages
    chain: list[str] = field(default_factory=list)  # shortest chain from an entry; [] when not reachable
    findings: list[Finding] = field(default_factory=list)  # findings in this file

    @property
    def status(self) -> str:
        severities = {f.severity for f in self.findings}
        return ERROR if Severity.ERROR in severities else WARNING if severities else OK


@dataclass(slots=True)
class Link:
    source: str
    target: str
    kind: str  # import | export-from | require | dynamic-import
    line: int
    column: int
    specifier: str
    status: str = OK  # ok | error | warning
    messages: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)


@dataclass(slots=True)
class GraphView:
    root: str
    entries: list[str]
    nodes: dict[str, Node]
    links: list[Link]

    def broken(self) -> list[Link]:
        return [link for link in self.links if link.status != OK]


def graph_view(report: Report) -> GraphView:
    """The drawable graph of ``report``: every project file, the packages and missing files they import."""
    graph = report.graph
    if graph is None:
        raise DeploysafeError("this report carries no module graph (it was not made by deploysafe.check)")
    nodes: dict[str, Node] = {}
    entries = {graph.rel(p) for p in graph.entries}
    for path in sorted(graph.modules):
        if not graph.is_project_file(path):
            continue
        rel = graph.rel(path)
        kind = ENTRY if rel in entries else REACHABLE if graph.is_reachable(path) else DORMANT
        nodes[rel] = _node(rel, kind, graph.chain(path))
    links: list[Link] = []
    for path in sorted(graph.modules):
        if not graph.is_project_file(path):
            continue
        for edge in graph.modules[path].edges:
            link = _link(graph, edge, nodes)
            if link is not None:
                links.append(link)
    _attach(report.findings, nodes, links)
    return GraphView(report.root, sorted(entries), nodes, links)


def _node(ident: str, kind: str, chain: list[str] | None = None) -> Node:
    if ident.startswith(PACKAGES_FOLDER + "/"):
        return Node(ident, kind, ident.removeprefix(PACKAGES_FOLDER + "/"), PACKAGES_FOLDER)
    folder, _, name = ident.rpartition("/")
    return Node(ident, kind, name or ident, folder, chain or [])


def _link(graph: ModuleGraph, edge: Edge, nodes: dict[str, Node]) -> Link | None:
    res, imp = edge.resolution, edge.imp
    if res is None or imp.specifier is None or imp.type_only:
        return None  # computed specifier (listed as unverified) or erased at compile time
    target = _target(graph, res, imp.specifier, nodes)
    if target is None:
        return None
    return Link(graph.rel(edge.source), target, str(imp.kind), imp.line, imp.column, imp.specifier)


def _target(graph: ModuleGraph, res: ResolvedModule | Unresolved, specifier: str, nodes: dict[str, Node]) -> str | None:
    """The node an edge points at (made when it is a package or a missing file); None for built-ins."""
    if isinstance(res, ResolvedModule):
        if res.path is None:
            return None  # node:fs, data: URLs
        if graph.is_project_file(res.path):
            return _file(graph, nodes, res.path)
        return _package(nodes, res.package or _package_name(res.path), PACKAGE)
    if res.intended and graph.is_project_file(res.intended):
        # Mistyped (letter case, extension, index): the file it meant exists; the red edge points at it.
        return _file(graph, nodes, os.path.realpath(res.intended))
    if res.package:
        return _package(nodes, res.package, MISSING if res.reason == PACKAGE_NOT_FOUND else PACKAGE)
    ident = graph.rel(res.path) if res.path else specifier
    if ident not in nodes:
        nodes[ident] = _node(ident, MISSING)
    return ident


def _file(graph: ModuleGraph, nodes: dict[str, Node], path: str) -> str:
    ident = graph.rel(path)
    if ident not in nodes:  # a file the scan leaves out (an excluded test helper) that some file imports
        nodes[ident] = _node(ident, REACHABLE if graph.is_reachable(path) else DORMANT, graph.chain(path))
    return ident


def _package(nodes: dict[str, Node], name: str | None, kind: str) -> str:
    ident = f"{PACKAGES_FOLDER}/{name or '?'}"
    known = nodes.get(ident)
    if known is None:
        nodes[ident] = _node(ident, kind)
    elif kind == PACKAGE:
        known.kind = PACKAGE  # installed where some file looks, even if another file cannot find it
    return ident


def _package_name(path: str) -> str:
    tail = path.replace(os.sep, "/").rsplit("/node_modules/", 1)[-1].split("/")
    return "/".join(tail[:2]) if tail[0].startswith("@") else tail[0]


def _attach(findings: list[Finding], nodes: dict[str, Node], links: list[Link]) -> None:
    """Put each finding on its file and, when it is about an import, on that import's link."""
    by_specifier: dict[tuple[str, str], list[Link]] = defaultdict(list)
    for link in links:
        by_specifier[(link.source, link.specifier)].append(link)
    for finding in findings:
        if finding.file in nodes:
            nodes[finding.file].findings.append(finding)
        candidates = by_specifier.get((finding.file, finding.specifier or ""), [])
        if not candidates:
            continue
        same_line = [x for x in candidates if x.line == finding.line]
        for link in same_line or candidates[:1]:
            link.messages.append(finding.message)
            link.rules.append(finding.rule)
            if finding.severity is Severity.ERROR:
                link.status = ERROR
            elif link.status == OK:
                link.status = WARNING


# ---- grouping by folder (dot and mermaid with --folders; the HTML map does it in the browser) ----------


def folder_of(node: Node, depth: int | None) -> str:
    """The folder ``node`` is drawn in when folders are collapsed to ``depth`` levels (None: its own)."""
    if node.folder == PACKAGES_FOLDER:
        return PACKAGES_FOLDER
    parts = node.folder.split("/") if node.folder else []
    return "/".join(parts if depth is None else parts[:depth]) or "."


def collapsed(view: GraphView, depth: int) -> GraphView:
    """``view`` with every file folded into its folder ``depth`` levels down; links merged, worst status kept."""
    nodes: dict[str, Node] = {}
    for node in view.nodes.values():
        folder = folder_of(node, depth)
        group = nodes.setdefault(folder, Node(folder, node.kind, folder + "/", ""))
        group.findings.extend(node.findings)
        group.kind = _merged_kind(group.kind, node.kind)
    merged: dict[tuple[str, str], Link] = {}
    for link in view.links:
        source = folder_of(view.nodes[link.source], depth)
        target = folder_of(view.nodes[link.target], depth)
        if source == target:
            continue
        into = merged.setdefault((source, target), Link(source, target, link.kind, 0, 0, ""))
        into.messages.extend(link.messages)
        into.rules.extend(link.rules)
        into.status = _worst(into.status, link.status)
    return GraphView(view.root, view.entries, nodes, list(merged.values()))


# A folder shows its liveliest member: missing only when all of it is missing, dormant when nothing loads it.
_KIND_RANK = {MISSING: 0, DORMANT: 1, PACKAGE: 2, REACHABLE: 3, ENTRY: 4}


def _merged_kind(current: str, new: str) -> str:
    return new if _KIND_RANK[new] > _KIND_RANK[current] else current


def _worst(a: str, b: str) -> str:
    order = {OK: 0, WARNING: 1, ERROR: 2}
    return a if order[a] >= order[b] else b


# ---- Graphviz dot ------------------------------------------------------------------------------------

_DOT_NODE = {
    ENTRY: 'shape=box, style="rounded,filled,bold", fillcolor="#dbeafe", color="#1d4ed8"',
    REACHABLE: 'shape=box, style="rounded,filled", fillcolor="#ffffff", color="#334155"',
    DORMANT: 'shape=box, style="rounded,filled,dashed", fillcolor="#e5e7eb", color="#9ca3af", fontcolor="#6b7280"',
    PACKAGE: 'shape=component, style="filled", fillcolor="#f3e8ff", color="#7e22ce"',
    MISSING: 'shape=box, style="rounded,dashed", color="#dc2626", fontcolor="#dc2626"',
}


def to_dot(view: GraphView) -> str:
    """Graphviz dot: folders as clusters, dormant files grey, broken imports red with their message."""
    lines = ["digraph deploysafe {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    lines.append('  edge [color="#64748b", arrowsize=0.7];')
    by_folder: dict[str, list[Node]] = defaultdict(list)
    for node in view.nodes.values():
        by_folder[node.folder].append(node)
    for index, folder in enumerate(sorted(by_folder)):
        indent = "  "
        if folder:
            lines.append(f"  subgraph cluster_{index} {{")
            lines.append(f'    label={_dot(folder + "/")}; color="#cbd5e1"; fontname="Helvetica"; fontsize=10;')
            indent = "    "
        for node in sorted(by_folder[folder], key=lambda n: n.id):
            style = _DOT_NODE[node.kind]
            if node.status == ERROR and node.kind not in (MISSING,):
                style += ', penwidth=2, color="#dc2626"'
            label = node.label + (" (missing)" if node.kind == MISSING else "")
            lines.append(f"{indent}{_dot(node.id)} [label={_dot(label)}, tooltip={_dot(node.id)}, {style}];")
        if folder:
            lines.append("  }")
    for link in view.links:
        attributes = []
        if link.kind == "dynamic-import":
            attributes.append("style=dashed")
        if link.status != OK:
            attributes += ['color="#dc2626"', "penwidth=2" if link.status == ERROR else "penwidth=1"]
            attributes.append(f"tooltip={_dot('; '.join(link.messages))}")
            attributes.append(f"label={_dot(', '.join(dict.fromkeys(link.rules)))}")
            attributes.append('fontcolor="#dc2626"')
            attributes.append("fontsize=9")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_dot(link.source)} -> {_dot(link.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ---- Mermaid -----------------------------------------------------------------------------------------

_MERMAID_CLASSES = (
    "classDef entry fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px",
    "classDef reachable fill:#ffffff,stroke:#334155",
    "classDef dormant fill:#e5e7eb,stroke:#9ca3af,color:#6b7280,stroke-dasharray:4 3",
    "classDef package fill:#f3e8ff,stroke:#7e22ce",
    "classDef missing fill:#fff,stroke:#dc2626,color:#dc2626,stroke-dasharray:4 3",
    "classDef broken stroke:#dc2626,stroke-width:2px",
)


def to_mermaid(view: GraphView) -> str:
    """A Mermaid flowchart (GitHub renders it in Markdown): same classes and red links as the dot output."""
    ids = {node_id: f"n{i}" for i, node_id in enumerate(sorted(view.nodes))}
    lines = ["flowchart LR"]
    by_folder: dict[str, list[Node]] = defaultdict(list)
    for node in view.nodes.values():
        by_folder[node.folder].append(node)
    for index, folder in enumerate(sorted(by_folder)):
        indent = "  "
        if folder:
            lines.append(f'  subgraph f{index}["{_mermaid(folder + "/")}"]')
            indent = "    "
        for node in sorted(by_folder[folder], key=lambda n: n.id):
            label = node.label + (" (missing)" if node.kind == MISSING else "")
            lines.append(f'{indent}{ids[node.id]}["{_mermaid(label)}"]:::{node.kind}')
        if folder:
            lines.append("  end")
    red: list[int] = []
    for index, link in enumerate(view.links):
        arrow = "-.->" if link.kind == "dynamic-import" else "-->"
        if link.status != OK:
            red.append(index)
            rules = ", ".join(dict.fromkeys(link.rules))
            lines.append(f'  {ids[link.source]} {arrow}|"{_mermaid(rules)}"| {ids[link.target]}')
        else:
            lines.append(f"  {ids[link.source]} {arrow} {ids[link.target]}")
    lines += [f"  {c}" for c in _MERMAID_CLASSES]
    failing = [ids[n.id] for n in view.nodes.values() if n.status == ERROR and n.kind != MISSING]
    if failing:
        lines.append(f"  class {','.join(sorted(failing))} broken")
    if red:
        lines.append(f"  linkStyle {','.join(map(str, red))} stroke:#dc2626,stroke-width:2px,color:#dc2626")
    return "\n".join(lines) + "\n"


_MERMAID_UNSAFE = re.compile(r'["<>#&]')


def _mermaid(text: str) -> str:
    return _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group())};", text)
