"""The console script (deploysafe.cli.run) loads a command with the cycle collector off and turns it back on
before the command runs: a deploy or a watch that lasts minutes must not grow without it. A one-shot check
ends the process with its one check and keeps it off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = (
    "import atexit, gc, sys\n"
    "atexit.register(lambda: print('collector on' if gc.isenabled() else 'collector off', file=sys.stderr))\n"
    "from deploysafe.cli import run\n"
    "sys.argv = ['deploysafe', *sys.argv[1:]]\n"
    "run()\n"
)


def test_the_collector_is_back_on_when_a_command_runs():
    done = subprocess.run([sys.executable, "-c", PROBE, "rules"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "unresolved-import" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "collector on"


def test_the_collector_stays_off_for_a_version_line():
    done = subprocess.run([sys.executable, "-c", PROBE, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deploysafe")
    assert done.stderr.strip().splitlines()[-1] == "collector off"


def test_the_collector_stays_off_for_a_one_shot_check(tmp_path: Path):
    (tmp_path / "package.json").write_text('{"name": "one", "main": "index.js"}')
    (tmp_path / "index.js").write_text("require('./a');\n")
    (tmp_path / "a.js").write_text("module.exports = 1;\n")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "check", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "collector off"
