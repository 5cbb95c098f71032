"""Deploy, rollback and adopt as lists of steps, run by the one engine (:mod:`deploysafe.release.engine`).

    DEPLOY    preflight → lock → upload → verify → rename → link-shared → install → boot-test
              → switch → restart → health → mark-good → prune → unlock
    ROLLBACK  preflight → lock → choose → verify → switch → restart → health → mark-good → unlock

Behind a proxy (``proxy = "nginx"``: blue/green, :mod:`deploysafe.release.steps.colour`) the release is
started and gated on the idle colour before the switch, and the old colour drains after the verdict:

    PROXY_DEPLOY    preflight → lock → upload → verify → rename → link-shared → install → boot-test → start
                    → health → switch → mark-good → drain → prune → unlock
    PROXY_ROLLBACK  preflight → lock → choose → verify → start → health → switch → mark-good → drain → unlock
    ADOPT     preflight → lock → move → rename → link-shared → switch → [restart → health] → record → unlock

Where a flow fails decides what follows. Up to ``lock`` a failure is raised as it is; from there to the
``switch`` the run stops with ``current`` untouched; between the switch and the verdict (``mark-good``)
a failed gate, an error or an interrupt runs the flow's ``recover`` steps (reconnect if the connection was
lost, switch back, restart, health) once. A target's hooks
(:class:`deploysafe.config.targets.Hook`, declared with the other target keys) become steps of their own before or
after the step they name, and so fall in the same phases: a ``before_switch`` migration that fails stops the deploy cleanly, an
``after_switch`` command that fails rolls it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from deploysafe.config.targets import Hook
from deploysafe.release.context import Context
from deploysafe.release.outcomes import (
    AdoptOutcomes,
    DeployOutcomes,
    Outcomes,
    ProxyDeployOutcomes,
    ProxyRollbackOutcomes,
    RollbackOutcomes,
)
from deploysafe.release.steps.adopt import AdoptLock, AdoptPreflight, AdoptRename, Move, Record, Share
from deploysafe.release.steps.base import Only, Step
from deploysafe.release.steps.boot_test import BootTest
from deploysafe.release.steps.choose import Choose
from deploysafe.release.steps.colour import ColourHealth, Drain, Route, StartColour, StopNew
from deploysafe.release.steps.health import Health
from deploysafe.release.steps.hook import HookStep
from deploysafe.release.steps.install import Install
from deploysafe.release.steps.link_shared import LinkShared
from deploysafe.release.steps.lock import Lock
from deploysafe.release.steps.mark_good import MarkGood
from deploysafe.release.steps.preflight import Preflight
from deploysafe.release.steps.prune import Prune
from deploysafe.release.steps.reconnect import Reconnect
from deploysafe.release.steps.rename import Rename
from deploysafe.release.steps.restart import Restart
from deploysafe.release.steps.switch import Switch
from deploysafe.release.steps.unlock import Unlock
from deploysafe.release.steps.upload import Upload
from deploysafe.release.steps.verify import Verify


@dataclass(frozen=True)
class Flow:
    kind: str
    steps: tuple[Step, ...]
    outcomes: Outcomes
    recover: tuple[Step, ...] = ()  # run once when the run ends between the switch and the verdict
    verdict: str = "mark-good"  # the step after which the release is judged good
    hooks: bool = True  # whether the target's before_/after_ hooks apply

    def steps_for(self, hooks: tuple[Hook, ...]) -> list[Step]:
        """The flow's steps with the target's hooks woven in around the steps they name."""
        if not self.hooks or not hooks:
            return list(self.steps)
        out: list[Step] = []
        for step in self.steps:
            out += _hook_steps(hooks, "before", step.name)
            out.append(step)
            out += _hook_steps(hooks, "after", step.name)
        return out

    def names(self, hooks: tuple[Hook, ...] = ()) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps_for(hooks))

    def phases(self, steps: list[Step]) -> tuple[int, int, int]:
        """Indexes in ``steps`` of the first step after ``lock``, of ``switch`` and of the verdict."""
        names = [s.name for s in steps]
        return names.index("lock") + 1, names.index("switch"), names.index(self.verdict)


def _hook_steps(hooks: tuple[Hook, ...], when: str, step: str) -> list[Step]:
    mine = [h for h in hooks if h.when == when and h.step == step]
    base = f"{when}-{step}"
    return [HookStep(hook, base if n == 1 else f"{base}-{n}") for n, hook in enumerate(mine, 1)]


def _restarting(ctx: Context) -> bool:
    return ctx.restart_service


def _connection_lost(ctx: Context) -> bool:
    return ctx.active.connection_lost or not ctx.target.connected


RECOVER = (Only(Reconnect(), _connection_lost), Switch(back=True), Restart(back=True), Health(back=True))

# What every deploy does before the release runs: the artifact on the host, verified, its dependencies in.
SHIP = (Preflight(), Lock(), Upload(), Verify(), Rename(), LinkShared(), Install())

DEPLOY = Flow(
    "deploy",
    (
        *SHIP,
        BootTest(),
        Switch(),
        Restart(),
        Health(),
        MarkGood(),
        Prune(),
        Unlock(),
    ),
    DeployOutcomes(),
    recover=RECOVER,
)

ROLLBACK = Flow(
    "rollback",
    (Preflight(), Lock(), Choose(), Verify(), Switch(), Restart(), Health(), MarkGood(), Unlock()),
    RollbackOutcomes(),
    recover=RECOVER,
)

ADOPT = Flow(
    "adopt",
    (
        AdoptPreflight(),
        AdoptLock(),
        Move(),
        AdoptRename(),
        Share(),
        Switch(),
        Only(Restart(), _restarting),
        Only(Health(), _restarting),
        Record(),
        Unlock(),
    ),
    AdoptOutcomes(),
    verdict="record",
    hooks=False,
)

PROXY_RECOVER = (Only(Reconnect(), _connection_lost), Route(back=True), StopNew())

PROXY_DEPLOY = Flow(
    "deploy",
    (
        *SHIP,
        BootTest(),
        StartColour(),
        ColourHealth(),
        Route(),
        MarkGood(),
        Drain(),
        Prune(),
        Unlock(),
    ),
    ProxyDeployOutcomes(),
    recover=PROXY_RECOVER,
)

PROXY_ROLLBACK = Flow(
    "rollback",
    (Preflight(), Lock(), Choose(), Verify(), StartColour(), ColourHealth(), Route(), MarkGood(), Drain(), Unlock()),
    ProxyRollbackOutcomes(),
    recover=PROXY_RECOVER,
)


def deploy_flow(proxy: str | None) -> Flow:
    return PROXY_DEPLOY if proxy else DEPLOY


def rollback_flow(proxy: str | None) -> Flow:
    return PROXY_ROLLBACK if proxy else ROLLBACK
