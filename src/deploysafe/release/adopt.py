"""``adopt``: turn a hand-managed tree (the seeds' ``/home/ubuntu/app``) into the first release, in place —
the ADOPT flow (:mod:`deploysafe.release.flows`, steps in :mod:`deploysafe.release.steps.adopt`):

    preflight → lock → move → rename → link-shared → switch → [restart → health] → record → unlock

Every top-level entry moves into ``releases/.adopting-<id>`` (a rename each: nothing is copied or lost),
which is then renamed to ``releases/<id>-adopted``; ``current`` points at it. Entries the target shares
(``.env``, ``uploads/``...) move to ``shared/`` and are linked back, so every file stays reachable at its
old path under ``current``. ``.deploysafe/adopt.json`` records the plan: a killed adopt resumes when
run again, and ``deploy`` refuses to start while it is there. With ``--restart-service`` the release is
recorded good only once restarted and healthy: a restart or health gate that fails or is interrupted
leaves the journal, ``current`` on the adopted files and the run recorded failed or interrupted; the
adopt run again restarts and judges it.
"""

from __future__ import annotations

from deploysafe.release.context import Context
from deploysafe.release.engine import execute
from deploysafe.release.events import NullReporter, Reporter
from deploysafe.release.flows import ADOPT
from deploysafe.release.run import Result
from deploysafe.release.spec import TargetSpec, open_target
from deploysafe.release.steps.adopt import journal

STEPS = ADOPT.names()


def adopt(
    spec: TargetSpec,
    *,
    reporter: Reporter | None = None,
    dry_run: bool = False,
    restart: bool = False,
    lock_wait: float = 0.0,
) -> Result:
    reporter = reporter or NullReporter()
    target = open_target(spec)
    try:
        plan = journal(target, spec.layout)
        ctx = Context(
            "adopt", spec, target, plan["release"], reporter, lock_wait=lock_wait, journal=plan, restart_service=restart
        )
        return execute(ADOPT, ctx, dry_run=dry_run)
    finally:
        target.close()
