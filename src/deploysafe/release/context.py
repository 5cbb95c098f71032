"""What the steps of one run share: the target, the artifact, what was read from the host, what was done.

One :class:`Context` is made per deploy, rollback or adopt (and per dry run). Steps read it and fill it in
as they go (``lock`` reads the history, ``upload`` notes that it uploaded, ``health`` keeps the failing
release's logs); the engine and the outcome of the flow read it last. ``run`` is None in a dry run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploysafe.artifact import Manifest
from deploysafe.hosts import Host
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.health import Probe
from deploysafe.release.interrupts import Trap
from deploysafe.release.layout import Layout
from deploysafe.release.pm2 import Pm2Process
from deploysafe.release.run import Run
from deploysafe.release.spec import TargetSpec


@dataclass
class Context:
    kind: str  # deploy | rollback | adopt
    spec: TargetSpec
    target: Host
    release: str  # the release this run puts live ("?" until a rollback has chosen it)
    reporter: Reporter = field(default_factory=NullReporter)
    run: Run | None = None  # None: a dry run, which only asks each step for its plan
    manifest: Manifest | None = None  # deploy: the artifact's; rollback: read from the host by verify
    artifact_path: Path | None = None
    lock_wait: float = 0.0
    force: bool = False
    wanted: str | None = None  # rollback --release
    once_hooks: bool = True  # run hooks marked once_per_fleet (a fleet: on its first host only)
    journal: dict[str, Any] = field(default_factory=dict)  # adopt: its plan (release, entries), as adopt.json keeps it
    restart_service: bool = False  # adopt --restart-service: restart and health-check the adopted release
    # read from the host, or learnt while running
    state: str = ""  # check_layout's answer: missing, empty, deploysafe
    records: list[dict] = field(default_factory=list)
    previous: str | None = None  # current when the run started
    fallback: str | None = None  # where a failed health gate goes back to
    uploaded: bool = False
    failed_logs: list[str] = field(default_factory=list)
    log_marks: dict[str, int] = field(
        default_factory=dict
    )  # log sizes before the restart: a report quotes what follows
    boot_seconds: float | None = None  # how long the release took to answer in its boot test
    live: str | None = None  # what current points at now, as far as this run knows
    colour: str | None = None  # proxy mode: the colour this run started its release on
    live_colour: str | None = None  # proxy mode: the colour taking traffic when the run started
    routed_before: int | None = None  # proxy mode: the port the proxy routed to when the run started
    in_place_apps: list[str] = field(default_factory=list)  # proxy mode: pm2 apps run in place, retired after
    pm2_seen: list[Pm2Process] | None = None  # every process of the host's pm2, as preflight read it
    pm2_apps: frozenset[str] | None = None  # deploy: the apps of the release's pm2 file, as preflight read it
    host_node: str = ""  # the host's node version, as a pm2 snapshot of this run saw it ("" when none did)
    reopened: list[Host] = field(default_factory=list)  # connections opened again after one was lost
    trap: Trap = field(default_factory=Trap)  # the run's signals (the engine sets the one it installed)

    @property
    def layout(self) -> Layout:
        return self.spec.layout

    @property
    def release_path(self) -> str:
        return self.layout.release(self.release)

    @property
    def dry_run(self) -> bool:
        return self.run is None

    def probe(self) -> Probe | None:
        probe = self.spec.probe()
        if probe is None or self.manifest is None:
            return probe
        return probe.for_release(self.manifest.version, self.manifest.id)  # {version}, {release} filled in

    def warn(self, text: str) -> None:
        self.reporter.message(text, "warning")

    @property
    def active(self) -> Run:
        """The run in progress (a step's ``run`` is never called in a dry run)."""
        assert self.run is not None, "a dry run only plans"
        return self.run
