"""Two real trees built from the bundled example, and the ways production can be reached.

``prod`` is what the seeds describe: the service as it runs, with files the local tree never had. Some of
them the entry needs (services/freeswitch.js, which imports config/database.js, which reads
config/dialplan.xml when it loads); some are dormant and broken (an admin route importing a file that
is gone, a billing route that does not parse), plus an image in a folder with spaces and non-ASCII.
``local`` is the developer's tree: freeswitch.js missing, a new reports route, a tool script.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.projects import EXAMPLES, write_tree
from tests.support.sshd import SSHD, Sshd, free_port

FIXED = EXAMPLES / "seed-api-fixed"
PNG = "public/Bilder für Kunden/logo ü.png"

FREESWITCH = """// FreeSWITCH event-socket client (production's version: calls are logged in the database).
import { query } from '../config/database.js';

const calls = [];

export function dial(number) {
  calls.push(number);
  query('calls');
  return { number, queued: calls.length };
}
"""

DATABASE = """import { readFileSync } from 'node:fs';

// The dial plan ships beside this file and is read when the module loads.
const dialplan = readFileSync(new URL('./dialplan.xml', import.meta.url), 'utf8');

export function query(table) {
  return dialplan.includes(table) ? [] : [];
}
"""

PROD_ONLY = {
    "src/services/freeswitch.js": FREESWITCH,
    "src/config/database.js": DATABASE,
    "src/config/dialplan.xml": "<dialplan><context name='calls'/></dialplan>\n",
    "src/routes/admin-agents.js": (
        "// Dormant in production: nothing imports it, and its import points at a file that is gone.\n"
        "import { redis } from '../db/redis.js';\n\nexport const agents = () => redis.keys('agent:*');\n"
    ),
    "src/routes/old-billing.js": "export function invoice( {\n  return 1;\n}\n",
    PNG: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
}
PROD_CHANGED = {
    "src/routes/health.js": (FIXED / "src/routes/health.js").read_text() + "// production hotfix 2025-10-30\n",
    "src/legacy/system-status.js": "export const status = () => ({ redis: 'gone' });\n",
    ".env": "DATABASE_URL=postgres://seed:prod-password@10.0.0.5:5432/seed\n",
}
LOCAL_ONLY = {
    "src/routes/reports.js": (
        "import { Hono } from 'hono';\n\nexport const reports = new Hono();\nreports.get('/', (c) => c.json([]));\n"
    ),
    "src/tools/seed-db.js": "console.log('seeding the local database');\n",
}
LOCAL_CHANGED = {
    "src/routes/index.js": (FIXED / "src/routes/index.js")
    .read_text()
    .replace(
        "import { voice } from './voice.js';\n",
        "import { voice } from './voice.js';\nimport { reports } from './reports.js';\n",
    )
    + "routes.route('/v1/reports', reports);\n",
}

EXPECTED = {
    "needed": ["src/config/database.js", "src/config/dialplan.xml", "src/services/freeswitch.js"],
    "source-only-dormant": [PNG, "src/routes/admin-agents.js", "src/routes/old-billing.js"],
    "local-only": {"src/routes/reports.js": "import", "src/tools/seed-db.js": None},
    "changed": {
        ".env": "config",
        "src/legacy/system-status.js": None,
        "src/routes/health.js": "import",
        "src/routes/index.js": "import",
    },
}


def copy_example(dest: Path, *, node_modules: bool = True) -> Path:
    """The fixed example, its node_modules hard-linked (fast, and node can run it)."""
    shutil.copytree(FIXED, dest, ignore=shutil.ignore_patterns("node_modules"))
    if node_modules:
        shutil.copytree(FIXED / "node_modules", dest / "node_modules", copy_function=os.link, symlinks=True)
    return dest


def build_prod(dest: Path, *, node_modules: bool = True) -> Path:
    copy_example(dest, node_modules=node_modules)
    return write_tree(dest, {**PROD_ONLY, **PROD_CHANGED})


def build_local(dest: Path) -> Path:
    copy_example(dest)
    (dest / "src/services/freeswitch.js").unlink()
    return write_tree(dest, {**LOCAL_ONLY, **LOCAL_CHANGED})


@pytest.fixture(scope="session", autouse=True)
def _example_installed() -> None:
    if not (FIXED / "node_modules" / "hono").is_dir():
        pytest.fail("examples/seed-api-fixed has no node_modules: run `make setup` (npm ci in the examples)")


@pytest.fixture
def local(tmp_path: Path) -> Path:
    return build_local(tmp_path / "local")


@pytest.fixture
def prod(tmp_path: Path) -> Path:
    return build_prod(tmp_path / "prod")


def classes(report) -> dict:
    """The report's classes in the shape of EXPECTED."""
    return {
        "needed": sorted(n.path for n in report.needed),
        "source-only-dormant": sorted(s.path for s in report.source_only_dormant),
        "local-only": {x.path: x.usage.via for x in report.local_only},
        "changed": {c.path: c.usage.via for c in report.changed},
    }


