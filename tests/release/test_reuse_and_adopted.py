"""node_modules reused from any release installed alike; the adopted original tree survives pruning."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploysafe import release
from deploysafe.errors import ConfigError

from .conftest import APP, current_of, serving


def _install(result: release.Result) -> str:
    return next(s.detail for s in result.steps if s.step == "install")


def _inode(root: Path, release_id: str) -> int:
    return (root / "releases" / release_id / "node_modules" / "ms" / "package.json").stat().st_ino


def test_node_modules_come_from_an_older_release_installed_alike_when_neither_current_nor_fallback_is(
    make_artifact, local_spec, host_root
):
    other = local_spec.with_overrides(install="npm ci --omit=dev --no-audit")
    a = release.deploy(make_artifact("1.0.0"), local_spec)
    b = release.deploy(make_artifact("1.1.0"), other)
    assert _install(b).startswith("ran `npm ci --omit=dev --no-audit`")

    c = release.deploy(make_artifact("1.2.0"), local_spec)  # current and fallback are b: installed otherwise

    assert _install(c) == f"reused node_modules of {a.release} (lockfile unchanged)"
    assert _inode(host_root, c.release) == _inode(host_root, a.release)  # hard links, not a copy
    assert current_of(host_root) == c.release


def test_after_a_manual_rollback_the_next_deploy_reuses_node_modules(make_artifact, local_spec, host_root):
    other = local_spec.with_overrides(install="npm ci --omit=dev --no-audit")
    a = release.deploy(make_artifact("1.0.0"), local_spec)
    b = release.deploy(make_artifact("1.1.0"), local_spec)
    release.deploy(make_artifact("1.2.0"), other)
    release.rollback(other)  # back to b; c stays on disk

    d = release.deploy(make_artifact("1.3.0"), local_spec)

    assert _install(d) in {f"reused node_modules of {r} (lockfile unchanged)" for r in (a.release, b.release)}


def _adopt(host_root: Path, local_spec: release.TargetSpec) -> str:
    shutil.copytree(APP, host_root)
    (host_root / "package.json").write_text((host_root / "package.json").read_text().replace("1.0.0", "0.9.0"))
    (host_root / "node_modules" / "ms").mkdir(parents=True, exist_ok=True)
    (host_root / "node_modules" / "ms" / "index.js").write_text("module.exports = () => '1s';\n")
    return release.adopt(local_spec, restart=True).release


def test_the_adopted_original_tree_is_kept_past_keep_and_listed_as_such(
    make_artifact, local_spec, host_root, live_port
):
    spec = local_spec.with_overrides(keep=2)
    adopted = _adopt(host_root, spec)
    for version in ("1.0.0", "1.1.0", "1.2.0", "1.3.0"):
        release.deploy(make_artifact(version), spec)

    listed = {r.id: r for r in release.releases(spec)}
    assert adopted in listed and listed[adopted].adopted
    assert len(listed) == 3  # keep 2, and the adopted original beside them
    assert (host_root / "releases" / adopted / "package.json").is_file()
    assert serving(live_port)["version"] == "1.3.0"

    release.rollback(spec, release=adopted)
    assert serving(live_port)["version"] == "0.9.0"


def test_prune_adopted_lets_the_adopted_tree_go(make_artifact, local_spec, host_root):
    spec = local_spec.with_overrides(keep=2, prune_adopted=True)
    adopted = _adopt(host_root, spec)
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        release.deploy(make_artifact(version), spec)

    assert adopted not in {r.id for r in release.releases(spec)}
    assert not (host_root / "releases" / adopted).exists()


def test_a_health_deadline_shorter_than_pm2_min_uptime_is_refused_before_anything_changes(
    make_artifact, local_spec, host_root
):
    spec = local_spec.with_overrides(pm2="ecosystem.config.cjs", pm2_min_uptime=5.0, health_deadline=4.0)
    with pytest.raises(ConfigError, match=r"health_deadline \(4s\) is shorter than pm2_min_uptime \(5s\)"):
        release.deploy(make_artifact("1.0.0"), spec)
    assert not host_root.exists()
