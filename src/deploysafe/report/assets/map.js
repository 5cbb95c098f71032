/* deploysafe dependency map: folds the import graph by folder, lays it out with dagre, draws it in SVG.
   Reads its data from <script id="deploysafe-data" type="application/json">; needs nothing else. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("deploysafe-data").textContent);
  var LIMIT = 80; // boxes drawn before folders are folded: a first view that can be read
  var SVGNS = "http://www.w3.org/2000/svg";
  var ROOT_NAME = DATA.name || "(root)";

  // ---- the data, indexed -------------------------------------------------------------------------

  var nodes = DATA.nodes;
  var links = DATA.links;
  var findings = DATA.findings;
  var byId = new Map();
  nodes.forEach(function (n, i) {
    n.i = i;
    n.out = [];
    n.in = [];
    n.errors = 0;
    n.warnings = 0;
    (n.findings || []).forEach(function (f) {
      if (findings[f].severity === "error") n.errors++;
      else n.warnings++;
    });
    byId.set(n.id, n);
  });
  links.forEach(function (l, i) {
    l.i = i;
    nodes[l.s].out.push(l);
    nodes[l.t].in.push(l);
  });

  // ---- folders -----------------------------------------------------------------------------------

  var folders = new Map();
  function folderAt(path) {
    var known = folders.get(path);
    if (known) return known;
    var cut = path.lastIndexOf("/");
    var parent = path === "" ? null : folderAt(cut < 0 ? "" : path.slice(0, cut));
    var f = {
      path: path, name: path === "" ? ROOT_NAME : path.slice(cut + 1), parent: parent, depth: parent ? parent.depth + 1 : 0,
      folders: [], files: [], total: 0, errors: 0, warnings: 0, live: 0
    };
    if (parent) parent.folders.push(f);
    folders.set(path, f);
    return f;
  }
  var root = folderAt("");
  nodes.forEach(function (n) {
    var f = folderAt(n.folder);
    f.files.push(n);
    n.chainOfFolders = [];
    for (var a = f; a; a = a.parent) {
      a.total++;
      a.errors += n.errors;
      a.warnings += n.warnings;
      if (n.kind !== "dormant") a.live++;
      n.chainOfFolders.unshift(a);
    }
  });
  folders.forEach(function (f) {
    f.folders.sort(function (a, b) { return a.name < b.name ? -1 : 1; });
  });

  var expanded = new Set([""]);

  function initialFolding() {
    if (nodes.length <= LIMIT) {
      folders.forEach(function (f) { expanded.add(f.path); });
      return;
    }
    var count = root.folders.length + root.files.length;
    var queue = root.folders.slice().sort(byTrouble);
    while (queue.length) {
      var f = queue.shift();
      var delta = f.folders.length + f.files.length - 1;
      if (count + delta <= LIMIT) {
        expanded.add(f.path);
        count += delta;
        queue = queue.concat(f.folders.slice().sort(byTrouble));
      }
    }
  }
  function byTrouble(a, b) { return b.errors - a.errors || a.total - b.total; }

  function unitOf(n) {
    var chain = n.chainOfFolders;
    for (var i = 1; i < chain.length; i++) {
      if (!expanded.has(chain[i].path)) return "d:" + chain[i].path;
    }
    return "f:" + n.id;
  }

  // ---- measuring text ----------------------------------------------------------------------------

  var ctx = document.createElement("canvas").getContext("2d");
  var FONT = getComputedStyle(document.documentElement).fontFamily;
  function textWidth(text, size, weight) {
    if (!ctx) return text.length * size * 0.62;
    ctx.font = (weight || 400) + " " + size + "px " + FONT;
    return ctx.measureText(text).width;
  }

  // ---- layout and drawing ------------------------------------------------------------------------

  var svg = document.getElementById("map");
  var viewport = document.getElementById("viewport");
  var layers = { edges: document.getElementById("edges"), nodes: document.getElementById("nodes") };
  var current = { units: new Map(), edges: new Map(), unitOfNode: [], width: 0, height: 0, layoutMs: 0 };

  function svgEl(tag, attrs, parent) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function makeUnit(key) {
    if (key.charAt(0) === "f") {
      var n = byId.get(key.slice(2));
      var name = n.label + (n.kind === "missing" ? " (missing)" : "");
      return { key: key, node: n, name: name, sub: n.folder || "", kind: n.kind, errors: n.errors, warnings: n.warnings };
    }
    var f = folders.get(key.slice(2));
    var kind = f.path === "node_modules" ? "package" : f.live ? "reachable" : "dormant";
    return {
      key: key, folder: f, name: f.name + "/  " + f.total + (f.total === 1 ? " file" : " files"),
      sub: f.parent && f.parent.path ? f.parent.path : "", kind: kind, errors: f.errors, warnings: f.warnings
    };
  }

  function layout() {
    var started = performance.now();
    var units = new Map();
    var unitOfNode = nodes.map(function (n) {
      var key = unitOf(n);
      if (!units.has(key)) units.set(key, makeUnit(key));
      return key;
    });
    var edges = new Map();
    links.forEach(function (l) {
      var a = unitOfNode[l.s], b = unitOfNode[l.t];
      if (a === b) return;
      var key = a + "\u0000" + b;
      var e = edges.get(key);
      if (!e) edges.set(key, e = { key: key, from: a, to: b, links: [], status: "ok", dynamic: true });
      e.links.push(l);
      if (l.st === "error" || (l.st === "warning" && e.status === "ok")) e.status = l.st;
      if (l.k !== "dynamic-import") e.dynamic = false;
    });
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 10, ranksep: 64, marginx: 24, marginy: 24 });
    g.setDefaultEdgeLabel(function () { return {}; });
    units.forEach(function (u) {
      var badge = u.errors || u.warnings ? 14 : 0;
      u.width = Math.ceil(Math.max(textWidth(u.name, 12, 600), textWidth(u.sub, 10, 400)) + 20 + badge);
      u.height = u.sub ? 36 : 26;
      g.setNode(u.key, { width: u.width, height: u.height });
    });
    edges.forEach(function (e) {
      var label = { weight: e.status === "ok" ? 1 : 2 };
      if (e.status !== "ok") { // room for the rule names beside a red arrow, so they never sit on a box
        e.label = rulesOf(e).join(", ");
        label.width = Math.ceil(textWidth(e.label, 10, 400)) + 6;
        label.height = 14;
        label.labelpos = "c";
      }
      g.setEdge(e.from, e.to, label);
    });
    dagre.layout(g);
    units.forEach(function (u) {
      var p = g.node(u.key);
      u.x = p.x;
      u.y = p.y;
    });
    edges.forEach(function (e) {
      var placed = g.edge(e.from, e.to);
      e.points = placed.points;
      e.lx = placed.x;
      e.ly = placed.y;
    });
    current = {
      units: units, edges: edges, unitOfNode: unitOfNode, width: g.graph().width, height: g.graph().height,
      layoutMs: Math.round(performance.now() - started)
    };
  }

  function curve(points) { // a B-spline through dagre's points, as d3.curveBasis draws it
    var p = points;
    if (p.length < 3) return "M" + p[0].x + "," + p[0].y + "L" + p[p.length - 1].x + "," + p[p.length - 1].y;
    var d = "M" + p[0].x + "," + p[0].y + "L" + (5 * p[0].x + p[1].x) / 6 + "," + (5 * p[0].y + p[1].y) / 6;
    for (var i = 2; i <= p.length; i++) {
      var a = p[i - 2], b = p[i - 1], c = p[Math.min(i, p.length - 1)];
      d += "C" + (2 * a.x + b.x) / 3 + "," + (2 * a.y + b.y) / 3 + " " + (a.x + 2 * b.x) / 3 + "," + (a.y + 2 * b.y) / 3 +
        " " + (a.x + 4 * b.x + c.x) / 6 + "," + (a.y + 4 * b.y + c.y) / 6;
    }
    return d + "L" + p[p.length - 1].x + "," + p[p.length - 1].y;
  }

  function draw() {
    layers.edges.textContent = "";
    layers.nodes.textContent = "";
    current.edges.forEach(function (e) {
      var cls = "edge" + (e.status !== "ok" ? " broken " + e.status : "") + (e.dynamic ? " dynamic" : "");
      var g = svgEl("g", { "class": cls, "data-key": e.key, "data-from": e.from, "data-to": e.to }, layers.edges);
      var d = curve(e.points);
      svgEl("path", { "class": "hit", d: d }, g);
      svgEl("path", { "class": "line", d: d, "marker-end": e.status === "ok" ? "url(#arrow)" : "url(#arrow-red)" }, g);
      var title = svgEl("title", {}, g);
      title.textContent = edgeTitle(e);
      if (e.label) svgEl("text", { x: e.lx, y: e.ly + 3.5, "text-anchor": "middle" }, g).textContent = e.label;
      g.addEventListener("click", function () { selectEdge(e.key); });
    });
    current.units.forEach(function (u) {
      var cls = "node " + (u.folder ? "folderunit " : "file ") + u.kind +
        (u.errors ? " has-error" : u.warnings ? " has-warning" : "");
      var attrs = { "class": cls, "data-unit": u.key, tabindex: "0", role: "button",
        transform: "translate(" + (u.x - u.width / 2) + "," + (u.y - u.height / 2) + ")" };
      if (u.node) attrs["data-id"] = u.node.id;
      else attrs["data-folder"] = u.folder.path;
      var g = svgEl("g", attrs, layers.nodes);
      svgEl("rect", { width: u.width, height: u.height, rx: u.folder ? 3 : 6 }, g);
      if (u.sub) svgEl("text", { "class": "folder", x: 9, y: 13 }, g).textContent = u.sub;
      svgEl("text", { "class": "name", x: 9, y: u.sub ? 29 : 17 }, g).textContent = u.name;
      if (u.errors || u.warnings) {
        var badge = svgEl("g", { "class": "badge" + (u.errors ? "" : " warn"), transform: "translate(" + u.width + ",0)" }, g);
        svgEl("circle", { r: 8 }, badge);
        svgEl("text", { y: 3.5 }, badge).textContent = String(u.errors || u.warnings);
      }
      svgEl("title", {}, g).textContent = u.node ? u.node.id : u.folder.path + "/ (" + u.folder.total + " files: click to open)";
      g.addEventListener("click", function (ev) {
        if (moved) return;
        ev.stopPropagation();
        if (u.node) select(u.node.id);
        else expand(u.folder.path);
      });
      g.addEventListener("keydown", function (ev) { if (ev.key === "Enter") g.dispatchEvent(new MouseEvent("click")); });
    });
    status();
  }

  function rulesOf(e) {
    var seen = [];
    e.links.forEach(function (l) { (l.r || []).forEach(function (r) { if (seen.indexOf(r) < 0) seen.push(r); }); });
    return seen;
  }

  function edgeTitle(e) {
    return e.links.slice(0, 12).map(function (l) {
      var head = nodes[l.s].id + ":" + l.l + " imports '" + l.sp + "'";
      return l.m && l.m.length ? head + "\n  " + l.m.join("\n  ") : head;
    }).join("\n") + (e.links.length > 12 ? "\n... and " + (e.links.length - 12) + " more" : "");
  }

  function status(note) {
    var folded = 0;
    current.units.forEach(function (u) { if (u.folder) folded++; });
    var text = current.units.size + " boxes · " + current.edges.size + " arrows · " + nodes.length + " files and packages · layout " +
      current.layoutMs + " ms" + (folded ? " · " + folded + " folders folded: click one to open it" : "");
    document.getElementById("status").textContent = note || text;
  }

  function render() {
    layout();
    draw();
    highlight();
  }

  // ---- pan and zoom ------------------------------------------------------------------------------

  var view = { x: 0, y: 0, k: 1 };
  var moved = false;
  function apply() {
    viewport.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
  }
  var TOP = 44; // the legend's band at the top of the map
  function fit() {
    var box = svg.getBoundingClientRect();
    var room = { w: box.width, h: Math.max(box.height - TOP, 1) };
    var k = Math.min(room.w / Math.max(current.width, 1), room.h / Math.max(current.height, 1), 1.4);
    view.k = Math.max(k * 0.97, 0.02);
    view.x = (room.w - current.width * view.k) / 2;
    view.y = TOP + (room.h - current.height * view.k) / 2;
    apply();
  }
  function centerOn(key) {
    var u = current.units.get(key);
    if (!u) return;
    var box = svg.getBoundingClientRect();
    view.k = Math.max(view.k, 0.8);
    view.x = box.width / 2 - u.x * view.k;
    view.y = box.height / 2 - u.y * view.k;
    apply();
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var box = svg.getBoundingClientRect();
    var px = ev.clientX - box.left, py = ev.clientY - box.top;
    var k = Math.min(Math.max(view.k * Math.exp(-ev.deltaY * 0.0015), 0.02), 6);
    view.x = px - (px - view.x) * (k / view.k);
    view.y = py - (py - view.y) * (k / view.k);
    view.k = k;
    apply();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) return;
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y };
    moved = false;
  });
  window.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    moved = true;
    svg.classList.add("panning");
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    apply();
  });
  window.addEventListener("pointerup", function () {
    drag = null;
    svg.classList.remove("panning");
    setTimeout(function () { moved = false; }, 0);
  });
  svg.addEventListener("click", function (ev) {
    if (!moved && ev.target === svg) clearSelection();
  });

  // ---- folding -----------------------------------------------------------------------------------

  function expand(path) {
    var f = folders.get(path);
    for (var a = f; a; a = a.parent) expanded.add(a.path);
    render();
    var first = firstFileUnder(f);
    if (first) centerOn(current.unitOfNode[first.i]);
    showFolder(path);
  }
  function firstFileUnder(f) {
    if (f.files.length) return f.files[0];
    for (var i = 0; i < f.folders.length; i++) {
      var found = firstFileUnder(f.folders[i]);
      if (found) return found;
    }
    return null;
  }
  function collapse(path) {
    if (path === "") return;
    folders.forEach(function (f) { if (f.path === path || f.path.indexOf(path + "/") === 0) expanded.delete(f.path); });
    if (selected && selected.type === "file" && byId.get(selected.id).folder.indexOf(path) === 0) selected = null;
    render();
    centerOn("d:" + path);
    showFolder(path);
  }
  function reveal(id) { // open every folder above the file so that it has its own box
    var n = byId.get(id);
    var changed = false;
    n.chainOfFolders.forEach(function (f) {
      if (!expanded.has(f.path)) { expanded.add(f.path); changed = true; }
    });
    if (changed) render();
    return current.unitOfNode[n.i];
  }

  // ---- selection and the side panel --------------------------------------------------------------

  var selected = null;
  var panel = document.getElementById("panel");

  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "onclick") e.addEventListener("click", attrs[k]);
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      e.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return e;
  }
  function fileLink(id, text) {
    return el("a", { "class": "file-link", "data-id": id, text: text || id, onclick: function () { select(id); } });
  }
  function tag(kind, text) { return el("span", { "class": "tag " + kind, text: text || kind }); }

  function select(id) {
    if (!byId.has(id)) return;
    selected = { type: "file", id: id };
    var key = reveal(id);
    highlight();
    centerOn(key);
    showFile(byId.get(id));
  }
  function selectEdge(key) {
    selected = { type: "edge", key: key };
    highlight();
    showEdge(current.edges.get(key));
  }
  function clearSelection() {
    selected = null;
    highlight();
    showOverview();
  }

  function highlight() {
    var near = new Set();
    var nearEdges = new Set();
    var focus = null;
    if (selected && selected.type === "file" && byId.has(selected.id)) {
      focus = current.unitOfNode[byId.get(selected.id).i];
      near.add(focus);
      current.edges.forEach(function (e) {
        if (e.from === focus || e.to === focus) { nearEdges.add(e.key); near.add(e.from); near.add(e.to); }
      });
    } else if (selected && selected.type === "edge" && current.edges.has(selected.key)) {
      var e = current.edges.get(selected.key);
      nearEdges.add(e.key);
      near.add(e.from);
      near.add(e.to);
    }
    svg.classList.toggle("dim", near.size > 0);
    layers.nodes.querySelectorAll(".node").forEach(function (g) {
      var key = g.getAttribute("data-unit");
      g.classList.toggle("near", near.has(key));
      g.classList.toggle("selected", key === focus);
    });
    layers.edges.querySelectorAll(".edge").forEach(function (g) {
      g.classList.toggle("near", nearEdges.has(g.getAttribute("data-key")));
    });
  }

  function findingItem(f, withFile) {
    return el("li", { "class": "finding" },
      tag(f.severity), el("span", { "class": "rule", text: f.rule }), " ",
      withFile ? fileLink(f.file, f.file + ":" + f.line + ":" + f.column) : el("span", { "class": "loc", text: "line " + f.line + ":" + f.column }),
      el("div", { "class": "msg " + f.severity, text: f.message }));
  }

  function showOverview() {
    panel.textContent = "";
    var errs = findings.filter(function (f) { return f.severity === "error"; });
    var warns = findings.filter(function (f) { return f.severity !== "error"; });
    panel.appendChild(el("h2", { text: DATA.deployable ? "Deployable" : "Blocked: " + errs.length + " error" + (errs.length === 1 ? "" : "s") }));
    panel.appendChild(el("div", { "class": "empty", text: "Entries: " + DATA.entries.join(", ") }));
    if (errs.length) {
      panel.appendChild(el("h3", { text: "Errors (" + errs.length + "): Node fails on these" }));
      panel.appendChild(el.apply(null, ["ul", { id: "errors" }].concat(errs.map(function (f) { return findingItem(f, true); }))));
    }
    if (warns.length) {
      panel.appendChild(el("h3", { text: "Warnings (" + warns.length + ")" }));
      panel.appendChild(el.apply(null, ["ul", {}].concat(warns.map(function (f) { return findingItem(f, true); }))));
    }
    var dormant = nodes.filter(function (n) { return n.kind === "dormant"; });
    if (dormant.length) {
      panel.appendChild(el("h3", { text: "Dormant files (" + dormant.length + "): no entry loads these" }));
      panel.appendChild(el.apply(null, ["ul", {}].concat(dormant.slice(0, 200).map(function (n) { return el("li", {}, fileLink(n.id)); }))));
      if (dormant.length > 200) panel.appendChild(el("div", { "class": "empty", text: "... and " + (dormant.length - 200) + " more (search finds them)" }));
    }
    panel.appendChild(el("h3", { text: "Folders" }));
    panel.appendChild(folderTree());
    if (DATA.unverified.length) {
      panel.appendChild(el("h3", { text: "Not verified (" + DATA.unverified.length + ")" }));
      panel.appendChild(el.apply(null, ["ul", {}].concat(DATA.unverified.slice(0, 100).map(function (u) {
        return el("li", {}, fileLink(u.file, u.file + ":" + u.line), el("div", { "class": "msg warning", text: u.detail }));
      }))));
    }
  }

  function folderTree() {
    var list = el("ul", { "class": "tree" });
    function row(f) {
      var open = expanded.has(f.path);
      var item = el("li", { "data-folder": f.path },
        el("span", { "class": "toggle", text: f.folders.length || f.files.length ? (open ? "▾" : "▸") : "" }),
        el("a", { text: "  ".repeat(Math.max(f.depth - 1, 0)) + f.name + "/", onclick: function () { open ? collapse(f.path) : expand(f.path); } }),
        el("span", { "class": "n", text: String(f.total) }),
        f.errors ? el("span", { "class": "e", text: f.errors + " err" }) : null);
      item.style.paddingLeft = (f.depth - 1) * 12 + "px";
      list.appendChild(item);
      if (open) f.folders.forEach(row);
    }
    root.folders.forEach(row);
    return list;
  }

  function linkItem(l, outward) {
    var other = outward ? nodes[l.t] : nodes[l.s];
    var item = el("li", {},
      outward ? el("span", { "class": "loc", text: "L" + l.l + " " }) : null,
      outward ? el("code", { text: "'" + l.sp + "'" }) : fileLink(other.id),
      outward ? " → " : el("span", { "class": "loc", text: " L" + l.l + " " }),
      outward ? fileLink(other.id, other.id + (other.kind === "missing" ? " (missing)" : "")) : el("code", { text: "'" + l.sp + "'" }),
      l.k === "dynamic-import" ? el("span", { "class": "loc", text: " (import())" }) : null,
      l.st !== "ok" ? " " : null, l.st !== "ok" ? tag(l.st) : null);
    (l.m || []).forEach(function (m) { item.appendChild(el("div", { "class": "msg " + l.st, text: m })); });
    return item;
  }

  function showFile(n) {
    panel.textContent = "";
    var kindText = { entry: "entry", reachable: "loaded", dormant: "dormant", "package": "package", missing: "missing" }[n.kind];
    panel.appendChild(el("h2", { id: "selected-file", text: n.id }));
    panel.appendChild(el("div", {}, tag(n.kind, kindText), n.errors ? tag("error", n.errors + " error" + (n.errors > 1 ? "s" : "")) : null,
      n.warnings ? tag("warning", n.warnings + " warning" + (n.warnings > 1 ? "s" : "")) : null));
    if (n.kind === "entry" || n.kind === "reachable") {
      panel.appendChild(el("h3", { text: "Chain from the entry" }));
      panel.appendChild(el.apply(null, ["ol", { "class": "chain" }].concat(n.chain.map(function (id) { return el("li", {}, fileLink(id)); }))));
    } else if (n.kind === "dormant") {
      panel.appendChild(el("h3", { text: "Chain from the entry" }));
      panel.appendChild(el("div", { "class": "empty", text: "None: no entry loads this file, so it is not shipped and its faults do not block." }));
    } else if (n.kind === "missing") {
      panel.appendChild(el("div", { "class": "empty", text: "Not there: no such " + (n.folder === "node_modules" ? "package is installed." : "file.") }));
    }
    var own = (n.findings || []).map(function (i) { return findings[i]; });
    if (own.length) {
      panel.appendChild(el("h3", { text: "Findings in this file (" + own.length + ")" }));
      panel.appendChild(el.apply(null, ["ul", {}].concat(own.map(function (f) { return findingItem(f, false); }))));
    }
    if (n.kind !== "package" && n.kind !== "missing") {
      panel.appendChild(el("h3", { text: "Imports (" + n.out.length + ")" }));
      panel.appendChild(n.out.length ? el.apply(null, ["ul", { id: "imports" }].concat(n.out.map(function (l) { return linkItem(l, true); })))
        : el("div", { "class": "empty", text: "No imports of files or packages." }));
    }
    panel.appendChild(el("h3", { text: "Imported by (" + n.in.length + ")" }));
    panel.appendChild(n.in.length ? el.apply(null, ["ul", { id: "importers" }].concat(n.in.map(function (l) { return linkItem(l, false); })))
      : el("div", { "class": "empty", text: "No file imports it." }));
    var actions = el("div", { "class": "row-actions" }, el("button", { text: "Overview", onclick: clearSelection }));
    if (n.folder) actions.appendChild(el("button", { text: "Fold " + n.folder + "/", onclick: function () { collapse(n.folder); } }));
    panel.appendChild(actions);
  }

  function showFolder(path) {
    var f = folders.get(path);
    selected = { type: "folder", path: path };
    highlight();
    panel.textContent = "";
    panel.appendChild(el("h2", { text: (path || ROOT_NAME) + "/" }));
    panel.appendChild(el("div", {}, tag(f.live ? "reachable" : "dormant", f.total + " files"),
      f.errors ? tag("error", f.errors + " errors") : null, f.warnings ? tag("warning", f.warnings + " warnings") : null));
    var trouble = [];
    function collect(g) { g.files.forEach(function (n) { (n.findings || []).forEach(function (i) { trouble.push(findings[i]); }); }); g.folders.forEach(collect); }
    collect(f);
    if (trouble.length) {
      panel.appendChild(el("h3", { text: "Findings inside (" + trouble.length + ")" }));
      panel.appendChild(el.apply(null, ["ul", {}].concat(trouble.slice(0, 100).map(function (x) { return findingItem(x, true); }))));
    }
    panel.appendChild(el("h3", { text: "Files here (" + f.files.length + ")" }));
    panel.appendChild(el.apply(null, ["ul", {}].concat(f.files.slice(0, 300).map(function (n) { return el("li", {}, fileLink(n.id, n.label), " ", tag(n.kind)); }))));
    panel.appendChild(el("div", { "class": "row-actions" },
      el("button", { text: "Overview", onclick: clearSelection }),
      expanded.has(path) ? el("button", { text: "Fold " + path + "/", onclick: function () { collapse(path); } })
        : el("button", { text: "Open " + path + "/", onclick: function () { expand(path); } })));
  }

  function showEdge(e) {
    panel.textContent = "";
    panel.appendChild(el("h2", { text: e.links.length === 1 ? "Import" : e.links.length + " imports" }));
    panel.appendChild(el.apply(null, ["ul", {}].concat(e.links.map(function (l) {
      var item = el("li", {}, fileLink(nodes[l.s].id, nodes[l.s].id + ":" + l.l), " ", el("code", { text: "'" + l.sp + "'" }), " → ", fileLink(nodes[l.t].id));
      (l.m || []).forEach(function (m) { item.appendChild(el("div", { "class": "msg " + l.st, text: m })); });
      return item;
    }))));
    panel.appendChild(el("div", { "class": "row-actions" }, el("button", { text: "Overview", onclick: clearSelection })));
  }

  // ---- search ------------------------------------------------------------------------------------

  var input = document.getElementById("search");
  var results = document.getElementById("results");
  var hits = [];
  var active = 0;

  function search(q) {
    q = q.trim().toLowerCase();
    if (!q) return [];
    var scored = [];
    nodes.forEach(function (n) {
      var label = n.label.toLowerCase(), id = n.id.toLowerCase();
      var score = label === q ? 0 : label.indexOf(q) === 0 ? 1 : label.indexOf(q) >= 0 ? 2 : id.indexOf(q) >= 0 ? 3 : -1;
      if (score >= 0) scored.push([score, n.id.length, n]);
    });
    scored.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    return scored.slice(0, 40).map(function (s) { return s[2]; });
  }
  function showResults() {
    results.textContent = "";
    hits.forEach(function (n, i) {
      var li = el("li", { "data-id": n.id, "class": i === active ? "active" : "" }, el("span", { text: n.label }), el("span", { "class": "path", text: n.id }));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(n); });
      results.appendChild(li);
    });
    results.hidden = hits.length === 0;
    var matched = new Set(hits.map(function (n) { return current.unitOfNode[n.i]; }));
    layers.nodes.querySelectorAll(".node").forEach(function (g) { g.classList.toggle("match", matched.has(g.getAttribute("data-unit"))); });
  }
  function choose(n) {
    results.hidden = true;
    input.blur();
    select(n.id);
  }
  input.addEventListener("input", function () {
    hits = search(input.value);
    active = 0;
    showResults();
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      active = (active + (ev.key === "ArrowDown" ? 1 : hits.length - 1)) % Math.max(hits.length, 1);
      showResults();
    } else if (ev.key === "Enter" && hits.length) {
      ev.preventDefault();
      choose(hits[active]);
    } else if (ev.key === "Escape") {
      input.value = "";
      hits = [];
      showResults();
      input.blur();
    }
  });
  input.addEventListener("blur", function () { setTimeout(function () { results.hidden = true; }, 100); });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && document.activeElement !== input) { ev.preventDefault(); input.focus(); input.select(); }
    else if (ev.key === "Escape" && document.activeElement !== input) clearSelection();
  });

  document.getElementById("fit").addEventListener("click", fit);
  document.getElementById("fold").addEventListener("click", function () {
    expanded = new Set([""]);
    initialFolding();
    selected = null;
    render();
    fit();
    showOverview();
  });

  // ---- start ---------------------------------------------------------------------------------------

  function start() {
    initialFolding();
    render();
    fit();
    showOverview();
    window.addEventListener("resize", fit);
    document.documentElement.setAttribute("data-state", "ready");
  }
  window.deploysafeMap = {
    select: select, expand: expand, collapse: collapse, fit: fit,
    stats: function () {
      var broken = 0;
      current.edges.forEach(function (e) { if (e.status !== "ok") broken++; });
      return { boxes: current.units.size, arrows: current.edges.size, broken: broken, files: nodes.length, layoutMs: current.layoutMs };
    }
  };
  try {
    start();
  } catch (err) {
    document.documentElement.setAttribute("data-state", "failed");
    document.getElementById("status").textContent = "The map could not be drawn: " + err;
    throw err;
  }
})();
