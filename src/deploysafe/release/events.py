"""What the engine tells its caller while it works. The CLI renders it (rich text or JSON lines)."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def step_started(self, step: str, detail: str = "") -> None: ...
    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None: ...
    def progress(self, step: str, done: int, total: int | None) -> None: ...
    def message(self, text: str, level: str = "info") -> None: ...


class NullReporter:
    """Says nothing; the default for the Python API."""

    def step_started(self, step: str, detail: str = "") -> None:
        pass

    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None:
        pass

    def progress(self, step: str, done: int, total: int | None) -> None:
        pass

    def message(self, text: str, level: str = "info") -> None:
        pass
