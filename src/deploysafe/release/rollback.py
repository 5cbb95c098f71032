"""``rollback``: put an earlier release back — the ROLLBACK flow (:mod:`deploysafe.release.flows`):

    preflight → lock → choose → verify → switch → restart → health → mark-good → unlock

The chosen release is re-verified against its manifest, switched to, restarted and health-gated like a
deploy. If it fails its health window, the release that was current is put back and checked once.
"""

from __future__ import annotations

from deploysafe.release.context import Context
from deploysafe.release.engine import execute
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.flows import ROLLBACK, rollback_flow
from deploysafe.release.run import Result
from deploysafe.release.spec import TargetSpec, open_target

STEPS = ROLLBACK.names()


def rollback(
    spec: TargetSpec,
    *,
    release: str | None = None,
    reporter: Reporter | None = None,
    lock_wait: float = 0.0,
    dry_run: bool = False,
    once_hooks: bool = True,
) -> Result:
    reporter = reporter or NullReporter()
    target = open_target(spec)
    try:
        ctx = Context(
            "rollback",
            spec,
            target,
            release or "?",
            reporter,
            lock_wait=lock_wait,
            wanted=release,
            once_hooks=once_hooks,
        )
        return execute(rollback_flow(spec.proxy), ctx, dry_run=dry_run)
    finally:
        target.close()
