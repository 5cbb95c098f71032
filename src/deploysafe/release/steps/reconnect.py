"""``rollback-reconnect``: the connection to the host was lost after the switch; a new one, so that the
recovery steps can put the previous release back. Only when the lock on the host is still this run's
(nobody took it over meanwhile); otherwise, or when the host does not answer, the recovery stops there."""

from __future__ import annotations

from deploysafe.errors import TargetError
from deploysafe.release.context import Context
from deploysafe.release.lock import read_holder
from deploysafe.release.spec import open_target
from deploysafe.release.steps.base import Step


class Reconnect(Step):
    name = "rollback-reconnect"

    def run(self, ctx: Context) -> str | None:
        run = ctx.active
        target = open_target(ctx.spec)
        holder = read_holder(target, ctx.layout)
        if holder is None or holder.run != run.info.run:
            target.close()
            raise TargetError(f"{target.url}: reconnected, but the lock is no longer this run's")
        ctx.reopened.append(target)
        ctx.target = run.target = run.lock.target = target
        run.connection_lost = False
        return f"reconnected to {target.url}; the lock is still this run's"
