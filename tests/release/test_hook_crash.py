"""kill -9 of a real `deploysafe deploy` at the start of every step the target's hooks add to the flow.

The steps walked come from the DEPLOY flow with the target's hooks woven in, so a hook position (or a
new step) is covered without touching this test; the flow's own steps are walked by test_safety_rails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploysafe import artifact, release
from deploysafe.release.flows import DEPLOY
from tests.release.test_safety_rails import check_after_kill, kill_at
from tests.support.sshd import free_port

from .conftest import history_of, serving

# Each hook outlasts the moment between its start event and the kill, so the kill lands inside it.
HOOKS = """\
before_install = ["sleep 0.3"]
before_switch = ["sleep 0.3"]
after_switch = ["sleep 0.3"]
after_restart = ["sleep 0.3"]
after_health = ["sleep 0.3"]
before_prune = ["sleep 0.3"]
"""


def _toml(tmp_path: Path, root: Path, port: int) -> Path:
    (tmp_path / "deploysafe.toml").write_text(
        "[targets.app]\n"
        f'path = "{root}"\n'
        'restart = "sh bin/restart.sh"\n'
        f'health = "http://127.0.0.1:{port}/health"\n'
        'health_expect = "healthy"\n'
        "health_interval = 0.2\nhealth_passes = 2\nhealth_deadline = 4.0\nboot_deadline = 10.0\n"
        f'env = {{ PORT = "{port}" }}\n' + HOOKS
    )
    return tmp_path


def _deploy(artifact_path: Path, cwd: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "deploysafe", "deploy", str(artifact_path), "--to", "app", "--format", "json"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


@pytest.mark.slow
def test_kill_9_at_every_hook_step_leaves_a_healthy_current_and_the_next_deploy_succeeds(make_artifact, tmp_path):
    root, port = tmp_path / "host" / "app", free_port()
    cwd = _toml(tmp_path, root, port)
    spec = release.target("app", root=cwd)
    walk = [name for name in DEPLOY.names(spec.hooks) if name not in release.STEPS]
    assert walk == ["before-install", "before-switch", "after-switch", "after-restart", "after-health", "before-prune"]

    base = _deploy(make_artifact("1.0.0"), cwd)
    assert base.wait(120) == 0, base.stderr.read() if base.stderr else ""
    for n, step in enumerate(walk, 1):
        built = make_artifact(f"1.{n}.0")
        kill_at(_deploy(built, cwd), step)
        check_after_kill(root, port, step)

        again = _deploy(built, cwd)
        assert again.wait(120) == 0, f"deploy after kill at {step}: {again.stderr.read() if again.stderr else ''}"
        assert serving(port)["version"] == artifact.read_manifest(built).version, f"after kill at {step}"

    assert not any(p.name.startswith(".incoming-") for p in (root / "releases").iterdir())
    statuses = [r["status"] for r in history_of(root)]
    # every walked hook but before-prune comes before the verdict: its run is recorded as interrupted
    assert statuses.count("interrupted") >= len(walk) - 1, statuses
