"""``deploysafe.pack()``, ``drift()``, ``deploy()`` and ``rollback()`` join ``check()`` at the top of the package:
one real round trip on a directory target, the release app serving each version over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import deploysafe

from .conftest import current_of, serving


def _set_version(root: Path, version: str) -> None:
    package = root / "package.json"
    package.write_text(json.dumps({**json.loads(package.read_text()), "version": version}, indent=2) + "\n")


def test_the_top_level_api_packs_drifts_deploys_and_rolls_back(app_src, host_root, live_port, tmp_path):
    settings = {
        "restart": "sh bin/restart.sh",
        "health": f"http://127.0.0.1:{live_port}/health",
        "health_expect": "healthy",
        "env": {"PORT": str(live_port)},
        "health_interval": 0.2,
        "health_passes": 2,
        "health_deadline": 4.0,
    }
    (tmp_path / "dist").mkdir()
    _set_version(app_src, "1.0.0")
    first = deploysafe.pack(app_src, output=tmp_path / "dist")
    assert first.path.name.startswith("release-app-1.0.0-") and first.path.exists()
    deployed = deploysafe.deploy(first.path, str(host_root), **settings)
    assert deployed.status == "good"
    assert serving(live_port)["version"] == "1.0.0"

    changes = deploysafe.drift(app_src, str(host_root / "current"))
    assert changes.to_json()["summary"]["needed"] == 0

    _set_version(app_src, "1.1.0")
    second = deploysafe.pack(app_src, output=tmp_path / "dist")
    upgraded = deploysafe.deploy(second.path, str(host_root), **settings)
    assert serving(live_port)["version"] == "1.1.0"

    back = deploysafe.rollback(str(host_root), **settings)
    assert back.status == "good"
    assert upgraded.release != deployed.release and current_of(host_root) == deployed.release
    assert serving(live_port)["version"] == "1.0.0"


def test_importing_deploysafe_loads_no_stage_and_the_names_stay_functions():
    code = (
        "import sys, deploysafe\n"
        "assert 'deploysafe.pack.api' not in sys.modules and 'deploysafe.drift' not in sys.modules\n"
        "assert 'deploysafe.release' not in sys.modules\n"
        "from deploysafe.pack import verify\n"
        "import deploysafe.drift\n"
        "assert callable(verify) and deploysafe.pack.__name__ == 'pack' and deploysafe.drift.__name__ == 'drift'\n"
        "print(sorted(n for n in ('check', 'pack', 'drift', 'deploy', 'rollback') if n in deploysafe.__all__))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['check',", "'deploy',", "'drift',", "'pack',", "'rollback']"]
