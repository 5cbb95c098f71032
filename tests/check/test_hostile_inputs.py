"""Hostile and unlucky inputs through the real command line: a one-line error and the documented exit code,
never a traceback. Where Node has a say (deep `export *` chains, star cycles), real node is the judge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.projects import run_cli, run_node, write_tree

PACKAGE = {"name": "app", "version": "1.0.0", "type": "module", "main": "index.js"}
LOADED = "console.log('loaded');\n"
DEEP = "[" * 50_000 + "]" * 50_000


def app(tmp_path: Path, extra: dict | None = None) -> Path:
    return write_tree(tmp_path / "app", {"package.json": PACKAGE, "index.js": LOADED, **(extra or {})})


def assert_one_line_error(done, code: int = 2, says: str = "") -> None:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("deploysafe: error: "), done.stderr
    assert says in lines[0], lines[0]
    assert done.returncode == code, done.stderr


def assert_clean_exit(done, code: int) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stdout + done.stderr


# -- patterns git accepts -------------------------------------------------------------------------------

GIT_ODDITIES = ["!", "\\", "src\\", "!\\"]


@pytest.mark.parametrize("line", GIT_ODDITIES)
def test_a_gitignore_line_git_passes_over_matches_nothing(tmp_path: Path, line: str) -> None:
    root = app(tmp_path, {".gitignore": f"{line}\nlogs/\n", "logs/a.js": LOADED})
    done = run_cli("check", str(root), "--format", "json")
    assert_clean_exit(done, 0)
    assert json.loads(done.stdout)["summary"]["files"] == 1  # logs/ still ignored
    assert_clean_exit(run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/"), 0)


@pytest.mark.parametrize("line", GIT_ODDITIES)
@pytest.mark.parametrize(
    "command", [("check", "--exclude"), ("pack", "--exclude"), ("pack", "--include"), ("pack", "--allow-secret")]
)
def test_an_unusable_pattern_option_is_a_one_line_error(tmp_path: Path, line: str, command: tuple[str, str]) -> None:
    root = app(tmp_path)
    args = [command[0], str(root), command[1], line]
    if command[0] == "pack":
        args += ["-o", str(tmp_path / "out") + "/"]
    assert_one_line_error(run_cli(*args), 2, "not a usable gitignore-style pattern")


@pytest.mark.parametrize("line", GIT_ODDITIES)
def test_an_unusable_skip_pattern_is_a_one_line_error(tmp_path: Path, line: str) -> None:
    root = app(tmp_path)
    other = app(tmp_path / "other")
    assert_one_line_error(run_cli("drift", str(root), "--against", str(other), "--skip", line), 2, "--skip")


# -- export * as Node links it --------------------------------------------------------------------------


def test_an_export_star_chain_300_deep_loads_as_in_node(tmp_path: Path) -> None:
    files = {f"m{i}.js": f"export * from './m{i + 1}.js';\n" for i in range(300)}
    files["m300.js"] = "export const x = 1;\n"
    root = app(tmp_path, {**files, "index.js": "import { x } from './m0.js';\n" + LOADED})
    assert run_node(root, "index.js").returncode == 0
    done = run_cli("check", str(root), "--format", "json")
    assert_clean_exit(done, 0)
    assert json.loads(done.stdout)["summary"]["unverified"] == 0


def test_a_missing_name_through_a_star_cycle_blocks_as_node_fails(tmp_path: Path) -> None:
    root = app(
        tmp_path,
        {
            "a.js": "export * from './b.js';\nexport const a = 1;\n",
            "b.js": "export * from './a.js';\nexport const b = 2;\n",
            "index.js": "import { nope } from './a.js';\n" + LOADED,
        },
    )
    node = run_node(root, "index.js")
    assert node.returncode != 0 and "does not provide an export named 'nope'" in node.stderr
    done = run_cli("check", str(root), "--format", "json")
    assert_clean_exit(done, 1)
    errors = [f for f in json.loads(done.stdout)["findings"] if f["severity"] == "error"]
    assert [(f["rule"], f["file"]) for f in errors] == [("missing-export", "index.js")]


def test_names_through_a_star_cycle_load_as_in_node(tmp_path: Path) -> None:
    root = app(
        tmp_path,
        {
            "a.js": "export * from './b.js';\nexport const a = 1;\n",
            "b.js": "export * from './a.js';\nexport const b = 2;\n",
            "index.js": "import { a, b } from './b.js';\n" + LOADED,
        },
    )
    assert run_node(root, "index.js").returncode == 0
    done = run_cli("check", str(root), "--format", "json")
    assert_clean_exit(done, 0)
    assert not [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "missing-export"]


def test_one_binding_reached_through_two_stars_is_no_conflict_as_in_node(tmp_path: Path) -> None:
    root = app(
        tmp_path,
        {
            "a.js": "export * from './b.js';\nexport * from './c.js';\n",
            "b.js": "export * from './d.js';\n",
            "c.js": "export * from './d.js';\n",
            "d.js": "export const x = 1;\n",
            "index.js": "import { x } from './a.js';\n" + LOADED,
        },
    )
    assert run_node(root, "index.js").returncode == 0
    assert_clean_exit(run_cli("check", str(root)), 0)


# -- deep JSON ---------------------------------------------------------------------------------------------


def test_package_json_nested_too_deeply_is_a_one_line_error(tmp_path: Path) -> None:
    root = app(tmp_path)
    (root / "package.json").write_text(json.dumps(PACKAGE)[:-1] + f', "x": {DEEP}}}')
    assert_one_line_error(run_cli("check", str(root)), 2, "nested too deeply")
    assert_one_line_error(run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/"), 2, "nested too deeply")


def test_tsconfig_nested_too_deeply_never_crashes_check(tmp_path: Path) -> None:
    root = app(tmp_path, {"index.ts": LOADED})
    (root / "tsconfig.json").write_text(f'{{"compilerOptions": {{"x": {DEEP}}}}}')
    done = run_cli("check", str(root), "--entry", "index.ts")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1, 2)


# -- files and outputs -------------------------------------------------------------------------------------


def test_a_dormant_file_with_a_non_utf8_name_packs_and_reports(tmp_path: Path) -> None:
    root = app(tmp_path)
    with open(os.path.join(os.fsencode(root), b"bad\xff.js"), "wb") as handle:
        handle.write(b"import x from './nope.js';\n")
    done = run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/", "--format", "json")
    assert_clean_exit(done, 0)
    assert "bad\\xff.js" in json.loads(done.stdout)["dormant"]
    for fmt in ("text", "json", "sarif", "html"):
        assert_clean_exit(run_cli("check", str(root), "--format", fmt, "-o", str(tmp_path / f"r.{fmt}")), 0)
        (tmp_path / f"r.{fmt}").read_text(encoding="utf-8")  # valid UTF-8
        done = subprocess.run(
            [sys.executable, "-m", "deploysafe", "check", str(root), "--format", fmt], capture_output=True, timeout=60
        )
        assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
        if fmt != "text":  # a terminal shows the name's own bytes; the machine formats stay UTF-8
            done.stdout.decode("utf-8")


def test_a_non_utf8_file_an_include_asks_for_is_refused_in_one_line(tmp_path: Path) -> None:
    root = app(tmp_path)
    with open(os.path.join(os.fsencode(root), b"bad\xff.txt"), "wb") as handle:
        handle.write(b"x")
    done = run_cli("pack", str(root), "-o", str(tmp_path / "out") + "/", "--include", "*.txt")
    assert_one_line_error(done, 1, "not valid UTF-8")  # pack's documented code for what it cannot build


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_into_a_missing_folder_creates_it(tmp_path: Path, fmt: str) -> None:
    root = app(tmp_path)
    target = tmp_path / "reports" / "deeper" / f"check.{fmt}"
    assert_clean_exit(run_cli("check", str(root), "--format", fmt, "-o", str(target)), 0)
    assert target.is_file() and target.stat().st_size > 0


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("command", ["check", "pack"])
def test_output_to_a_full_disk_says_so(tmp_path: Path, command: str) -> None:
    root = app(tmp_path)
    args = [command, str(root), "-o", "/dev/full"] + (["--format", "json"] if command == "check" else [])
    done = run_cli(*args)
    assert "Traceback" not in done.stderr and done.returncode == (2 if command == "check" else 1), done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and ("No space left on device" in lines[0] or "not a regular file" in lines[0])


@pytest.mark.parametrize("entry", ["/etc/hostname", "../x.js", "..", "/"])
def test_an_entry_outside_the_root_is_refused(tmp_path: Path, entry: str) -> None:
    root = app(tmp_path)
    (tmp_path / "x.js").write_text(LOADED)
    assert_one_line_error(run_cli("check", str(root), "--entry", entry), 2, "is not a file under")


# -- targets and probes ------------------------------------------------------------------------------------

BAD_PROBES = [
    "http://127.0.0.1:99999/x",
    "http://[::1/x",
    "http://[zz]:80/",
    "http://127.0.0.1:-1/",
    "https://[::1]:70000/",
    "tcp://[::1:5",
    "tcp://127.0.0.1:99999",
]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile-artifact")
    root = app(base)
    done = run_cli("pack", str(root), "-o", str(base / "out") + "/")
    assert done.returncode == 0, done.stderr
    return next((base / "out").glob("*.tar.gz"))


@pytest.mark.parametrize("probe", BAD_PROBES)
def test_a_malformed_health_probe_is_a_one_line_error(tmp_path: Path, artifact: Path, probe: str) -> None:
    done = run_cli("deploy", str(artifact), "--to", str(tmp_path / "host"), "--health", probe, "--restart", "true")
    assert_one_line_error(done, 2, "health probe")
    assert not (tmp_path / "host" / "current").exists()


@pytest.mark.parametrize("url", ["ssh://[::1/srv/app", "ssh://h:99999/srv/app", "ssh://[zz]/srv/app"])
def test_a_malformed_ssh_target_is_a_one_line_error(artifact: Path, url: str) -> None:
    assert_one_line_error(run_cli("deploy", str(artifact), "--to", url), 2)
