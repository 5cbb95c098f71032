"""Where a release goes: the small set of host operations the engine needs, and the local implementation.

The engine is written once against :class:`Target`. Paths are POSIX strings, absolute on the host.
Commands are argv lists, never shell strings built from data; a configured command (install, start,
restart) is run as the user wrote it through :func:`run_configured`, with every path we add quoted.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from deploysafe import artifact
from deploysafe.errors import TargetError

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Completed:
    """The outcome of one command on the target."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 20) -> str:
        text = (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).rstrip()
        return "\n".join(text.splitlines()[-lines:])

    def check(self, what: str) -> Completed:
        if not self.ok:
            detail = self.tail(3).replace("\n", " | ") or f"exit {self.returncode}"
            raise TargetError(f"{what} failed (exit {self.returncode}): {detail}")
        return self


class Target(Protocol):
    """The operations a deploy needs on a host. Implementations: LocalTarget, SshTarget."""

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
    def append_file(self, path: str, data: bytes) -> None: ...
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


# A configured command runs with its output in a temp file, not our pipe, so a service it starts in the
# background (nohup, setsid) cannot hold the command open; the file is printed once the command ends.
_WRAPPER = 'out=$(mktemp) || exit 125; sh -c "$1" </dev/null >"$out" 2>&1; rc=$?; cat "$out"; rm -f "$out"; exit "$rc"'


def run_configured(
    target: Target,
    command: str,
    *,
    cwd: str,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Completed:
    """Run a command string from the configuration (the user's own shell text) in ``cwd`` on the host."""
    return target.run(["sh", "-c", _WRAPPER, "deploysafe", command], cwd=cwd, env=env, timeout=timeout)


def _kind_of(mode: int) -> str:
    import stat

    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


class LocalTarget:
    """A directory on this machine."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = os.path.abspath(os.fspath(root))
        self.root = path
        self.url = path

    def __repr__(self) -> str:
        return f"LocalTarget({self.root!r})"

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> Completed:
        full_env = dict(os.environ)
        full_env.update(env or {})
        if cwd:
            full_env["PWD"] = cwd
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    list(argv),
                    cwd=cwd,
                    env=full_env,
                    stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
            except OSError as exc:
                raise TargetError(f"cannot run {argv[0]!r} in {cwd or self.root}: {exc.strerror}") from exc
            try:
                proc.communicate(input=input, timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise TargetError(f"{shlex.join(argv)[:120]} timed out after {timeout:.0f}s") from exc
            out.seek(0)
            err.seek(0)
            return Completed(
                tuple(argv),
                proc.returncode,
                out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"),
            )

    def read_file(self, path: str) -> bytes | None:
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TargetError(f"cannot read {path}: {exc.strerror}") from exc

    def _tmp(self, path: str) -> str:
        return f"{path}.tmp-{os.getpid()}-{os.urandom(3).hex()}"

    def write_file(self, path: str, data: bytes) -> None:
        tmp = self._tmp(path)
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise TargetError(f"cannot write {path}: {exc.strerror}") from exc

    def create_file(self, path: str, data: bytes) -> bool:
        tmp = self._tmp(path)
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
            return True
        except OSError as exc:
            raise TargetError(f"cannot create {path}: {exc.strerror}") from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def append_file(self, path: str, data: bytes) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise TargetError(f"cannot append to {path}: {exc.strerror}") from exc

    def rename(self, src: str, dst: str) -> None:
        try:
            os.rename(src, dst)
        except OSError as exc:
            raise TargetError(f"cannot rename {src} to {dst}: {exc.strerror}") from exc

    def replace_symlink(self, link: str, dest: str) -> None:
        tmp = self._tmp(link)
        try:
            os.symlink(dest, tmp)
            os.replace(tmp, link)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise TargetError(f"cannot point {link} at {dest}: {exc.strerror}") from exc

    def readlink(self, path: str) -> str | None:
        try:
            return os.readlink(path)
        except (FileNotFoundError, OSError):
            return None

    def kind(self, path: str) -> str | None:
        try:
            return _kind_of(os.lstat(path).st_mode)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TargetError(f"cannot stat {path}: {exc.strerror}") from exc

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise TargetError(f"cannot list {path}: {exc.strerror}") from exc

    def entries(self, path: str) -> dict[str, str]:
        """The names in a directory with their kinds ({} when it is missing)."""
        try:
            with os.scandir(path) as found:
                return {e.name: _kind_of(e.stat(follow_symlinks=False).st_mode) for e in found}
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TargetError(f"cannot list {path}: {exc.strerror}") from exc

    def mkdir(self, path: str) -> None:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise TargetError(f"cannot create {path}: {exc.strerror}") from exc

    def remove(self, path: str) -> None:
        check_inside(self.root, path)
        kind = self.kind(path)
        try:
            if kind == "dir":
                shutil.rmtree(path)
            elif kind is not None:
                os.unlink(path)
        except OSError as exc:
            raise TargetError(f"cannot remove {path}: {exc.strerror}") from exc

    def upload(self, local: str, remote: str, progress: ProgressFn | None = None) -> None:
        total = os.path.getsize(local)
        done = 0
        try:
            with open(local, "rb") as src, open(remote, "xb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except OSError as exc:
            raise TargetError(f"cannot copy {local} to {remote}: {exc.strerror}") from exc

    def unpack(self, archive: str, dest: str) -> None:
        artifact.extract(archive, dest)

    @contextlib.contextmanager
    def forward(self, host: str, port: int) -> Iterator[tuple[str, int]]:
        yield host, port

    def close(self) -> None:
        pass


def check_inside(root: str, path: str) -> None:
    """Refuse to remove anything that is not strictly inside the target root."""
    norm = posixpath.normpath(path)
    if not norm.startswith(root.rstrip("/") + "/"):
        raise TargetError(f"refusing to remove {path}: not inside {root}")
