"""The deploy, read top-down as its named steps (Capistrano style):

    preflight → lock → upload → verify → rename → link-shared → install → boot-test
              → switch → restart → health → mark-good → prune → unlock

Each step is safe to interrupt. Until ``switch``, ``current`` is untouched and a failure only leaves a
release directory marked failed (or an ``.incoming-`` directory the next run removes). ``switch`` is
one rename(2) of a new symlink over ``current``. After it, a failed restart or health window switches
back to the previous good release, restarts it and checks it - once; if that fails too, it stops and
says so.
"""

from __future__ import annotations

import contextlib
import posixpath
import time
from collections.abc import Callable
from pathlib import Path

from deploysafe import artifact
from deploysafe.artifact import Manifest
from deploysafe.errors import ConfigError, DeployFailed, DeploysafeError, TargetError
from deploysafe.hosts.base import Host, run_configured
from deploysafe.release import boot, health, history, hosttree, prune, service
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.layout import INCOMING_PREFIX, LAYOUT_NAMES, Layout, is_release_id
from deploysafe.release.run import ReleaseFailed, Result, Run, StepFailed, recover_interrupted
from deploysafe.release.spec import TargetSpec, open_target

STEPS = (
    "preflight",
    "lock",
    "upload",
    "verify",
    "rename",
    "link-shared",
    "install",
    "boot-test",
    "switch",
    "restart",
    "health",
    "mark-good",
    "prune",
    "unlock",
)
ROLLBACK_STEPS = ("rollback-switch", "rollback-restart", "rollback-health")
INSTALL_RECORD = ".deploysafe/install.json"
UPLOAD_NAME = ".artifact.tar.gz"


def resolve_artifact(source: str | Path) -> Path:
    """The artifact to ship: a .tar.gz as given, or a project ROOT packed first (refused if check blocks)."""
    path = Path(source)
    if path.is_file():
        return path
    if path.is_dir():
        return _pack_root(path)
    raise ConfigError(f"{source}: no such artifact or project directory")


def _pack_root(root: Path) -> Path:
    # ---- PACK HOOK ------------------------------------------------------------------------------
    # `deploysafe deploy ROOT` packs first, and so refuses what `check` blocks. This is the one place
    # that calls the packer; wire it to the real deploysafe.pack API when it lands.
    try:
        from deploysafe import pack as packer  # type: ignore[attr-defined]
    except ModuleNotFoundError as err:
        raise ConfigError(
            f"deploying a project root ({root}) needs `deploysafe pack`, which is not available yet: "
            "build an artifact and deploy that file"
        ) from err
    build = getattr(packer, "pack", None)
    if not callable(build):
        raise ConfigError("deploysafe.pack has no pack() yet: build an artifact and deploy that file")
    built = build(root)
    return Path(getattr(built, "path", built))
    # ---- END PACK HOOK --------------------------------------------------------------------------


def check_layout(target: Host, layout: Layout) -> str:
    """'missing' | 'empty' | 'deploysafe'; refuses a plain non-empty directory (suggests adopt)."""
    kind = target.kind(layout.root)
    if kind is None:
        return "missing"
    if kind != "dir":
        raise TargetError(f"{target.url} is not a directory")
    names = target.listdir(layout.root)
    if not names:
        return "empty"
    if ".deploysafe" in names or ("releases" in names and "current" in names):
        if target.kind(posixpath.join(layout.meta, "adopt.json")) is not None:
            raise TargetError(
                f"an adopt of {target.url} was interrupted: run `deploysafe adopt --to {target.url}` again to finish it"
            )
        return "deploysafe"
    others = [n for n in names if n not in LAYOUT_NAMES]
    if not others:
        return "empty"  # e.g. only shared/.env, put there before the first deploy
    raise TargetError(
        f"{target.url} is a plain non-empty directory ({', '.join(others[:3])}"
        f"{', ...' if len(others) > 3 else ''}), not a deploysafe layout; "
        f"run `deploysafe adopt --to {target.url}` first to make it the first release"
    )


