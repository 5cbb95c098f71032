"""A host as deploysafe reaches it: the small set of operations release and drift need, and one command result.

The engine is written once against :class:`Host`. Paths are POSIX strings, absolute on the host.
Commands are argv lists, never shell strings built from data; a configured command (install, start,
restart) is run as the user wrote it through :func:`run_configured`, with every path we add quoted.
"""

from __future__ import annotations

import contextlib
import posixpath
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from deploysafe.errors import TargetError

ProgressFn = Callable[[int, int], None]


Out = TypeVar("Out", str, bytes)


@dataclass(frozen=True)
class Completed(Generic[Out]):
    """The outcome of one command on the host: its output as text (``run``), or as bytes never decoded
    (``SshHost.run_bytes``); :meth:`text` decodes the latter."""

    argv: tuple[str, ...]
    returncode: int
    stdout: Out
    stderr: Out

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def text(self) -> Completed[str]:
        if isinstance(self.stdout, str) and isinstance(self.stderr, str):
            return Completed(self.argv, self.returncode, self.stdout, self.stderr)
        out, err = (b.decode("utf-8", "replace") if isinstance(b, bytes) else b for b in (self.stdout, self.stderr))
        return Completed(self.argv, self.returncode, out, err)

    def tail(self, lines: int = 20) -> str:
        done = self.text()
        text = (done.stdout + ("\n" if done.stdout and done.stderr else "") + done.stderr).rstrip()
        return "\n".join(text.splitlines()[-lines:])

    def check(self, what: str) -> Completed[Out]:
        if not self.ok:
            detail = self.tail(3).replace("\n", " | ") or f"exit {self.returncode}"
            raise TargetError(f"{what} failed (exit {self.returncode}): {detail}")
        return self


class Host(Protocol):
    """The operations a deploy needs on a host. Implementations: LocalHost, SshHost."""

    root: str
    url: str

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> Completed: ...

    def read_file(self, path: str) -> bytes | None: ...
    def write_file(self, path: str, data: bytes) -> None: ...
    def create_file(self, path: str, data: bytes) -> bool: ...
    def append_file(self, path: str, data: bytes, *, own_line: bool = False) -> None:
        """Append ``data`` whole or not at all; with ``own_line`` a newline goes first when the file does
        not end with one (only its last byte is read)."""
        ...

    def rename(self, src: str, dst: str) -> None: ...
    def replace_symlink(self, link: str, dest: str) -> None: ...
    def readlink(self, path: str) -> str | None: ...
    def kind(self, path: str) -> str | None: ...
    def listdir(self, path: str) -> list[str]: ...
    def entries(self, path: str) -> dict[str, str]: ...
    def mkdir(self, path: str) -> None: ...
    def remove(self, path: str) -> None: ...
    def upload(self, local: str, remote: str, progress: ProgressFn | None = None) -> None: ...
    def unpack(self, archive: str, dest: str) -> None: ...
    def forward(self, host: str, port: int) -> contextlib.AbstractContextManager[tuple[str, int]]: ...
    def close(self) -> None: ...

    @property
    def connected(self) -> bool:
        """False once the link to the host is known to be gone (a local directory is always reachable)."""
        ...


# A configured command runs with its output in a temp file, not our pipe, so a service it starts in the
# background (nohup, setsid) cannot hold the command open; the file is printed once the command ends.
_WRAPPER = 'out=$(mktemp) || exit 125; sh -c "$1" </dev/null >"$out" 2>&1; rc=$?; cat "$out"; rm -f "$out"; exit "$rc"'


def run_configured(
    target: Host,
    command: str,
    *,
    cwd: str,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Completed:
    """Run a command string from the configuration (the user's own shell text) in ``cwd`` on the host."""
    return target.run(["sh", "-c", _WRAPPER, "deploysafe", command], cwd=cwd, env=env, timeout=timeout)


def kind_of(mode: int) -> str:
    """An lstat mode as the entry kinds hosts report: link, dir, file or other."""
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def check_inside(root: str, path: str) -> None:
    """Refuse to remove anything that is not strictly inside the target root."""
    norm = posixpath.normpath(path)
    if not norm.startswith(root.rstrip("/") + "/"):
        raise TargetError(f"refusing to remove {path}: not inside {root}")
