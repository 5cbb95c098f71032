"""Follow one rollout of a swarm service to its end, reporting as it goes.

The engine does the rollout; this module only watches it, once a second: ``docker service inspect`` gives
the update's state (``updating``, ``completed``, ``paused``, ``rollback_started``, ``rollback_completed``,
``rollback_paused``), ``docker service ps`` each task's state. Every change is an event handed to ``say``
(``{"event": "rollout", ...}`` or ``{"event": "task", ...}``). The end is an :class:`Outcome`:

- an update (or a rollback asked for) is over when its state is final, and only a state that began after
  the command was given counts (``StartedAt`` differs from the one seen before);
- a new service has no update state: it is up when all its replicas run the image (``running`` comes only
  after the image's ``HEALTHCHECK`` passed), and failed once three of its tasks have failed;
- past ``deadline`` seconds the rollout is reported as not finished (the engine carries on with it).

A failed outcome carries the failing task and its last log lines (``docker service logs``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deploysafe.orchestrators.swarm import service as services
from deploysafe.orchestrators.swarm.service import Service, Task

POLL = 1.0
FAILED = ("failed", "rejected", "orphaned", "remove")
CREATE_FAILURES = 3

Say = Callable[[dict[str, Any]], None]


@dataclass
class Outcome:
    ok: bool
    state: str  # completed | created | rollback_completed | paused | rollback_paused | deadline
    message: str
    image: str  # the image the service runs at the end
    seconds: float
    failed_task: Task | None = None
    logs: list[str] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    @property
    def rolled_back(self) -> bool:
        return self.state == "rollback_completed"


def follow(
    name: str,
    *,
    image: str,
    before: Service | None,
    deadline: float,
    say: Say,
    rollback: bool = False,
    replicas: int = 1,
) -> Outcome:
    """Watch the rollout of ``image`` that was just asked for (``before``: the service before it, None
    when it was created; ``rollback``: the rollout is a rollback asked for)."""
    started = time.monotonic()
    seen: dict[str, tuple[str, str]] = {}
    last_state: str | None = None
    reason = ""  # why the engine began a rollback: its message is then overwritten by "rollback completed"
    while True:
        current = services.inspect(name)
        if current is None:
            raise services.SwarmError(f"the swarm service {name} went away during the rollout")
        rows = services.tasks(name)
        for task in rows:
            key = (task.status, task.error)
            if seen.get(task.id) != key:
                seen[task.id] = key
                say(
                    {
                        "event": "task",
                        "task": task.id,
                        "slot": task.slot,
                        "image": task.image,
                        "state": task.status,
                        "desired": task.desired.lower(),
                        "error": task.error,
                        "line": task.line(),
                    }
                )
        fresh = before is None or current.update_started != before.update_started
        state = current.update_state if fresh else None
        if state and state != last_state:
            last_state = state
            if state == "rollback_started" and not rollback:
                reason = current.update_message
            say(
                {
                    "event": "rollout",
                    "state": state,
                    "message": current.update_message,
                    "line": f"rollout: {state} ({current.update_message})" if current.update_message else state,
                }
            )
        elapsed = time.monotonic() - started
        end = _judge(current, state, rows, image, rollback, before is None, replicas)
        if end is not None:
            ok, final = end
            return _outcome(ok, final, current, rows, image, elapsed, reason)
        if elapsed > deadline:
            return _outcome(False, "deadline", current, rows, image, elapsed)
        time.sleep(POLL)


def _judge(
    current: Service, state: str | None, rows: list[Task], image: str, rollback: bool, created: bool, replicas: int
) -> tuple[bool, str] | None:
    if created and state is None:
        ours = [t for t in rows if t.image == image]
        if sum(1 for t in ours if t.desired == "Running" and t.status == "running") >= replicas:
            return True, "created"
        if sum(1 for t in ours if t.status in FAILED) >= CREATE_FAILURES:
            return False, "failed"
        return None
    if state == "completed":
        return (not rollback), state
    if state == "rollback_completed":
        return rollback, state
    if state in ("paused", "rollback_paused"):
        return False, state
    return None


def _outcome(
    ok: bool, state: str, current: Service, rows: list[Task], image: str, elapsed: float, reason: str = ""
) -> Outcome:
    messages = {
        "created": "the service runs the image, every replica healthy",
        "completed": "every task runs the image and stayed healthy through the monitor window",
        "failed": f"{CREATE_FAILURES} tasks of the new service failed",
        "deadline": "the rollout did not finish in time (the engine carries on with it)",
    }
    outcome = Outcome(
        ok, state, reason or current.update_message or messages.get(state, state), current.image, elapsed, tasks=rows
    )
    if not ok:
        failing = _failing(rows, image)
        if failing is not None:
            outcome.failed_task = failing
            outcome.logs = services.logs(failing.id)
    return outcome


def _failing(rows: list[Task], image: str) -> Task | None:
    """The task of ``image`` the engine gave up on: a failed one first, else one that was shut down."""
    ours = [t for t in rows if t.image == image]
    for task in ours:
        if task.status in FAILED or task.error:
            return task
    return ours[0] if ours else None