def take_lock(run: Run, *, wait: float) -> None:
    """Create the layout, take the lock (taking over a dead holder), recover what a killed run left."""
    target, layout = run.target, run.layout
    for path in (layout.meta, layout.releases, layout.shared):
        target.mkdir(path)
    run.lock.acquire(wait=wait, on_message=lambda text: run.reporter.message(text, "warning"))
    recovered = recover_interrupted(target, layout)
    run.save()
    if recovered:
        run.reporter.message(
            f"recovered the record of interrupted {recovered.get('kind', 'run')} {recovered.get('run')} "
            f"(release {recovered.get('release')}, status {recovered.get('status')})",
            "warning",
        )
    leftover = boot.stop_leftover(target, layout.boot_pid)
    if leftover:
        run.reporter.message(f"stopped boot-test process {leftover} left by an interrupted run", "warning")
    for name in target.listdir(layout.releases):
        if name.startswith(INCOMING_PREFIX):
            target.remove(posixpath.join(layout.releases, name))
            run.reporter.message(f"removed leftover releases/{name}", "warning")
    for directory in (layout.root, layout.meta):
        for name in target.listdir(directory):
            if ".tmp-" in name and name.split(".tmp-")[0] in ("current", "lock", "run.json"):
                target.remove(posixpath.join(directory, name))


def current_release(target: Host, layout: Layout) -> str | None:
    return layout.release_of_link(target.readlink(layout.current))


def existing_releases(target: Host, layout: Layout) -> list[str]:
    found = target.entries(layout.releases)  # one round trip, not one per release
    return [name for name in sorted(found) if is_release_id(name) and found[name] == "dir"]


def previous_good(
    target: Host, layout: Layout, records: list[dict], exclude: str, live: str | None = None
) -> str | None:
    """The release to fall back to: current (``live``, read when not given) if it was judged good, else the
    latest good one on disk."""
    statuses = history.release_statuses(records)
    present = set(existing_releases(target, layout))
    live = live if live is not None else current_release(target, layout)
    if live and live != exclude and statuses.get(live) == history.GOOD and live in present:
        return live
    for release in history.good_order(records):
        if release != exclude and release in present:
            return release
    return None


def format_report(title: str, sections: list[tuple[str, str]]) -> str:
    lines = [title]
    for heading, body in sections:
        if not body:
            continue
        lines.append(f"  {heading}:")
        lines += [f"    {line}" for line in body.splitlines()[-15:]]
    return "\n".join(lines)


