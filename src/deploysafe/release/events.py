"""What the engine tells its caller while it works. The CLI renders it (rich text or JSON lines)."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def step_started(self, step: str, detail: str = "") -> None: ...
    def step_finished(self, step: str, status: str, seconds: float, detail: str = "") -> None: ...
    def progress(self, step: str, done: int, total: int | None) -> None: ...
    def message(self, text: str, level: str = "info") -> None: ...
    def probe(self, step: str, ok: bool, detail: str, streak: int, needed: int) -> None:
        """One probe of a health window as it happens: passed or not, what answered, the passes in a row
        so far and how many the window needs."""
        ...


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

    def probe(self, step: str, ok: bool, detail: str, streak: int, needed: int) -> None:
        pass
