"""pack --boot / verify --boot: the artifact is unpacked, its production dependencies installed from its
lockfile, its start command run with a spare PORT; real node and real fastify decide whether it boots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploysafe.pack.boot import boot_artifact, first_error_line
from tests.check.test_folder_loads import FASTIFY
from tests.support.npm_cache import project
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
