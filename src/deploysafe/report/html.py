"""The check report as one self-contained HTML page: the dependency map.

Reachable files, dormant files greyed, packages, missing files, and the imports that fail drawn in red
with their messages; search by file name; click a file for its imports, importers and chain from the
entry. Big projects open folded by folder. The layout is dagre's (vendored under ``assets/``, inlined);
the page loads nothing from the network (its Content-Security-Policy forbids it), so it works offline
and can be attached to a CI run as it is.
"""

from __future__ import annotations

import html
import json
import os
from functools import cache
from importlib import resources

from deploysafe import __version__
from deploysafe.check.pipeline import Report
from deploysafe.report.graph_formats import GraphView, graph_view

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def render(report: Report) -> str:
    view = graph_view(report)
    data = page_data(report, view)
    name = os.path.basename(report.root.rstrip("/")) or report.root
    verdict = "DEPLOYABLE" if report.deployable else "BLOCKED"
    summary = report.summary()
    return _TEMPLATE.format(
        csp=CSP,
        title=html.escape(f"deploysafe · {name} · {verdict}"),
        name=html.escape(name),
        root=html.escape(report.root),
        verdict=verdict,
        verdict_class=verdict.lower(),
        files=summary["files"],
        reachable=summary["reachable"],
        dormant=summary["dormant"],
        errors=summary["errors"],
        warnings=summary["warnings"],
        errors_s="" if summary["errors"] == 1 else "s",
        warnings_s="" if summary["warnings"] == 1 else "s",
        css=_asset("map.css"),
        licence=_asset("dagre.LICENSE").replace("*/", "* /"),
        dagre=_script(_asset("dagre.min.js")),
        app=_script(_asset("map.js")),
        data=_json_for_script(data),
        version=__version__,
    )


def page_data(report: Report, view: GraphView) -> dict[str, object]:
    """What the page script reads: nodes, links (by node index) and findings (by index)."""
    index = {node_id: i for i, node_id in enumerate(view.nodes)}
    finding_index = {id(f): i for i, f in enumerate(report.findings)}
    nodes = [
        {
            "id": n.id,
            "kind": n.kind,
            "label": n.label,
            "folder": n.folder,
            "chain": n.chain,
            "findings": [finding_index[id(f)] for f in n.findings if id(f) in finding_index],
        }
        for n in view.nodes.values()
    ]
    links = []
    for link in view.links:
        item: dict[str, object] = {
            "s": index[link.source],
            "t": index[link.target],
            "k": link.kind,
            "l": link.line,
            "sp": link.specifier,
            "st": link.status,
        }
        if link.messages:
            item["m"] = link.messages
            item["r"] = list(dict.fromkeys(link.rules))
        links.append(item)
    return {
        "name": os.path.basename(report.root.rstrip("/")) or report.root,
        "root": report.root,
        "deployable": report.deployable,
        "summary": report.summary(),
        "entries": [e.path for e in report.entries],
        "nodes": nodes,
        "links": links,
        "findings": [
            {k: v for k, v in f.to_json().items() if k in ("rule", "severity", "file", "line", "column", "message")}
            for f in report.findings
        ],
        "unverified": [u.to_json() for u in report.unverified],
    }


@cache
def _asset(name: str) -> str:
    return resources.files("deploysafe.report").joinpath("assets", name).read_text(encoding="utf-8")


def _script(source: str) -> str:
    """Source safe inside <script>: no sequence in it can close the element early."""
    return source.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _json_for_script(data: object) -> str:
    # '<' only occurs inside JSON strings, where \u003c means the same: nothing can close the element.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="deploysafe {version}">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
<header>
  <h1>deploysafe <span class="root" title="{root}">· {name}</span></h1>
  <span class="verdict {verdict_class}" id="verdict">{verdict}</span>
  <span class="counts"><b>{files}</b> files · <b>{reachable}</b> loaded · <b>{dormant}</b> dormant ·
    <b class="err">{errors}</b> error{errors_s} · <b>{warnings}</b> warning{warnings_s}</span>
  <span class="tools"><button id="fit" type="button" title="Fit the map to the window">Fit</button>
    <button id="fold" type="button" title="Fold folders back to the first view">Fold</button></span>
  <div class="search">
    <input id="search" type="search" placeholder="Search files (press /)" autocomplete="off" spellcheck="false"
      aria-label="Search files by name">
    <ul id="results" hidden></ul>
  </div>
</header>
<main id="stage">
  <svg id="map" role="img" aria-label="Import graph">
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker>
      <marker id="arrow-red" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
        <path d="M0,0 L10,5 L0,10 z" fill="#dc2626"/></marker>
    </defs>
    <g id="viewport"><g id="edges"></g><g id="nodes"></g></g>
  </svg>
  <div class="legend">
    <span><i class="l-entry"></i>entry</span><span><i class="l-file"></i>loaded file</span>
    <span><i class="l-dormant"></i>dormant (no entry loads it)</span><span><i class="l-package"></i>package</span>
    <span><i class="l-missing"></i>missing</span><span><i class="l-folder"></i>folded folder</span>
    <span><i class="l-broken"></i>import that fails</span>
  </div>
  <div id="status">laying out…</div>
</main>
<aside class="panel" id="panel"></aside>
<script id="deploysafe-data" type="application/json">{data}</script>
<script>
/*! @dagrejs/dagre 3.1.3 with @dagrejs/graphlib 4.0.6, vendored from the npm registry.
{licence}*/
{dagre}
</script>
<script>
{app}
</script>
</body>
</html>
"""
