"""pack --boot / verify --boot: the artifact is unpacked, its production dependencies installed from its
lockfile, its start command run with a spare PORT; real node and real fastify decide whether it boots."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from deploysafe.artifact.reader import read_manifest
from deploysafe.pack.boot import aim, boot_artifact, first_error_line
from tests.check.test_folder_loads import FASTIFY
from tests.support.npm_cache import project
from tests.support.ports import reserve_port
from tests.support.projects import run_cli, write_tree
from tests.support.schemas import assert_valid

pytestmark = pytest.mark.slow

SERVER = (
    "import Fastify from 'fastify';\nimport AutoLoad from '@fastify/autoload';\nimport path from 'node:path';\n"
    "const app = Fastify();\n"
    "app.register(AutoLoad, { dir: path.join(import.meta.dirname, 'routes') });\n"
    "await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });\n"
)


def server(root: Path, greet_import: str) -> Path:
    route = (
        f"import {{ greet }} from '{greet_import}';\n"
        "export default async function (app) { app.get('/', async () => greet('you')); }\n"
    )
    files = {
        "app.js": SERVER,
        "routes/hello/index.js": route,
        "lib/greet.js": "export const greet = (w) => `hi ${w}`;\n",
    }
    return project(root, "fastify-autoload", FASTIFY, files)


def test_an_autoloaded_service_packs_and_boots_with_its_health_url(tmp_path):
    root = server(tmp_path / "ok", "../../lib/greet.js")
    done = run_cli(
        "pack", str(root), "-o", str(tmp_path / "out") + "/", "--boot", "--health", "http://127.0.0.1:1/hello"
    )
    assert done.returncode == 0, done.stderr
    assert "boot: BOOTS" in done.stderr and "/hello passed" in done.stderr
    assert "hard links from" in done.stderr and "dev dependencies pruned" in done.stderr
    [artifact] = (tmp_path / "out").glob("*.tar.gz")
    again = run_cli("verify", str(artifact), "--boot")  # no project to link from: npm ci from the lockfile
    assert again.returncode == 0 and "still up after 3 s" in again.stderr and "npm ci --omit=dev" in again.stderr


def test_a_forced_artifact_that_crashes_does_not_boot_and_names_the_first_error_line(tmp_path):
    root = server(tmp_path / "broken", "../lib/greet.js")
    done = run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/", "--force", "--boot")
    assert done.returncode == 1
    assert "boot: DOES NOT BOOT" in done.stderr and "ERR_MODULE_NOT_FOUND" in done.stderr, done.stderr
    [artifact] = (tmp_path / "out").glob("*.tar.gz")
    booted = boot_artifact(artifact, project=root)
    assert not booted.ok and booted.first_error.startswith("Error [ERR_MODULE_NOT_FOUND]")


def test_the_first_error_line_is_what_node_threw_not_the_source_excerpt():
    output = (
        "node:internal/modules/esm/resolve:283\n    throw new ERR_MODULE_NOT_FOUND(\n          ^\n\n"
        "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/r/lib/greet.js'\n    at finalizeResolution (x)\n"
    )
    assert first_error_line(output) == "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/r/lib/greet.js'"


HELLO_SERVER = (
    "require('node:http').createServer((req, res) => res.end('hi you'))"
    ".listen(Number(process.env.PORT), '127.0.0.1');\nconsole.log('responseTime: 0.2');\n"
)
TARGETS = (
    '[targets.prod]\npath = "/srv/app"\nhealth = "http://127.0.0.1:1/"\nhealth_expect = "hi you"\n\n'
    '[targets.wrong]\npath = "/srv/app"\nhealth = "http://127.0.0.1:1/"\nhealth_expect = "goodbye"\nboot_deadline = 2.0\n'
)


def test_the_boot_probe_comes_from_the_target_and_its_result_is_in_the_json(tmp_path):
    root = write_tree(tmp_path / "hello", {"index.js": HELLO_SERVER})  # no package.json: nothing to install
    (root / "deploysafe.toml").write_text(TARGETS)
    out = str(tmp_path / "out") + "/"
    done = run_cli("pack", str(root), "-o", out, "--boot", "--to", "prod", "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["boot"]["ok"] is True
    assert document["boot"]["detail"].endswith("/ (body contains 'hi you') passed")
    assert_valid(document, "pack")  # still the manifest, with the boot result beside it

    [artifact] = (tmp_path / "out").glob("*.tar.gz")
    failed = run_cli("verify", str(artifact), "--boot", "--to", "wrong", "--config", str(root / "deploysafe.toml"))
    assert failed.returncode == 1
    assert failed.stdout == "" and failed.stderr.count("\n") == 1, failed.stdout + failed.stderr
    assert failed.stderr.startswith("boot: DOES NOT BOOT: ") and "goodbye" in failed.stderr
    assert "goodbye'; last output: responseTime: 0.2 · " in failed.stderr, failed.stderr  # no error to name it by

    unknown = run_cli("pack", str(root), "-o", out, "--boot", "--to", "nowhere")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "deploysafe: error: unknown target 'nowhere': no [targets.nowhere] in deploysafe.toml (known targets: prod, wrong)"
    )


FIXED_PORT_SERVER = (  # ignores PORT; its pages are read from views/ by a name pack cannot see
    "const http = require('node:http');\nconst fs = require('node:fs');\nconst path = require('node:path');\n"
    "const page = (name) => fs.readFileSync(path.join(__dirname, 'views', name + '.html'), 'utf8');\n"
    "http.createServer((req, res) => {\n  if (req.url === '/health') return res.end('ok');\n"
    "  try { res.end(page(req.url.slice(1))); } catch (err) { res.statusCode = 500; res.end(String(err)); }\n"
    "}).listen(FIXED, '127.0.0.1');\n"
)


def fixed_port_service(root: Path, port: int) -> Path:
    files = {"index.js": FIXED_PORT_SERVER.replace("FIXED", str(port)), "views/home.html": "<p>home</p>\n"}
    root = write_tree(root, files)
    (root / "deploysafe.toml").write_text(
        '[targets.page]\npath = "/srv/app"\nhealth = "http://127.0.0.1:1/home"\nboot_deadline = 3.0\n'
    )
    return root


def test_a_service_on_a_fixed_port_is_probed_there_and_a_page_whose_view_pack_left_out_fails(tmp_path):
    port = reserve_port()
    root = fixed_port_service(tmp_path / "fixed", port)
    done = run_cli(
        "pack", str(root), "-o", str(tmp_path / "out") + "/", "--boot", "--health", "http://127.0.0.1:1/health"
    )
    assert done.returncode == 0, done.stderr
    assert f"the service listens on {port}, not on PORT=" in done.stderr and "; probed there; " in done.stderr
    assert f"http://127.0.0.1:{port}/health passed" in done.stderr, done.stderr
    [artifact] = (tmp_path / "out").glob("*.tar.gz")
    assert read_manifest(artifact).file("views/home.html") is None  # read by a name pack cannot see

    config = str(root / "deploysafe.toml")  # the target's health names the page, with a short boot_deadline
    page = run_cli("verify", str(artifact), "--boot", "--to", "page", "--config", config)
    assert page.returncode == 1 and page.stderr.startswith("boot: DOES NOT BOOT: "), page.stderr
    assert f"listens on {port}, not on PORT=" in page.stderr and "HTTP 500" in page.stderr
    assert "ENOENT: no such file or directory, open " in page.stderr and "views/home.html" in page.stderr


def test_a_fixed_port_already_taken_fails_the_boot_naming_the_port_and_quoting_node(tmp_path):
    port = reserve_port()
    root = fixed_port_service(tmp_path / "taken", port)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()
        done = run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/", "--boot", "--to", "page")
    assert done.returncode == 1
    assert f"port {port}, which the service listens on whatever PORT says, is already in use here" in done.stderr
    assert f"first error: Error: listen EADDRINUSE: address already in use 127.0.0.1:{port}" in done.stderr


def test_the_probe_goes_to_the_one_port_the_service_listens_on_when_it_is_not_port():
    assert aim(41234, {41234, 9229}) == (41234, "")
    assert aim(41234, set()) == (41234, "")  # nothing seen: PORT, as before
    assert aim(41234, {3000}) == (3000, "the service listens on 3000, not on PORT=41234; probed there")
    assert aim(41234, {3000, 3001})[0] == 41234  # which one is the service's is not known
