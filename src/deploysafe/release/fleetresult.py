"""What a fleet deploy or rollback did on each host, and the one-screen report of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from deploysafe.errors import DeployFailed
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.run import StepOutcome

# A host's status in a fleet run, beyond the single-host good / failed / rolled-back.
GOOD = "good"
ALREADY_LIVE = "already-live"  # it ran the release already (a fleet deploy run again after a stop)
ERROR = "error"  # the run could not start or lost its host: lock held, connection refused or lost
NOT_REACHED = "not-reached"  # the fleet stopped before this host's batch
REVERTED = "reverted"  # --on-failure rollback put its previous release back
REVERT_FAILED = "revert-failed"
REFUSED = "refused"  # the survey found it cannot be deployed to; no host was touched
INTERRUPTED = "interrupted"  # a signal ended its run: before its switch untouched, after it put back
FINE = (GOOD, ALREADY_LIVE)
NO_RELEASE = "no release yet"


@dataclass
class HostOutcome:
    host: str  # the [targets] name, else the URL
    target: str
    phase: str  # "canary", "batch 1", ...; "survey" when the survey refused it
    status: str
    release: str | None = None
    previous: str | None = None  # what it ran before this fleet run
    running: str | None = None  # what ``current`` points at now (None: no release yet)
    known: bool = True  # False when the host was lost after its switch: ``running`` is then a guess
    message: str = ""
    report: str = ""
    needs_human: bool = False  # switched and could not get back to a healthy release
    started: float | None = None  # seconds since the fleet run began
    finished: float | None = None
    steps: list[StepOutcome] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return round((self.finished or 0.0) - (self.started or 0.0), 3) if self.started is not None else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = self.seconds
        return data


@dataclass
class FleetResult:
    """``status``: good, stopped (a host failed; later batches not run), failed (rollback), refused, planned,
    interrupted (a signal: the hosts at work ended their own runs safely, later batches not run)."""

    kind: str  # deploy | rollback
    status: str
    release: str
    fleet: str
    hosts: list[HostOutcome]
    seconds: float = 0.0
    message: str = ""
    report: str = ""
    plans: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (GOOD, "planned")

    def host(self, name: str) -> HostOutcome:
        return next(h for h in self.hosts if h.host == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": f"fleet-{self.kind}",
            "status": self.status,
            "release": self.release,
            "fleet": self.fleet,
            "seconds": self.seconds,
            "message": self.message,
            "report": self.report,
            "hosts": [h.to_dict() for h in self.hosts],
            "plans": {h: [{"step": s, "detail": d} for s, d in p] for h, p in self.plans.items()},
        }


class FleetFailed(DeployFailed):
    """A fleet deploy or rollback stopped, failed on a host, was refused or was interrupted; ``result`` has
    every host. ``exit_code`` is 1, or the shell's code for the signal that interrupted it (130, 143, 129)."""

    def __init__(self, message: str, result: FleetResult, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.result = result
        if exit_code is not None:
            self.exit_code = exit_code


class FleetReporter(Protocol):
    def host(self, name: str) -> Reporter: ...
    def phase(self, name: str, hosts: list[str]) -> None: ...
    def host_finished(self, outcome: HostOutcome) -> None: ...
    def message(self, text: str, level: str = "info") -> None: ...


class NullFleetReporter:
    def host(self, name: str) -> Reporter:
        return NullReporter()

    def phase(self, name: str, hosts: list[str]) -> None:
        pass

    def host_finished(self, outcome: HostOutcome) -> None:
        pass

    def message(self, text: str, level: str = "info") -> None:
        pass


def tally(hosts: list[HostOutcome]) -> str:
    """ "web1, web2 run A; web3 runs B; web4: UNKNOWN" - what the fleet serves now."""
    groups: dict[str, list[str]] = {}
    for outcome in hosts:
        groups.setdefault(_now(outcome), []).append(outcome.host)
    order = Counter({k: len(v) for k, v in groups.items()})
    parts = []
    for running, _ in order.most_common():
        names, one = groups[running], len(groups[running]) == 1
        if running == NO_RELEASE:
            parts.append(f"{', '.join(names)} {'has' if one else 'have'} {running}")
        else:
            parts.append(f"{', '.join(names)} {'runs' if one else 'run'} {running}")
    return "; ".join(parts)


def _now(outcome: HostOutcome) -> str:
    if not outcome.known:
        return "UNKNOWN (check it)"
    return outcome.running or NO_RELEASE


def render(title: str, hosts: list[HostOutcome], footer: list[str]) -> str:
    """One line per host, then the footer, then the report of every host that failed."""
    width = max((len(h.host) for h in hosts), default=4)
    lines = [title]
    for h in hosts:
        took = f"{h.seconds:5.1f}s" if h.started is not None else "      "
        now = f"now {_now(h)}"
        why = f": {h.message}" if h.message and h.status not in FINE else ""
        lines.append(f"  {h.phase:<8} {h.host:<{width}}  {h.status:<13} {took}  {now}{why}")
        if h.needs_human:
            lines.append(f"  {'':<8} {'':<{width}}  ^ NEEDS A HUMAN: it is not back on a healthy release")
    lines += [f"  {line}" for line in footer]
    for h in hosts:
        if h.report and h.status not in FINE:
            lines.append(f"  -- {h.host} --")
            lines += [f"  {line}" for line in h.report.splitlines()]
    return "\n".join(lines)
