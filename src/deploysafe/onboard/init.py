"""``deploysafe init``: write a commented deploysafe.toml from what detection finds, never over one.

It runs ``check`` to find the entries (and why), finds the PM2 process file or Procfile, and proposes a
health URL when the code spells its listen port as a literal (``listen(3000)``, ``port: 3000``,
``process.env.PORT ?? 3000``, the process file's ``PORT``) and a health route (``'/health'``) among the files
the entries load. Everything it cannot know (where production is) is written commented out, to fill in;
what detection finds is written as comments too, so the file pins nothing detection would follow later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from deploysafe.check.pipeline import check
from deploysafe.config import CONFIG_NAME, load
from deploysafe.ecosystems.node.entries import ECOSYSTEM_FILES
from deploysafe.ecosystems.node.files import is_project_file
from deploysafe.ecosystems.node.parse.literals import listen_ports, route_strings
from deploysafe.errors import ConfigError

__all__ = ["HEALTH_ROUTES", "Detected", "detect", "init", "render"]

HEALTH_ROUTES = frozenset({"/health", "/healthz", "/api/health", "/status", "/ready", "/ping"})


@dataclass
class Detected:
    """What ``init`` found in a project, each with where it was found."""

    root: Path
    name: str
    entries: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    process_file: str | None = None  # ecosystem.config.cjs or Procfile
    port: tuple[int, str] | None = None  # (port, "src/index.js:10")
    route: tuple[str, str] | None = None  # ("/health", "src/routes/index.js:8")

    @property
    def health(self) -> str | None:
        if self.port is None:
            return None
        return f"http://127.0.0.1:{self.port[0]}{self.route[0] if self.route else '/'}"


def init(root: Path) -> tuple[Path, Detected]:
    """Write ROOT/deploysafe.toml; refuse when there is one. Returns its path and what was detected."""
    target = root / CONFIG_NAME
    if target.exists():
        raise ConfigError(f"{target} already exists: not overwritten (edit it, or move it away and run init again)")
    found = detect(root)
    text = render(found)
    try:
        with open(target, "x", encoding="utf-8") as handle:  # "x": never over a file written meanwhile
            handle.write(text)
    except FileExistsError as err:
        raise ConfigError(f"{target} already exists: not overwritten") from err
    except OSError as err:
        raise ConfigError(f"cannot write {target}: {err.strerror or err}") from err
    load(root)  # what was written reads back as a valid configuration
    return target, found


def detect(root: Path) -> Detected:
    report = check(root)
    found = Detected(root, root.name, [(e.path, e.reason) for e in report.entries])
    found.process_file = next((n for n in (*ECOSYSTEM_FILES, "Procfile") if (root / n).is_file()), None)
    graph = report.graph
    files = sorted(p for p in (graph.parents if graph else {}) if is_project_file(p) and os.path.isfile(p))
    if found.process_file and found.process_file != "Procfile":
        files.insert(0, str(root / found.process_file))
    for path in files:
        try:
            source = Path(path).read_bytes()
        except OSError:
            continue
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        if found.port is None and path.endswith((".js", ".cjs", ".mjs", ".ts", ".mts", ".cts")):
            ports = listen_ports(source)
            if ports:
                found.port = (ports[0][0], f"{rel}:{ports[0][1]}")
        if found.route is None:
            routes = route_strings(source, HEALTH_ROUTES)
            if routes:
                found.route = (routes[0][0], f"{rel}:{routes[0][1]}")
    return found


def render(found: Detected) -> str:
    """The commented deploysafe.toml for ``found``."""
    today = datetime.now(UTC).date().isoformat()
    lines = [
        f"# deploysafe.toml for {found.name}, written by `deploysafe init` on {today}.",
        "# Every key has a default: what detection finds is noted below as comments, so nothing here pins it.",
        "# Uncomment a key to decide it yourself. Commands find this file from any folder of the project.",
        "",
        "[check]",
    ]
    if found.entries:
        lines.append("# Entries detected (what deploys start), and why:")
        lines += [f"#   {path}  ({reason})" for path, reason in found.entries]
        listed = ", ".join(f'"{path}"' for path, _ in found.entries)
        lines.append(f"# entries = [{listed}]  # uncomment to pin them")
    else:
        lines.append('# entries = ["src/index.js"]  # no entry was detected: name the files production starts')
    lines += [
        '# node = "20.19"  # the Node version production runs [package.json engines.node, else the local node]',
        '# exclude = ["scripts/**"]  # code that never runs in production, not listed as dormant',
        "# include_nested = true  # also scan folders with their own package.json no entry loads (other apps)",
        "",
        "# [pack]",
        '# include = ["migrations/**", "public/**"]  # files the code loads by computed paths',
        "",
        "# Where production is: fill in and uncomment. Then: deploysafe doctor --to production",
        "# [targets.production]",
        '# host = "deploy@app1.example.com"  # ssh; leave out for a directory on this machine',
        f'# path = "/srv/{found.name}"  # the deploy root: releases/, shared/, current',
    ]
    if found.process_file and found.process_file != "Procfile":
        lines.append(f'# pm2 = "{found.process_file}"  # found: restart with pm2 startOrReload')
    elif found.process_file == "Procfile":
        lines.append(f'# restart = "systemctl restart {found.name}"  # found a Procfile: say how the host restarts it')
    else:
        lines.append('# restart = "systemctl restart app"  # how the host restarts the service')
    if found.health:
        where = f"port {found.port[0]} at {found.port[1]}" if found.port else ""
        if found.route:
            where += f", route '{found.route[0]}' at {found.route[1]}"
        lines.append(f'# health = "{found.health}"  # found: {where}')
    else:
        lines.append('# health = "http://127.0.0.1:3000/health"  # no literal listen port found in the code')
    lines.append('# health_expect = "{version}"  # the health body names the release it runs')
    return "\n".join(lines) + "\n"
