"""Progress on stderr for long work: shown only on a terminal, and only once the work has taken longer
than a moment, so quick runs and piped output stay clean. DEPLOYSAFE_PROGRESS_DELAY (seconds) changes
that moment, e.g. 0 to always show the bar."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from deploysafe.report.console import escape, rich_console, terminal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


class StageProgress:
    """A bar per stage ("checking", "hashing", ...). Call it as ``progress(stage, done, total)``, or hand
    ``progress.stage(name)`` to an API that reports ``(done, total)``. Use as a context manager."""

    def __init__(self, *, delay: float = 1.0, enabled: bool = True, labels: dict[str, str] | None = None) -> None:
        self.enabled = enabled and terminal(sys.stderr)  # rich loads when a bar is first shown
        self.console: Console | None = None
        self.delay = _delay_from_environment(delay)
        self.labels = labels or {}
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled or time.monotonic() - self.started < self.delay:
            return
        if self.bar is None:
            # Loaded when a bar is first shown: a quick or piped run does not pay for it.
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.console = rich_console(stderr=True)
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(escape(self.labels.get(stage, stage)), total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)

    def stage(self, name: str) -> Callable[[int, int], None]:
        return lambda done, total: self(name, done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _delay_from_environment(default: float) -> float:
    try:
        return float(os.environ["DEPLOYSAFE_PROGRESS_DELAY"])
    except (KeyError, ValueError):
        return default