def json_classes(data: dict) -> dict:
    return {
        "needed": sorted(n["path"] for n in data["needed"]),
        "source-only-dormant": sorted(s["path"] for s in data["source_only_dormant"]),
        "local-only": {x["path"]: x["via"] for x in data["local_only"]},
        "changed": {c["path"]: c["via"] for c in data["changed"]},
    }


# ---- archives -------------------------------------------------------------------------------------------


def make_tar(tree: Path, dest: Path, *, top: str | None = None, extra: dict[str, bytes] | None = None) -> Path:
    """A gzip'd tar of ``tree`` (node_modules included: drift must skip it), under ``top/`` if given."""
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(tree, arcname=top or ".")
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return dest


def make_zip(tree: Path, dest: Path, *, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(tree.rglob("*")):
            if path.is_file() and "node_modules" not in path.relative_to(tree).parts:
                archive.write(path, path.relative_to(tree).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return dest


# ---- hosts ----------------------------------------------------------------------------------------------


def ssh_options(server: Sshd) -> dict:
    return {"known_hosts": str(server.known_hosts), "identity": str(server.key)}


def ssh_args(server: Sshd) -> list[str]:
    return ["--known-hosts", str(server.known_hosts), "--identity", str(server.key)]


@dataclass
class Host:
    """An sshd beside the session's one, whose commands see only the tools in ``bin``."""

    port: int
    known_hosts: Path
    key: Path
    process: subprocess.Popen[bytes]

    def url(self, path: Path | str) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{path}"

    def options(self) -> dict:
        return {"known_hosts": str(self.known_hosts), "identity": str(self.key)}


def _which(tool: str) -> str:
    if tool == "python3":
        return os.path.realpath(sys.executable)
    found = shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
    assert found, tool
    return found


@pytest.fixture
def host_with(sshd: Sshd, tmp_path: Path) -> Iterator[Callable[..., Host]]:
    """A second sshd sharing the session server's keys, whose sessions have PATH = only ``tools``.

    The login shell of root reads its rc files (which add their own PATH) before ForceCommand runs, so
    ForceCommand sets PATH itself and hands the client's command to /bin/sh.
    """
    started: list[Host] = []

    def start(*tools: str, scripts: dict[str, str] | None = None, chatter: str = "") -> Host:
        bindir = tmp_path / f"bin-{len(started)}"
        bindir.mkdir()
        for tool in tools:
            (bindir / tool).symlink_to(_which(tool))
        for name, text in (scripts or {}).items():
            (bindir / name).write_text(text)
            (bindir / name).chmod(0o755)
        for _attempt in range(5):  # a port taken between its reservation and sshd's bind: take another
            port = free_port()
            config = (sshd.workdir / "sshd_config").read_text()
            config = re.sub(r"(?m)^Port \d+$", f"Port {port}", config)
            config = re.sub(r"(?m)^PidFile .*$", f"PidFile {tmp_path}/sshd-{port}.pid", config)
            say = f"echo '{chatter}'; " if chatter else ""  # what a chatty login script prints first
            config += f'ForceCommand {say}PATH={bindir} exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n'
            path = tmp_path / f"sshd-{port}.conf"
            path.write_text(config)
            log = tmp_path / f"sshd-{port}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(path)], stdout=out, stderr=out)
            if _answers(port, process, deadline=10):
                break
            if process.poll() is None:
                process.kill()
            process.wait()
        else:
            pytest.fail(f"the restricted sshd did not start: {log.read_text()[-500:]}")
        host = Host(port, sshd.write_known_hosts(tmp_path / f"known-{port}", port), sshd.key, process)
        started.append(host)
        return host

    yield start
    for host in started:
        host.process.terminate()
        host.process.wait(5)


def _answers(port: int, process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Poll until sshd on ``port`` sends its banner; False when it exits or the deadline passes."""
    until = time.monotonic() + deadline
    while time.monotonic() < until and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


BASE_TOOLS = ("sh", "find", "xargs", "readlink", "cat", "tar")
# coreutils before 8.30 has no -z: newline-separated lines, names with a newline or backslash escaped
OLD_SHA256SUM = f"""#!/bin/sh
for arg in "$@"; do [ "$arg" = -z ] && {{ echo "sha256sum: invalid option -- 'z'" >&2; exit 1; }}; done
exec {shutil.which("sha256sum")} "$@"
"""
