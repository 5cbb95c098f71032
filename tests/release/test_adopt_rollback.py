"""adopt a hand-managed tree, deploy over it, force a failure, roll back by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploysafe import release
from deploysafe.errors import TargetError
from deploysafe.release import ReleaseFailed

from .conftest import APP, current_of, doomed, history_of, serving


def _hand_made_tree(root: Path) -> dict[str, bytes]:
    """The seeds' situation: a live tree with production-only files nobody has locally."""
    shutil.copytree(APP, root)
    (root / "package.json").write_text((root / "package.json").read_text().replace("1.0.0", "0.9.0"))
    (root / ".env").write_text("DATABASE_URL=postgres://prod\n")
    (root / "uploads").mkdir()
    (root / "uploads" / "avatar.png").write_bytes(b"\x89PNG...")
    (root / "src" / "services").mkdir()
    (root / "src" / "services" / "freeswitch.js").write_text("module.exports = {};\n")
    (root / "node_modules" / "ms").mkdir(parents=True)
    (root / "node_modules" / "ms" / "index.js").write_text("module.exports = () => '1s';\n")
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_adopt_moves_the_tree_into_a_release_and_keeps_every_file(host_root, local_spec):
    files = _hand_made_tree(host_root)
    spec = local_spec.with_overrides(shared=[".env", "uploads/"])

    result = release.adopt(spec)

    assert result.release == "release-app-0.9.0-adopted"
    assert current_of(host_root) == "release-app-0.9.0-adopted"
    for rel, data in files.items():
        assert (host_root / "current" / rel).read_bytes() == data, rel
    assert (host_root / "shared" / ".env").is_file() and (host_root / "current" / ".env").is_symlink()
    assert sorted(p.name for p in host_root.iterdir()) == [".deploysafe", "current", "releases", "shared"]
    assert history_of(host_root)[-1]["kind"] == "adopt"


def test_deploy_after_adopt_then_a_forced_failure_rolls_back_to_the_adopted_tree(
    host_root, local_spec, make_artifact, live_port
):
    _hand_made_tree(host_root)
    spec = local_spec.with_overrides(shared=[".env", "uploads/"])
    release.adopt(spec, restart=True)
    assert serving(live_port)["version"] == "0.9.0"

    first = release.deploy(make_artifact("1.0.0"), spec)
    assert serving(live_port)["version"] == "1.0.0"
    assert (host_root / "releases" / first.release / ".env").read_text() == "DATABASE_URL=postgres://prod\n"

    with pytest.raises(ReleaseFailed):
        release.deploy(make_artifact("1.1.0", faults={"unhealthy_on_port": live_port}), doomed(spec))
    assert current_of(host_root) == first.release

    back = release.rollback(spec)
    assert back.release == "release-app-0.9.0-adopted"
    assert serving(live_port)["version"] == "0.9.0"
    assert history_of(host_root)[-1]["kind"] == "rollback"


def test_adopt_refuses_a_tree_that_uses_the_layout_names(host_root, local_spec):
    host_root.mkdir(parents=True)
    (host_root / "releases").mkdir()
    (host_root / "index.js").write_text("")
    with pytest.raises(TargetError, match="has its own releases"):
        release.adopt(local_spec)


def test_rollback_to_a_named_release_and_to_a_missing_one(make_artifact, local_spec, host_root, live_port):
    a = release.deploy(make_artifact("1.0.0"), local_spec).release
    release.deploy(make_artifact("1.1.0"), local_spec)
    release.deploy(make_artifact("1.2.0"), local_spec)

    deploy_gate = local_spec.with_overrides(health_passes=4, health_interval=1.0)  # at least 3 s for a deploy
    back = release.rollback(deploy_gate, release=a)
    assert back.release == a
    assert serving(live_port)["version"] == "1.0.0"
    health = next(s for s in back.steps if s.step == "health")
    assert health.detail.startswith("2 passes of ") and health.seconds < 3.0  # it passed before: the short window
    with pytest.raises(TargetError, match="no release 'nope'"):
        release.rollback(local_spec, release="nope")
    listed = {r.id: r for r in release.releases(local_spec)}
    assert listed[a].current and listed[a].status == "good"


def test_rollback_completes_within_two_seconds_after_the_failing_verdict(
    make_artifact, local_spec, host_root, live_port
):
    release.deploy(make_artifact("1.0.0"), local_spec)
    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("2.0.0", faults={"unhealthy_on_port": live_port}), doomed(local_spec))
    rollback_seconds = sum(s.seconds for s in failure.value.result.steps if s.step.startswith("rollback-"))
    assert rollback_seconds <= 2.0
