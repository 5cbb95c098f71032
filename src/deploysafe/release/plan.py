"""``--dry-run``: what a deploy would do, read from the host without changing anything."""

from __future__ import annotations

from pathlib import Path

from deploysafe.artifact import Manifest
from deploysafe.hosts.base import Host
from deploysafe.release import history, lock, prune
from deploysafe.release.engine import (
    INCOMING_PREFIX,
    check_layout,
    current_release,
    existing_releases,
    previous_good,
)
from deploysafe.release.run import Result
from deploysafe.release.spec import TargetSpec


def plan_deploy(artifact_path: Path, manifest: Manifest, spec: TargetSpec, target: Host, *, force: bool) -> Result:
    layout = spec.layout
    steps: list[tuple[str, str]] = []
    state = check_layout(target, layout)
    records = history.read(target, layout) if state == "deploysafe" else []
    live = current_release(target, layout) if state == "deploysafe" else None
    fallback = previous_good(target, layout, records, manifest.id) if state == "deploysafe" else None
    present = existing_releases(target, layout) if state == "deploysafe" else []
    steps.append(("preflight", f"target {target.url} is {state}; artifact {manifest.id}"))

    holder = lock.read_holder(target, layout) if state == "deploysafe" else None
    if holder is None:
        steps.append(("lock", f"take {layout.lock}"))
    else:
        verdict, reason = lock.holder_state(holder)
        action = "take it over" if verdict == "dead" else "REFUSE (or wait with --lock-wait)"
        steps.append(("lock", f"locked by {holder.describe()} ({reason}): would {action}"))
    failures = history.consecutive_failures(records)
    if len(failures) >= history.BREAKER_LIMIT:
        word = "ignored (--force)" if force else "OPEN: the deploy would be REFUSED"
        steps.append(("lock", f"circuit breaker {word} after {len(failures)} failed deploys"))

    size = artifact_path.stat().st_size
    if manifest.id in present:
        steps.append(("upload", f"releases/{manifest.id} is already on the host: nothing to upload"))
        steps.append(("verify", f"re-check {len(manifest.files)} files of releases/{manifest.id}"))
    else:
        steps.append(
            ("upload", f"{size} bytes ({len(manifest.files)} files) into releases/{INCOMING_PREFIX}{manifest.id}")
        )
        steps.append(("verify", f"sha256 of {len(manifest.files)} files on the host, nothing unlisted"))
        steps.append(("rename", f"releases/{INCOMING_PREFIX}{manifest.id} → releases/{manifest.id}"))
    for entry in spec.shared:
        rel = entry.rstrip("/")
        exists = target.kind(f"{layout.shared}/{rel}") is not None
        note = "" if exists else (" (created)" if entry.endswith("/") else " - MISSING: the deploy would stop here")
        steps.append(("link-shared", f"{rel} → shared/{rel}{note}"))
    if manifest.file("package.json") is None:
        steps.append(("install", "nothing (no package.json)"))
    else:
        donors = [r for r in (live, fallback) if r and r != manifest.id]
        reuse = _reusable(target, spec, manifest, donors)
        steps.append(
            ("install", f"reuse node_modules of {reuse} (lockfile unchanged)" if reuse else f"run `{spec.install}`")
        )
    start = spec.start or manifest.start
    probe = spec.probe()
    port = spec.boot_port or "a free port"
    steps.append(
        ("boot-test", f"`{start}` with PORT={port}; the health probe aimed at that port must pass")
        if start
        else ("boot-test", "skipped: no start command")
    )
    steps.append(("switch", f"current: {live or '(none)'} → releases/{manifest.id}"))
    steps.append(("restart", f"`{spec.restart_command()}`" if spec.restart_command() else "no restart command"))
    if probe:
        steps.append(
            (
                "health",
                f"{probe.describe()}: {spec.health_passes} passes, {spec.health_interval:g}s apart, "
                f"within {spec.health_deadline:g}s; on failure roll back to {fallback or '(nothing!)'}",
            )
        )
    else:
        steps.append(("health", "NO HEALTH PROBE CONFIGURED: the deploy would refuse"))
    recs = [*records, {"release": manifest.id, "status": history.GOOD}]
    doomed = prune.plan(
        sorted({*present, manifest.id}),
        history.release_statuses(recs),
        prune.chronology(recs),
        keep=spec.keep,
        protect=(manifest.id, live or "", fallback or ""),
    )
    steps.append(("prune", f"remove {', '.join(doomed)}" if doomed else f"nothing (keep {spec.keep})"))
    steps.append(("unlock", f"remove {layout.lock}"))
    return Result(
        kind="deploy",
        status="planned",
        release=manifest.id,
        target=target.url,
        previous=live,
        message="dry run: nothing was changed",
        plan=steps,
        current=live,
    )


def _reusable(target: Host, spec: TargetSpec, manifest: Manifest, donors: list[str]) -> str | None:
    import json

    want = {"lockfile_sha256": manifest.lockfile_sha256, "command": spec.install}
    if not manifest.lockfile_sha256:
        return None
    for donor in donors:
        data = target.read_file(f"{spec.layout.release(donor)}/.deploysafe/install.json")
        try:
            if data and json.loads(data) == want:
                return donor
        except ValueError:
            continue
    return None
