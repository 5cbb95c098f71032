"""How a run that failed after the switch ends: the engine's decision, apart from the I/O that carries it out.

Once ``current`` may point at the new release, a failure (a gate, an error, an interrupt) ends the run in
one of four ways (:func:`after_switch`):

- ``BROKE``: the release was already judged good (``mark-good`` ran: a later failure never condemns it),
  or the flow has no recovery steps (adopt: nothing to go back to). The record stays as it is.
- ``STOPPED``: the failure came in the switch step itself and ``current`` was never changed (the rename
  did not happen): as before the switch, the incoming release is dropped and nothing is restarted.
- ``NO_FALLBACK``: the switch happened but there is no good release to go back to.
- ``RECOVER``: the switch happened and there is a fallback: the recovery steps put it back, once.

Pure: whether the switch happened is asked (``switched``) only when the answer matters, because asking
reads the host.
"""

from __future__ import annotations

from collections.abc import Callable

from deploysafe.release import history

BROKE = "broke"
STOPPED = "stopped"
NO_FALLBACK = "no-fallback"
RECOVER = "recover"


def after_switch(
    *,
    status: object,
    can_recover: bool,
    in_switch: bool,
    switched: Callable[[], bool],
    fallback: str | None,
) -> str:
    """``BROKE`` | ``STOPPED`` | ``NO_FALLBACK`` | ``RECOVER`` for a run that failed at or after its switch.

    ``status``: the run's record status so far; ``can_recover``: the flow has recovery steps;
    ``in_switch``: the failing step is the switch itself; ``switched()``: ``current`` names the new release;
    ``fallback``: the release to go back to, if any.
    """
    if status == history.GOOD or not can_recover:
        return BROKE
    if in_switch and not switched():
        return STOPPED
    if fallback is None:
        return NO_FALLBACK
    return RECOVER
