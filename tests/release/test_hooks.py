"""A target's own commands before/after a named step: a real node migration before the switch, failures on
either side of it, the dry-run plan, config errors, and once_per_fleet on a fleet of real sshd hosts."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from deploysafe import release
from deploysafe.errors import ConfigError
from deploysafe.release import ReleaseFailed, hooks
from deploysafe.release.run import StepFailed

from .conftest import current_of, history_of, serving

MIGRATE = """\
// A schema migration: shared/db.json moves to schema {schema}, noting which release ran it, from where,
// and what `current` pointed at while it ran.
const fs = require("fs");
const path = require("path");
const root = process.env.DEPLOYSAFE_ROOT;
const file = path.join(root, "shared", "db.json");
const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {{ schema: 0, log: [] }};
let live = null;
try {{ live = path.basename(fs.readlinkSync(path.join(root, "current"))); }} catch {{}}
if ({fail}) {{ console.error("migration to schema {schema} failed: column users.email already exists"); process.exit(3); }}
db.schema = {schema};
db.log.push({{ release: process.env.DEPLOYSAFE_RELEASE_ID, live, cwd: process.cwd() }});
fs.writeFileSync(file, JSON.stringify(db));
console.log("migrated to schema {schema}");
"""


def _migration(schema: int, fail: bool = False) -> dict[str, bytes]:
    return {"migrate.cjs": MIGRATE.format(schema=schema, fail="true" if fail else "false").encode()}


def _with_hooks(spec, **table: object):
    return replace(spec, hooks=hooks.parse(table, "test"))


def _db(root: Path) -> dict:
    return json.loads((root / "shared" / "db.json").read_text())


def test_a_before_switch_migration_runs_in_the_new_release_while_the_old_one_is_current(
    make_artifact, local_spec, host_root, live_port
):
    spec = _with_hooks(local_spec, before_switch=["node migrate.cjs"])
    first = release.deploy(make_artifact("1.0.0", extra=_migration(1)), spec)
    second = release.deploy(make_artifact("2.0.0", extra=_migration(2)), spec)

    assert second.status == "good" and serving(live_port)["version"] == "2.0.0"
    names = [s.step for s in second.steps]
    assert names[names.index("switch") - 1] == "before-switch"
    assert "migrated to schema 2" in next(s.detail for s in second.steps if s.step == "before-switch")
    db = _db(host_root)
    assert db["schema"] == 2
    assert [(e["release"], e["live"]) for e in db["log"]] == [(first.release, None), (second.release, first.release)]
    assert Path(db["log"][1]["cwd"]).resolve() == (host_root / "releases" / second.release).resolve()


def test_a_failing_migration_stops_the_deploy_before_the_switch(make_artifact, local_spec, host_root, live_port):
    spec = _with_hooks(local_spec, before_switch=["node migrate.cjs"])
    first = release.deploy(make_artifact("1.0.0", extra=_migration(1)), spec)

    with pytest.raises(ReleaseFailed) as failed:
        release.deploy(make_artifact("2.0.0", extra=_migration(2, fail=True)), spec)

    result = failed.value.result
    assert result.status == "failed" and result.current == first.release
    assert "before-switch `node migrate.cjs` failed (exit 3)" in str(failed.value)
    assert "column users.email already exists" in result.report
    assert current_of(host_root) == first.release and serving(live_port)["version"] == "1.0.0"
    assert _db(host_root)["schema"] == 1
    assert history_of(host_root)[-1]["status"] == "failed"
    assert "switch" not in [s.step for s in result.steps]


def test_a_failing_command_after_the_switch_rolls_back(make_artifact, local_spec, host_root, live_port):
    spec = _with_hooks(local_spec, after_restart=["test ! -e smoke-fails"])
    first = release.deploy(make_artifact("1.0.0"), spec)

    with pytest.raises(ReleaseFailed) as failed:
        release.deploy(make_artifact("2.0.0", extra={"smoke-fails": b"yes\n"}), spec)

    result = failed.value.result
    assert result.status == "rolled-back" and result.current == first.release
    names = [s.step for s in result.steps]
    assert names[-4:] == ["after-restart", "rollback-switch", "rollback-restart", "rollback-health"]
    assert current_of(host_root) == first.release and serving(live_port)["version"] == "1.0.0"
    assert history_of(host_root)[-1]["status"] == "rolled-back"


def test_a_rollback_runs_the_hooks_of_its_steps(make_artifact, local_spec, host_root, live_port):
    spec = _with_hooks(local_spec, after_health=['echo "$DEPLOYSAFE_RELEASE_ID" >> "$DEPLOYSAFE_ROOT/shared/notified"'])
    first = release.deploy(make_artifact("1.0.0"), spec)
    second = release.deploy(make_artifact("1.1.0"), spec)

    back = release.rollback(spec)

    assert back.status == "good" and "after-health" in [s.step for s in back.steps]
    notified = (host_root / "shared" / "notified").read_text().split()
    assert notified == [first.release, second.release, first.release]
    assert serving(live_port)["version"] == "1.0.0"


def test_dry_run_lists_the_hooks_in_place_and_changes_nothing(make_artifact, local_spec, host_root):
    spec = _with_hooks(local_spec, before_switch=["node migrate.cjs"], after_health=["echo notified"])
    release.deploy(make_artifact("1.0.0", extra=_migration(1)), spec)
    before = sorted(str(p.relative_to(host_root)) for p in host_root.rglob("*"))

    plan = release.deploy(make_artifact("2.0.0", extra=_migration(2)), spec, dry_run=True).plan

    names = [name for name, _ in plan]
    assert names.index("before-switch") == names.index("switch") - 1
    assert names.index("after-health") == names.index("health") + 1
    assert dict(plan)["before-switch"].startswith("run `node migrate.cjs` in releases/release-app-2.0.0-")
    assert sorted(str(p.relative_to(host_root)) for p in host_root.rglob("*")) == before


def test_hook_keys_are_checked_with_a_one_line_error(tmp_path, make_artifact):
    for table, message in [
        ({"before_swich": ["x"]}, "before_swich"),
        ({"before_choose": ["x"]}, "before_choose"),
        ({"before_switch": [{"run": "x", "once_per_fleet": "yes"}]}, "once_per_fleet must be true or false"),
        ({"after_health": [{"command": "x"}]}, "unknown key 'command'"),
        ({"after_health": [""]}, "a hook needs a non-empty command"),
        ({"after_health": 3}, "expected a command or a list of commands"),
    ]:
        config = {"targets": {"prod": {"path": str(tmp_path / "app"), "health": "tcp://127.0.0.1:9", **table}}}
        with pytest.raises(ConfigError, match=message):
            release.target("prod", config=config)

    (tmp_path / "deploysafe.toml").write_text(
        f'[targets.prod]\npath = "{tmp_path / "app"}"\nhealth = "tcp://127.0.0.1:9"\nbefore_swich = ["x"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "deploysafe", "deploy", str(make_artifact("1.0.0")), "--to", "prod"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "before_swich" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_once_per_fleet_hook_runs_on_the_canary_only(ssh_fleet, make_artifact):
    web, hosts = ssh_fleet(3, canary=1, batch=2)
    table = {
        "before_switch": [
            {"run": 'touch "$DEPLOYSAFE_ROOT/shared/migrated"', "once_per_fleet": True},
            'touch "$DEPLOYSAFE_ROOT/shared/warmed"',
        ]
    }
    web = replace(web, hosts=tuple(_with_hooks(h, **table) for h in web.hosts))
    artifact = make_artifact("1.0.0")

    plan = release.deploy_fleet(artifact, web, dry_run=True)
    hooked = [[line.split(" in releases/")[0] for name, line in plan.plans[h.name] if "-switch" in name] for h in hosts]
    migrate, warm = 'run `touch "$DEPLOYSAFE_ROOT/shared/migrated"`', 'run `touch "$DEPLOYSAFE_ROOT/shared/warmed"`'
    assert hooked == [[migrate, warm], [warm], [warm]]

    result = release.deploy_fleet(artifact, web)

    assert result.status == "good" and [h.serving() for h in hosts] == ["1.0.0"] * 3
    assert [(h.root / "shared" / "migrated").exists() for h in hosts] == [True, False, False]
    assert all((h.root / "shared" / "warmed").exists() for h in hosts)


def test_a_once_per_fleet_hook_runs_on_a_single_target(make_artifact, local_spec, host_root):
    """A target deployed on its own is the whole fleet: its once_per_fleet commands run."""
    migrate = {"run": 'touch "$DEPLOYSAFE_ROOT/shared/migrated"', "once_per_fleet": True}
    result = release.deploy(make_artifact("1.0.0"), _with_hooks(local_spec, before_switch=[migrate]))

    assert result.status == "good" and "before-switch" in [s.step for s in result.steps]
    assert (host_root / "shared" / "migrated").is_file()


def test_a_command_failing_after_the_verdict_is_reported_and_the_release_stays_good(
    make_artifact, local_spec, host_root, live_port
):
    spec = _with_hooks(local_spec, after_mark_good=["echo cache purge refused >&2; exit 5"])

    with pytest.raises(StepFailed, match=r"after-mark-good .* failed \(exit 5\)") as failed:
        release.deploy(make_artifact("1.0.0"), spec)

    assert "cache purge refused" in failed.value.report
    last = history_of(host_root)[-1]
    assert last["status"] == "good" and current_of(host_root) == last["release"]
    assert serving(live_port)["version"] == "1.0.0"
    assert not (host_root / ".deploysafe" / "lock").exists()