class Deployer:
    """One deploy of one artifact to one target."""

    def __init__(
        self,
        artifact_path: Path,
        manifest: Manifest,
        spec: TargetSpec,
        target: Host,
        *,
        reporter: Reporter,
        lock_wait: float = 0.0,
        force: bool = False,
    ) -> None:
        self.artifact_path = artifact_path
        self.manifest = manifest
        self.spec = spec
        self.target = target
        self.layout = spec.layout
        self.reporter = reporter
        self.lock_wait = lock_wait
        self.force = force
        probe = spec.probe()
        if probe is None:
            raise ConfigError(
                f'target {spec.name or spec.url} has no health probe: set health = "http://127.0.0.1:PORT/path" '
                "(or tcp://host:port, or a command) in deploysafe.toml, or pass --health"
            )
        self.probe = probe.for_release(manifest.version, manifest.id)  # {version}, {release} filled in
        self.release = manifest.id
        self.release_path = self.layout.release(self.release)
        self.run = Run(
            "deploy",
            target,
            self.layout,
            manifest.id,
            reporter,
            extra={
                "artifact_sha256": artifact.sha256_file(artifact_path),
                "content_sha256": manifest.content_sha256,
                "version": manifest.version,
            },
        )
        self.uploaded = False
        self.previous: str | None = None
        self.fallback: str | None = None
        self.records: list[dict] = []
        self.report_sections: list[tuple[str, str]] = []
        self.failed_logs: list[str] = []  # the new release's pm2 logs, read after a rollback

    # -- the deploy, top-down ---------------------------------------------------------------------

    def deploy(self) -> Result:
        with self.run.step("preflight", f"{self.release} → {self.target.url}") as s:
            s.detail = self.preflight()
        with self.run.step("lock") as s:
            s.detail = self.lock()
        try:
            self.guard_breaker()
            self.warn_if_failed_before()
            for name, action in (
                ("upload", self.upload),
                ("verify", self.verify),
                ("rename", self.rename),
                ("link-shared", self.link_shared),
                ("install", self.install),
                ("boot-test", self.boot_test),
            ):
                self.do(name, action)
        except BaseException as err:
            raise self.stopped_before_switch(err) from err
        try:
            self.do("switch", self.switch)
            try:
                self.do("restart", self.restart)
                self.do("health", self.health)
            except StepFailed as failure:
                raise self.roll_back(failure) from failure
            self.do("mark-good", self.mark_good)
            self.do("prune", self.prune)
            with self.run.step("unlock"):
                self.run.finish()
        except ReleaseFailed:
            raise
        except BaseException as err:
            self.run.set_status(history.INTERRUPTED if isinstance(err, KeyboardInterrupt) else history.FAILED)
            self.run.finish()
            raise
        message = f"{self.release} is live on {self.target.url}"
        return self.run.result(history.GOOD, message, previous=self.previous, current=self.release)

    def warn(self, text: str) -> None:
        self.reporter.message(text, "warning")

    def do(self, name: str, action: Callable[[], str | None]) -> None:
        with self.run.step(name) as s:
            detail = action()
            if detail and detail.startswith("skipped: "):
                s.skip(detail.removeprefix("skipped: "))
            elif detail:
                s.detail = detail

    # -- steps ------------------------------------------------------------------------------------

    def preflight(self) -> str:
        state = check_layout(self.target, self.layout)
        return f"target {state}; artifact {self.manifest.id}, {len(self.manifest.files)} files"

    def lock(self) -> str:
        take_lock(self.run, wait=self.lock_wait)
        self.records = history.read(self.target, self.layout)
        self.previous = current_release(self.target, self.layout)
        self.fallback = previous_good(self.target, self.layout, self.records, self.release, live=self.previous)
        self.run.record["previous"] = self.previous
        return f"held by run {self.run.info.run}"

    def guard_breaker(self) -> None:
        failures = history.consecutive_failures(self.records)
        if len(failures) < history.BREAKER_LIMIT:
            return
        ids = ", ".join(str(r.get("release")) for r in failures[-history.BREAKER_LIMIT :])
        if self.force:
            self.reporter.message(f"--force: ignoring the circuit breaker ({len(failures)} failed deploys)", "warning")
            return
        self.target.remove(self.layout.run_file)
        self.run.lock.release()
        raise DeployFailed(
            f"circuit breaker open: the last {len(failures)} deploys to {self.target.url} failed ({ids}); "
            "fix the cause, then deploy with --force, or roll back with `deploysafe rollback`"
        )

    def warn_if_failed_before(self) -> None:
        """Deploying again a release this target already rolled back is allowed, but said."""
        status = history.release_statuses(self.records).get(self.release)
        if status in ("rolled-back", "failed"):
            self.warn(f"{self.release} was {status} on {self.target.url} before; deploying it again")

    def upload(self) -> str:
        kind = self.target.kind(self.release_path)
        if kind == "dir":
            return f"skipped: releases/{self.release} is already on the host"
        if kind is not None:
            raise TargetError(f"{self.release_path} exists and is not a directory")
        incoming = self.layout.incoming(self.release)
        self.target.remove(incoming)
        self.target.mkdir(incoming)
        remote = posixpath.join(incoming, UPLOAD_NAME)
        size = self.artifact_path.stat().st_size
        self.target.upload(str(self.artifact_path), remote, lambda d, t: self.reporter.progress("upload", d, t))
        self.target.unpack(remote, incoming)
        self.target.remove(remote)
        self.uploaded = True
        return f"{size} bytes into releases/{INCOMING_PREFIX}{self.release}"

    def verify(self) -> str:
        where = self.layout.incoming(self.release) if self.uploaded else self.release_path
        count = hosttree.verify(self.target, where, self.manifest, strict=self.uploaded)
        return f"{count} files match their sha256" + ("" if self.uploaded else " (existing release)")

    def rename(self) -> str:
        if not self.uploaded:
            return "skipped: release already in place"
        self.target.rename(self.layout.incoming(self.release), self.release_path)
        return f"releases/{self.release}"

    def link_shared(self) -> str:
        linked = []
        for entry in self.spec.shared:
            is_dir = entry.endswith("/")
            rel = entry.rstrip("/")
            source = posixpath.join(self.layout.shared, rel)
            kind = self.target.kind(source)
            if is_dir:
                if kind is None:
                    self.target.mkdir(source)
                elif kind != "dir":
                    raise StepFailed(f"shared/{rel} should be a directory but is a {kind}")
            elif kind is None:
                raise StepFailed(
                    f"shared/{rel} is missing on {self.target.url}: create it there (every release links it) "
                    "and deploy again"
                )
            dest = posixpath.join(self.release_path, rel)
            self.target.mkdir(posixpath.dirname(dest))
            if self.target.kind(dest) not in (None, "link"):
                self.target.remove(dest)
                self.reporter.message(f"{rel} in the release is replaced by the link to shared/{rel}", "warning")
            self.target.replace_symlink(dest, posixpath.relpath(source, posixpath.dirname(dest)))
            linked.append(entry)
        return f"linked {', '.join(linked)}" if linked else "skipped: nothing shared"

    def install(self) -> str:
        if self.manifest.file("package.json") is None:
            return "skipped: no package.json"
        lock_sha = self.manifest.lockfile_sha256
        record = {"lockfile_sha256": lock_sha, "command": self.spec.install}
        mine = self._install_record(self.release)
        if mine == record and lock_sha:
            return "skipped: dependencies already installed in this release"
        target_nm = posixpath.join(self.release_path, "node_modules")
        for donor in dict.fromkeys(r for r in (self.previous, self.fallback) if r and r != self.release):
            if lock_sha and self._install_record(donor) == record:
                donor_nm = posixpath.join(self.layout.release(donor), "node_modules")
                self.target.remove(target_nm)
                if self.target.kind(donor_nm) == "dir":
                    self.target.run(["cp", "-al", donor_nm, target_nm], timeout=600).check(
                        "linking node_modules from the previous release"
                    )
                self._write_install_record(record)
                return f"reused node_modules of {donor} (lockfile unchanged)"
        self.reporter.progress("install", 0, None)
        done = run_configured(
            self.target,
            self.spec.install,
            cwd=self.release_path,
            env=service.command_env(self.spec, self.release),
            timeout=self.spec.install_timeout,
        )
        if not done.ok:
            raise StepFailed(
                f"`{self.spec.install}` failed (exit {done.returncode})",
                format_report("install output", [("last lines", done.tail(15))]),
            )
        self._write_install_record(record)
        return f"ran `{self.spec.install}`"

    def _install_record(self, release: str) -> dict | None:
        import json

        data = self.target.read_file(posixpath.join(self.layout.release(release), INSTALL_RECORD))
        try:
            return json.loads(data) if data else None
        except ValueError:
            return None

    def _write_install_record(self, record: dict) -> None:
        import json

        path = posixpath.join(self.release_path, INSTALL_RECORD)
        self.target.mkdir(posixpath.dirname(path))
        self.target.write_file(path, json.dumps(record).encode())

    def boot_test(self) -> str:
        command = self.spec.start or self.manifest.start
        if not command:
            self.reporter.message(
                "no start command (set start in the target or pack one): boot test skipped", "warning"
            )
            return "skipped: no start command"
        port = self.spec.boot_port or boot.free_port(self.target)
        env = service.command_env(self.spec, self.release)
        env["PORT"] = str(port)
        probe = self.probe.with_port(port)
        layout = self.layout
        pid = boot.launch(
            self.target, command, cwd=self.release_path, env=env, log=layout.boot_log, pidfile=layout.boot_pid
        )
        try:

            def gone() -> str | None:
                return None if boot.alive(self.target, pid) else f"`{command}` exited during the boot test"

            with health.session(self.target, probe, cwd=self.release_path, env=env) as session:
                verdict = health.window(
                    session, passes=1, interval=0.1, poll=0.15, deadline=self.spec.boot_deadline, alive=gone
                )
        finally:
            boot.stop(self.target, pid, pidfile=layout.boot_pid)
        if not verdict.ok:
            log = self.target.read_file(layout.boot_log) or b""
            raise StepFailed(
                f"boot test failed: {verdict.reason}",
                format_report(
                    f"boot test of {self.release}: `{command}` with PORT={port}, probe {probe.describe()}",
                    [
                        ("probe", "\n".join(r.detail for r in verdict.last())),
                        ("output", "\n".join(log.decode("utf-8", "replace").splitlines()[-15:])),
                    ],
                ),
            )
        return f"`{command}` on port {port} passed {probe.describe()} in {verdict.seconds:.1f}s"

    def switch(self) -> str:
        self.target.replace_symlink(self.layout.current, self.layout.current_link_value(self.release))
        return f"current → releases/{self.release}" + (f" (was {self.previous})" if self.previous else "")

    def restart(self) -> str:
        done = service.restart(self.target, self.spec, self.release, self.warn)
        if done is None:
            return "skipped: no restart command configured"
        if not done.ok:
            raise StepFailed(
                f"restart failed (exit {done.returncode})",
                format_report("restart", [("output", done.tail(15))]),
            )
        return f"`{self.spec.restart_command()}`"

    def health(self) -> str:
        spec = self.spec
        verdict = service.judge(
            self.target,
            spec,
            self.release,
            passes=spec.health_passes,
            interval=spec.health_interval,
            deadline=spec.health_deadline,
            poll=min(spec.health_interval, 0.2),
            on_result=lambda r, streak: self.reporter.progress("health", streak, spec.health_passes),
            version=self.manifest.version,
        )
        if not verdict.ok:
            self.failed_logs = verdict.logs
            raise StepFailed(
                f"health failed after restart: {verdict.reason}",
                "\n".join(r.detail for r in verdict.last()),
            )
        return f"{spec.health_passes} passes of {self.probe.describe()} in {verdict.seconds:.1f}s"

    def mark_good(self) -> str:
        self.run.set_status(history.GOOD)
        return f"{self.release} good"

    def prune(self) -> str:
        records = [*self.records, {"release": self.release, "status": history.GOOD}]
        doomed = prune.plan(
            existing_releases(self.target, self.layout),
            history.release_statuses(records),
            prune.chronology(records),
            keep=self.spec.keep,
            protect=(self.release, self.previous or "", self.fallback or ""),
        )
        for release in doomed:
            self.target.remove(self.layout.release(release))
        return f"removed {', '.join(doomed)}" if doomed else f"nothing to remove (keep {self.spec.keep})"

    # -- failure paths ----------------------------------------------------------------------------

    def stopped_before_switch(self, err: BaseException) -> BaseException:
        """Record a deploy that stopped before the switch; current was never touched."""
        if isinstance(err, DeployFailed) and not self.run.lock.held:
            return err  # the circuit breaker refused before any step
        if not self.run.connection_lost and self.run.lock.held:
            try:
                self.target.remove(self.layout.incoming(self.release))
                failed_step = self.run.steps[-1].step if self.run.steps else ""
                if failed_step == "verify" and not self.uploaded and self.release != self.previous:
                    self.target.remove(self.release_path)  # a damaged copy: the next deploy uploads afresh
            except DeploysafeError:
                pass
        interrupted = isinstance(err, KeyboardInterrupt)
        status = history.INTERRUPTED if interrupted else history.FAILED
        message = str(err) if isinstance(err, DeploysafeError) else type(err).__name__
        self.run.set_status(status, message)
        self.run.finish()
        if interrupted or not isinstance(err, DeploysafeError) or self.run.connection_lost:
            return err  # a lost connection is the target's fault, not the release's: say so as it is
        report = format_report(
            f"deploy of {self.release} to {self.target.url} stopped before the switch: {message}",
            [("details", getattr(err, "report", ""))],
        )
        report += f"\n  current is untouched: {self.previous or '(none yet)'}"
        result = self.run.result(history.FAILED, message, report, previous=self.previous, current=self.previous)
        return ReleaseFailed(f"deploy blocked before the switch: {message}", result)

    def roll_back(self, failure: StepFailed) -> ReleaseFailed:
        """Health failed after the switch: back to the previous good release, once."""
        spec, target = self.spec, self.target
        sections = [("probe" if "health" in str(failure) else "details", failure.report)]

        def with_logs() -> list[tuple[str, str]]:
            # Gathered after the switch back: the rollback must not wait for log reading.
            with contextlib.suppress(DeploysafeError):
                return sections + [
                    (f"log {path}", text) for path, text in service.log_tails(target, spec, extra=self.failed_logs)
                ]
            return sections

        fallback = self.fallback
        title = f"deploy of {self.release} to {target.url} failed: {failure}"
        if fallback is None:
            message = f"{failure}; NO PREVIOUS GOOD RELEASE to roll back to - current stays at {self.release}"
            self.run.set_status(history.FAILED, message)
            self.run.finish()
            report = format_report(title, with_logs()) + "\n  NOTHING TO ROLL BACK TO: the service needs a human."
            result = self.run.result(history.FAILED, message, report, self.previous, current=self.release)
            return ReleaseFailed(message, result)
        verdict: health.Verdict | None = None
        live = self.release
        try:
            with self.run.step("rollback-switch", f"current → releases/{fallback}"):
                target.replace_symlink(self.layout.current, self.layout.current_link_value(fallback))
                live = fallback
            with self.run.step("rollback-restart") as s:
                done = service.restart(target, spec, fallback, self.warn, retire=self.release)
                if done is None:
                    s.skip("no restart command configured")
                elif not done.ok:
                    raise StepFailed(f"restart of {fallback} failed (exit {done.returncode}): {done.tail(2)}")
            with self.run.step("rollback-health") as s:
                verdict = service.judge_recovered(target, spec, fallback)
                if not verdict.ok:
                    raise StepFailed(f"{fallback} is unhealthy too: {verdict.reason}")
                s.detail = f"{fallback} healthy again ({verdict.results[-1].detail})"
        except DeploysafeError as err:
            message = (
                f"{failure}; ROLLBACK FAILED: {err}. Stopped without retrying: current → {fallback}, "
                "the service needs a human now"
            )
            self.run.set_status(history.FAILED, message)
            self.run.finish()
            report = format_report(title, with_logs()) + f"\n  ROLLBACK TO {fallback} FAILED: {err}"
            return ReleaseFailed(message, self.run.result(history.FAILED, message, report, self.previous, current=live))
        message = f"{failure}; rolled back to {fallback}, which is healthy"
        self.run.set_status(history.ROLLED_BACK, message)
        self.run.finish()
        report = (
            format_report(title, with_logs())
            + f"\n  rolled back: current → {fallback} (healthy); {self.release} marked bad"
        )
        result = self.run.result(history.ROLLED_BACK, message, report, self.previous, current=fallback)
        return ReleaseFailed(message, result)


def deploy(
    source: str | Path,
    spec: TargetSpec,
    *,
    reporter: Reporter | None = None,
    dry_run: bool = False,
    lock_wait: float = 0.0,
    force: bool = False,
) -> Result:
    """Ship an artifact (or a project root, packed first) to a target. Raises ReleaseFailed on failure."""
    reporter = reporter or NullReporter()
    artifact_path = resolve_artifact(source)
    manifest = artifact.verify(artifact_path)
    target = open_target(spec)
    try:
        if dry_run:
            from deploysafe.release.plan import plan_deploy

            return plan_deploy(artifact_path, manifest, spec, target, force=force)
        deployer = Deployer(artifact_path, manifest, spec, target, reporter=reporter, lock_wait=lock_wait, force=force)
        started = time.monotonic()
        result = deployer.deploy()
        result.seconds = round(time.monotonic() - started, 3)
        return result
    finally:
        target.close()
