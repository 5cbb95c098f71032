"""`deploysafe init` writes a commented deploysafe.toml from what detection finds (the health URL it
proposes answers when the service runs) and never overwrites one; `deploysafe doctor` checks the machine
and a target, a line each, and exits 1 on a fail (node not admitted by engines, an unknown host key)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import httpx

from deploysafe import config
from tests.support.projects import run_cli, write_tree
from tests.support.schemas import assert_valid
from tests.support.sshd import free_port


def _service(root: Path, port: int) -> Path:
    return write_tree(
        root,
        {
            "package.json": {"name": "api", "version": "1.0.0", "scripts": {"start": "node src/server.js"}},
            "src/server.js": "const http = require('http');\nconst { route } = require('./routes');\n"
            f"http.createServer(route).listen(process.env.PORT || {port}, '127.0.0.1');\n",
            "src/routes.js": "exports.route = (req, res) => {\n"
            "  if (req.url === '/healthz') return res.end('ok');\n  res.statusCode = 404; res.end();\n};\n",
        },
    )


def test_init_writes_what_it_detects_and_never_overwrites(tmp_path: Path) -> None:
    port = free_port()
    root = _service(tmp_path / "api", port)
    done = run_cli("init", cwd=root / "src")  # from a subfolder: the project's root gets the file
    assert done.returncode == 0, done.stderr
    written = (root / "deploysafe.toml").read_text()
    assert "#   src/server.js  (package.json scripts.start: node src/server.js)" in written
    health = f"http://127.0.0.1:{port}/healthz"
    assert (
        f"# health = \"{health}\"  # found: port {port} at src/server.js:3, route '/healthz' at src/routes.js:2"
        in written
    )
    config.load(root)  # valid as written
    uncommented = re.sub(r"^# (\[targets|host|path|health|restart)", r"\1", written, flags=re.M)
    (root / "all.toml").write_text(uncommented.replace('host = "ssh://deploy@app1.example.com"', ""))
    assert config.load_file(root / "all.toml").targets["production"].health == health  # every key it suggests is real

    server = subprocess.Popen(["node", "src/server.js"], cwd=root)
    try:
        for _ in range(100):
            try:
                assert httpx.get(health, timeout=1).text == "ok"  # the URL it proposed answers
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"{health} never answered")
    finally:
        server.kill()
        server.wait()

    again = run_cli("init", cwd=root)
    assert again.returncode == 2 and "already exists: not overwritten" in again.stderr
    assert (root / "deploysafe.toml").read_text() == written


def test_doctor_fails_when_engines_does_not_admit_the_local_node(tmp_path: Path) -> None:
    root = _service(tmp_path / "api", 3000)
    ok = run_cli("doctor", "--format", "json", cwd=root)
    assert ok.returncode == 0, ok.stdout
    report = json.loads(ok.stdout)
    assert_valid(report, "doctor")
    assert [c["name"] for c in report["checks"]] == ["node", "npm", "disk"]

    package = json.loads((root / "package.json").read_text())
    (root / "package.json").write_text(json.dumps({**package, "engines": {"node": ">=99"}}))
    failed = run_cli("doctor", cwd=root)
    assert failed.returncode == 1
    assert re.search(
        r"^fail node +v[\d.]+ here: package.json engines.node '>=99' does not admit it$", failed.stdout, re.M
    )


def test_doctor_checks_an_ssh_target_and_fails_on_an_unknown_host_key(tmp_path: Path, sshd) -> None:
    root = _service(tmp_path / "api", 3000)
    deploy_root = tmp_path / "srv"
    url = sshd.url(str(deploy_root))
    known = ["--identity", str(sshd.key), "--known-hosts"]
    done = run_cli("doctor", "--to", url, *known, str(sshd.known_hosts), "--format", "json", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["host key"]["level"] == "ok" and checks["lock"]["detail"] == "free"
    assert checks["disk"]["level"] in ("ok", "warn") and "on the target" in checks["disk"]["detail"]

    (tmp_path / "empty_known_hosts").write_text("")
    unknown = run_cli("doctor", "--to", url, *known, str(tmp_path / "empty_known_hosts"), cwd=root)
    assert unknown.returncode == 1
    assert re.search(r"^fail host key ", unknown.stdout, re.M), unknown.stdout
