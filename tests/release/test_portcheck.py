"""The PORT preflight: a release whose pm2 process file moves its apps off the health port is refused
before anything changes, but only when the health port is known to be the apps' own; health through a
proxy in front or at an admin port is the health gate's to judge."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploysafe import release
from deploysafe.errors import ConfigError
from deploysafe.release import portcheck
from deploysafe.release.spec import open_target


def _check(artifact: Path, root: Path, health_port: int, **env: str) -> None:
    spec = release.target(
        str(root), config={}, pm2="ecosystem.config.cjs", health=f"http://127.0.0.1:{health_port}/health", env=env
    )
    target = open_target(spec)
    try:
        portcheck.check(portcheck.app_ports(artifact, spec), spec, target)
    finally:
        target.close()


def test_a_pm2_file_moving_its_apps_off_the_health_port_is_refused_only_when_that_port_is_theirs(example, tmp_path):
    artifact = example.build("1.0.0", port=3001)  # seed-api gets PORT=3001
    root = tmp_path / "srv"

    _check(artifact, root, 8080)  # health through a proxy in front, or an admin port: nothing says otherwise
    _check(artifact, root, 8080, PORT="3001")

    with pytest.raises(
        ConfigError, match=r"\(seed-api PORT=3001\) but health probes port 3000 .* which the target's env"
    ):
        _check(artifact, root, 3000, PORT="3000")

    live = root / "releases" / "old"  # the live release put seed-api on 8080; this one moves it
    live.mkdir(parents=True)
    (live / "ecosystem.config.cjs").write_text(
        (example.root / "ecosystem.config.cjs").read_text().replace("3000", "8080")
    )
    (root / "current").symlink_to("releases/old")
    with pytest.raises(ConfigError, match=r"which the live release's ecosystem\.config\.cjs gives seed-api as PORT"):
        _check(artifact, root, 8080)
