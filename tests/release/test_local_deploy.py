"""Deploys to a directory on this machine with the real Node app and a pidfile restart script."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from deploysafe import artifact, release
from deploysafe.errors import ConfigError, TargetError
from deploysafe.release import ReleaseFailed

from .conftest import current_of, doomed, history_of, serving


def test_packed_example_under_a_plain_command_serves_each_new_version_and_records_every_step(
    example, plain_spec, host_root, live_port
):
    built = example.build("1.4.0", port=live_port)
    started = time.monotonic()
    first = release.deploy(built, plain_spec)
    took = time.monotonic() - started

    assert first.status == "good"
    assert 0 < first.seconds <= took + 0.001  # the time the report prints is the deploy's own (to the ms)
    assert first.seconds == round(first.seconds, 3)
    assert serving(live_port) == {"status": "healthy", "version": "1.4.0"}
    assert current_of(host_root) == first.release
    assert [s.step for s in first.steps] == list(release.STEPS)
    assert first.steps[0].detail.startswith(("target does not exist yet; artifact", "target is empty; artifact"))
    record = history_of(host_root)[-1]
    assert record["status"] == "good" and record["release"] == first.release
    manifest = artifact.read_manifest(built)
    shipped = (record["version"], record["artifact_sha256"], record["content_sha256"])
    assert shipped == ("1.4.0", artifact.sha256_file(built), manifest.content_sha256)
    listed = release.releases(plain_spec)[0]
    assert (listed.id, listed.version, listed.artifact_sha256) == (first.release, "1.4.0", record["artifact_sha256"])
    assert [s["step"] for s in record["steps"]][:3] == ["preflight", "lock", "upload"]
    assert not (host_root / ".deploysafe" / "lock").exists()
    assert not (host_root / ".deploysafe" / "run.json").exists()

    second = release.deploy(example.build("1.5.0", port=live_port), plain_spec)

    assert serving(live_port)["version"] == "1.5.0"
    assert current_of(host_root) == second.release
    assert second.steps[0].detail.startswith("target holds earlier releases; artifact seed-api-1.5.0")
    install = next(s for s in second.steps if s.step == "install")
    assert f"reused node_modules of {first.release}" in install.detail  # same lockfile: no npm ci
    assert (host_root / "current" / "node_modules" / "hono" / "package.json").exists()


def test_packed_example_that_crashes_at_boot_is_blocked_and_current_is_untouched(
    example, plain_spec, host_root, live_port
):
    good = release.deploy(example.build("1.4.0", port=live_port), plain_spec)
    # The seeds' crash: an import of a name hono does not export. check blocks it; packed with --force anyway.
    crash = example.build(
        "1.5.0",
        port=live_port,
        edits={"src/index.js": ("import { Hono } from 'hono';", "import { Hono, Router } from 'hono';")},
        force=True,
    )
    assert artifact.read_manifest(crash).raw["check"]["forced"] is True

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(crash, plain_spec)

    result = failure.value.result
    assert result.status == "failed"
    assert result.steps[-1].step == "boot-test" and result.steps[-1].status == "failed"
    assert "does not provide an export named 'Router'" in result.report
    assert current_of(host_root) == good.release
    assert serving(live_port)["version"] == "1.4.0"
    assert history_of(host_root)[-1]["status"] == "failed"


def test_release_unhealthy_after_restart_is_rolled_back_and_old_version_serves(
    make_artifact, local_spec, host_root, live_port
):
    good = release.deploy(make_artifact("1.0.0"), local_spec)

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("2.0.0", faults={"unhealthy_on_port": live_port}), doomed(local_spec))

    result = failure.value.result
    assert result.status == "rolled-back"
    assert [s.step for s in result.steps][-3:] == ["rollback-switch", "rollback-restart", "rollback-health"]
    assert "database pool exhausted" in result.report
    assert current_of(host_root) == good.release
    assert serving(live_port)["version"] == "1.0.0"
    record = history_of(host_root)[-1]
    assert record["status"] == "rolled-back" and record["release"] != good.release


def test_a_rollback_that_fails_too_stops_and_says_the_service_needs_a_human(
    make_artifact, local_spec, host_root, live_port
):
    good = release.deploy(make_artifact("1.0.0"), local_spec)
    # from now on the previous release cannot be started again
    (host_root / "releases" / good.release / "bin" / "restart.sh").write_text(
        'echo "cannot start: disk full" >&2; exit 7\n'
    )

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("2.0.0", faults={"unhealthy_on_port": live_port}), doomed(local_spec))

    result = failure.value.result
    assert result.status == "failed" and "ROLLBACK FAILED" in result.message, result.message
    assert "the service needs a human now" in result.message
    assert "database pool exhausted" in result.report  # the health gate failed first
    assert f"ROLLBACK TO {good.release} FAILED: restart of {good.release} failed (exit 7)" in result.report
    assert [(s.step, s.status) for s in result.steps][-2:] == [
        ("rollback-switch", "ok"),
        ("rollback-restart", "failed"),
    ]
    assert current_of(host_root) == good.release
    assert history_of(host_root)[-1]["status"] == "failed"
    assert not (host_root / ".deploysafe" / "lock").exists()


def test_a_first_release_unhealthy_after_restart_has_nothing_to_roll_back_to_and_says_so(
    make_artifact, local_spec, host_root, live_port
):
    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("1.0.0", faults={"unhealthy_on_port": live_port}), doomed(local_spec))

    result = failure.value.result
    assert result.status == "failed"
    assert "NO PREVIOUS GOOD RELEASE" in result.message
    assert "NOTHING TO ROLL BACK TO" in result.report
    assert [s.step for s in result.steps][-1] == "health"  # no rollback step ran
    assert current_of(host_root) == result.release  # current stays at the release: nothing else to serve
    assert history_of(host_root)[-1]["status"] == "failed"


def test_deploying_again_a_release_this_target_rolled_back_says_so(make_artifact, local_spec, host_root, live_port):
    release.deploy(make_artifact("1.0.0"), local_spec)
    bad = make_artifact("2.0.0", faults={"unhealthy_on_port": live_port})
    with pytest.raises(ReleaseFailed):
        release.deploy(bad, doomed(local_spec))
    messages: list[str] = []

    class Collect(release.NullReporter):
        def message(self, text: str, level: str = "info") -> None:
            messages.append(f"{level}: {text}")

    with pytest.raises(ReleaseFailed):
        release.deploy(bad, doomed(local_spec), reporter=Collect())
    assert any(m.startswith("warning: ") and "was rolled-back on" in m and "deploying it again" in m for m in messages)


# A restart script that starts the new release without stopping the old one: the new process dies on
# EADDRINUSE and the old one goes on answering {"status":"healthy"} on the port.
_RESTART_KEEPING_THE_OLD = b"""#!/bin/sh
cd "$DEPLOYSAFE_ROOT/current"
nohup setsid node src/index.js >>"$DEPLOYSAFE_ROOT/shared/app.log" 2>&1 </dev/null &
echo $! >"$DEPLOYSAFE_ROOT/shared/app.pid"
"""


def test_version_placeholder_in_health_expect_rejects_the_old_version_still_answering(
    make_artifact, local_spec, host_root, live_port
):
    spec = local_spec.with_overrides(health_expect='"version":"{version}"')
    good = release.deploy(make_artifact("1.0.0"), spec)
    assert good.status == "good"
    stuck = make_artifact("1.1.0", extra={"bin/restart.sh": _RESTART_KEEPING_THE_OLD})

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(stuck, doomed(spec))

    result = failure.value.result
    assert result.status == "rolled-back"
    assert next(s for s in result.steps if s.step == "boot-test").status == "ok"  # 1.1.0 itself answers 1.1.0
    assert """lacks '"version":"1.1.0"' (health_expect '"version":"{version}"' for version 1.1.0""" in result.report
    assert '"version":"1.0.0"' in result.report  # what did answer
    assert """the body lacks '"version":"1.1.0"'""" in result.message
    assert current_of(host_root) == good.release
    assert serving(live_port)["version"] == "1.0.0"


def test_release_placeholder_in_health_expect_is_filled_with_the_release_id(make_artifact, local_spec, host_root):
    command = "cat .deploysafe/manifest.json"  # run in the release (boot test), then in current
    spec = local_spec.with_overrides(health=command, health_expect='"id": "{release}"')
    result = release.deploy(make_artifact("1.0.0"), spec)
    assert result.status == "good"
    health_step = next(s for s in result.steps if s.step == "health")
    assert f"""(output contains '"id": "{result.release}"')""" in health_step.detail


def test_missing_shared_file_fails_before_the_switch(make_artifact, local_spec, host_root, live_port):
    good = release.deploy(make_artifact("1.0.0"), local_spec)
    spec = local_spec.with_overrides(shared=[".env", "logs/"])

    with pytest.raises(ReleaseFailed, match=r"shared/\.env is missing"):
        release.deploy(make_artifact("1.1.0"), spec)
    assert current_of(host_root) == good.release

    (host_root / "shared" / ".env").write_text("SECRET=1\n")
    result = release.deploy(make_artifact("1.1.0"), spec)
    linked = host_root / "releases" / result.release / ".env"
    assert linked.is_symlink() and linked.read_text() == "SECRET=1\n"
    assert (host_root / "releases" / result.release / "logs").resolve() == (host_root / "shared" / "logs").resolve()


def test_deploy_onto_a_plain_non_empty_directory_refuses_and_suggests_adopt(make_artifact, local_spec, host_root):
    host_root.mkdir(parents=True)
    (host_root / "index.js").write_text("// hand-made\n")

    with pytest.raises(TargetError, match="deploysafe adopt"):
        release.deploy(make_artifact("1.0.0"), local_spec)
    assert sorted(p.name for p in host_root.iterdir()) == ["index.js"]


def test_deploy_without_a_health_probe_refuses(make_artifact, host_root):
    built = make_artifact("1.0.0")
    spec = release.target(str(host_root), config={})
    with pytest.raises(ConfigError, match=f"^target {re.escape(spec.url)} has no health probe: set health = "):
        release.deploy(built, spec)
    named = release.target("app", config={"targets": {"app": {"path": str(host_root)}}})
    with pytest.raises(ConfigError, match=r"^target app has no health probe: set health = "):
        release.deploy(built, named)
    assert not host_root.exists()


def test_dry_run_prints_the_plan_and_changes_nothing(make_artifact, local_spec, host_root):
    release.deploy(make_artifact("1.0.0"), local_spec)
    before = sorted(str(p.relative_to(host_root)) for p in host_root.rglob("*"))

    result = release.deploy(make_artifact("1.1.0"), local_spec, dry_run=True)

    assert result.status == "planned" and result.seconds == 0.0  # nothing ran: no time to report
    steps = [s for s, _ in result.plan]
    assert steps[:3] == ["preflight", "lock", "upload"] and "prune" in steps
    assert "reuse node_modules" in dict(result.plan)["install"]
    assert sorted(str(p.relative_to(host_root)) for p in host_root.rglob("*")) == before


def test_redeploying_the_live_release_keeps_it_live(make_artifact, local_spec, host_root, live_port):
    artifact = make_artifact("1.0.0")
    first = release.deploy(artifact, local_spec)
    again = release.deploy(artifact, local_spec)
    assert again.release == first.release
    assert next(s for s in again.steps if s.step == "upload").status == "skipped"
    assert serving(live_port)["version"] == "1.0.0"


def test_tampered_artifact_is_refused_before_touching_the_target(make_artifact, local_spec, host_root, tmp_path):
    import gzip

    artifact = make_artifact("1.0.0")
    data = bytearray(gzip.decompress(artifact.read_bytes()))
    marker = data.find(b"release-app: crash at boot")
    data[marker] ^= 0x20
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(gzip.compress(bytes(data)))

    from deploysafe.errors import ArtifactError

    with pytest.raises(ArtifactError, match=r"src/index\.js"):
        release.deploy(bad, local_spec)
    assert not Path(host_root).exists()


def test_deploying_a_project_root_packs_it_first(app_src, local_spec, host_root, live_port):
    result = release.deploy(app_src, local_spec)
    assert result.status == "good"
    assert serving(live_port)["version"] == "1.0.0"
    assert (host_root / "current" / "bin" / "restart.sh").exists()  # [pack] include in deploysafe.toml
