"""A directory on this machine behind the :class:`~deploysafe.hosts.base.Host` interface."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence

from deploysafe import artifact
from deploysafe.errors import TargetError
from deploysafe.hosts.base import Completed, ProgressFn, check_inside, kind_of


def _descendants(pid: int) -> list[int]:
    """The processes under ``pid``, read from /proc ([] where there is none): a service a command started
    with setsid has left the command's session, not its tree."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return []
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """The command's whole session (it was started in its own) and every process under it, then reap it.

    The session is stopped first, so that nothing in it starts another process while the tree is read.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGSTOP)
    for pid in _descendants(proc.pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class LocalHost:
    """A directory on this machine."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = os.path.abspath(os.fspath(root))
        self.root = path
        self.url = path

    @property
    def connected(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"LocalHost({self.root!r})"

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
                _kill(proc)
                raise TargetError(f"{shlex.join(argv)[:120]} timed out after {timeout:.0f}s") from exc
            except BaseException:
                _kill(proc)  # interrupted: the command must not run on behind the deploy's back
                raise
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

    @staticmethod
    def _write_synced(tmp: str, data: bytes) -> None:
        """``data`` in a new file at ``tmp``, on disk before it is linked or renamed into place."""
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def write_file(self, path: str, data: bytes) -> None:
        tmp = self._tmp(path)
        try:
            self._write_synced(tmp, data)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise TargetError(f"cannot write {path}: {exc.strerror}") from exc

    def create_file(self, path: str, data: bytes) -> bool:
        tmp = self._tmp(path)
        try:
            self._write_synced(tmp, data)
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

    def append_file(self, path: str, data: bytes, *, own_line: bool = False) -> None:
        """Append ``data`` whole or not at all: a short write (a full disk) is cut back off the file. With
        ``own_line``, after a newline when the file does not end with one."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TargetError(f"cannot append to {path}: {exc.strerror}") from exc
        try:
            size = os.fstat(fd).st_size
            try:
                if own_line and size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise TargetError(f"cannot append to {path}: {exc.strerror}") from exc
        finally:
            os.close(fd)

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
            return kind_of(os.lstat(path).st_mode)
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
                return {e.name: kind_of(e.stat(follow_symlinks=False).st_mode) for e in found}
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
