"""A target on another host over SSH (asyncssh), behind the same synchronous interface as LocalHost.

- Host keys are checked against known_hosts; an unknown host is refused unless the caller asked to trust
  a new key on first use, which then records it. A *changed* key is always refused.
- Every argument goes through ``shlex.join``; a configured command is passed as one quoted argument.
- At most :data:`MAX_CHANNELS` channels are open at once on the connection (OpenSSH allows 10 sessions).
  sshd frees a session only once it has reaped the session's child, which lags under load behind the
  channel close the client sees, so an open can still be refused: it is retried with a short backoff
  (:data:`OPEN_ATTEMPTS` times; the command never ran, so a retry is safe). An open that fails because
  the connection closed is not retried: it is a lost connection.
- Commands come back as text (:meth:`SshHost.run`) or as raw bytes (:meth:`SshHost.run_bytes`, and
  :meth:`SshHost.stream` for a conversation: read stdout while stdin is fed), all through the same
  checks, quoting and channel cap.
- Uploads use SFTP. A connection lost at any point becomes a one-line :class:`TargetError`.
- A command cut short (its timeout, or the caller interrupted) is killed on the host, not only on our
  side: closing its channel does not end it. Each command first says its pid, which leads the process
  group sshd made for the session; the group is killed, and the next command on the connection starts
  only once it is gone (a rollback's restart never races the restart it replaces).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import stat
import threading
import warnings
from collections.abc import Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

with warnings.catch_warnings():
    # asyncssh still defines DSA keys, and cryptography >= 51 warns about DSA when they are defined: on every
    # command's stderr, breaking its one-line errors. deploysafe never offers DSA (host keys are verified).
    warnings.filterwarnings("ignore", message=r"DSA is deprecated")
    import asyncssh

from deploysafe.errors import ConfigError, TargetError
from deploysafe.hosts.base import Completed, ProgressFn, check_inside, kind_of

MAX_CHANNELS = 8
# Commands and streams share this many; one more is the SFTP session and one is kept spare for the
# sessions sshd has not freed yet (measured under a CPU hog: 4x fewer refused opens than with one less).
COMMAND_CHANNELS = MAX_CHANNELS - 2
OPEN_ATTEMPTS = 8  # a refused session open: tried again after 0.05, 0.1, 0.2, 0.4, 0.8, 0.8, 0.8 s
_READ = 1 << 16
_SEND = 1 << 14
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
T = TypeVar("T")


@dataclass(frozen=True)
class SshAddress:
    host: str
    path: str
    user: str | None = None
    port: int = 22

    @property
    def url(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port != 22 else ""
        return f"ssh://{user}{self.host}{port}{self.path}"


def parse_ssh_url(url: str, path: str | None = None) -> SshAddress:
    """``ssh://user@host[:port]/abs/path``; ``path`` (from the config) fills in a URL without one."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as err:
        raise ConfigError(f"not a valid ssh:// target: {url!r} ({err})") from err
    if parts.scheme != "ssh" or not hostname:
        raise ConfigError(f"not an ssh:// target: {url!r} (expected ssh://user@host[:port]/abs/path)")
    try:
        port = parts.port or 22
    except ValueError as err:
        raise ConfigError(f"bad port in {url!r}") from err
    remote = unquote(parts.path) if parts.path not in ("", "/") else (path or "")
    if not remote.startswith("/"):
        raise ConfigError(f"{url!r}: the remote path must be absolute")
    remote = remote.rstrip("/") or "/"
    if remote == "/":
        raise ConfigError(f"{url!r}: refusing to deploy into /")
    return SshAddress(host=hostname, path=remote, user=unquote(parts.username or "") or None, port=port)


def _env_prefix(env: Mapping[str, str] | None) -> list[str]:
    if not env:
        return []
    for key in env:
        if not _ENV_NAME.match(key):
            raise ConfigError(f"invalid environment variable name {key!r}")
    return ["env", *(f"{k}={v}" for k, v in env.items())]


def remote_command(argv: Sequence[str], cwd: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The one shell line sent to sshd for an argv: every piece quoted."""
    command = shlex.join([*_env_prefix(env), *argv])
    if cwd:
        return f"cd {shlex.quote(cwd)} && exec {command}"
    return f"exec {command}"


def known_hosts_entry(host: str, port: int, key: asyncssh.SSHKey) -> str:
    name = host if port == 22 else f"[{host}]:{port}"
    return f"{name} {key.export_public_key('openssh').decode().strip()}\n"


class SshHost:
    """A directory on a host reached over SSH."""

    def __init__(
        self,
        address: SshAddress,
        *,
        known_hosts: str | None = None,
        identity: str | None = None,
        trust_new_host_key: bool = False,
        connect_timeout: float = 15.0,
    ) -> None:
        self.address = address
        self.root = address.path
        self.url = address.url
        self._known_hosts = os.path.expanduser(known_hosts or "~/.ssh/known_hosts")
        self._identity = os.path.expanduser(identity) if identity else None
        self._trust_new = trust_new_host_key
        self._connect_timeout = connect_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="deploysafe-ssh", daemon=True)
        self._thread.start()
        self._sem: asyncio.Semaphore | None = None
        self._reaping: set[asyncio.Future[None]] = set()  # kills of commands cut short, still under way
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._closed = False
        self._lost = ""
        self.refused_opens = 0  # session opens the host refused and that were tried again
        try:
            self._call(self._connect(), "connect")
        except BaseException:
            self._stop_loop()
            raise

    def __repr__(self) -> str:
        return f"SshHost({self.url!r})"

    @property
    def connected(self) -> bool:
        """False once the connection was lost (noticed by a call, or closed under us since)."""
        return not (self._lost or self._closed or self._conn is None or self._conn.is_closed())

    # -- plumbing ---------------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], what: str, timeout: float | None = None) -> T:
        if self._closed or self._lost:
            coro.close()
            raise TargetError(f"{self.url}: {self._lost or 'connection already closed'}")
        ended = threading.Event()

        async def tracked() -> T:
            try:
                return await coro
            finally:
                ended.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self._loop)
        try:
            return future.result(timeout)
        except TargetError:
            raise
        except TimeoutError as err:
            future.cancel()
            raise TargetError(f"{self.url}: {what} timed out") from err
        except asyncssh.HostKeyNotVerifiable as err:
            raise TargetError(self._host_key_message(str(err))) from err
        except asyncssh.PermissionDenied as err:
            raise TargetError(f"{self.url}: authentication failed for user {self._user()!r}") from err
        except (asyncssh.ConnectionLost, asyncssh.DisconnectError, asyncssh.SFTPConnectionLost, ConnectionError) as err:
            self._abandon()
            self._lost = f"connection lost during {what}: {err or type(err).__name__}"
            raise TargetError(f"{self.url}: {self._lost}") from err
        except asyncssh.SFTPError as err:
            self._raise_if_closed(what, err)
            raise TargetError(f"{self.url}: {what} failed: {err.reason or err}") from err
        except asyncssh.Error as err:
            self._raise_if_closed(what, err)
            raise TargetError(f"{self.url}: {what} failed: {err}") from err
        except OSError as err:
            self._raise_if_closed(what, err)
            raise TargetError(f"{self.url}: {what} failed: {err.strerror or err}") from err
        except KeyboardInterrupt:
            future.cancel()  # interrupted (a signal): stop waiting for the host, and stop the work too
            ended.wait(5)  # its command is then being killed on the host, before any next one starts
            raise

    def _raise_if_closed(self, what: str, err: BaseException) -> None:
        """An error that came from a connection closed under us (dropped between two calls) is a lost one."""
        if self._conn is not None and self._conn.is_closed():
            self._lost = f"connection lost during {what}: {err or type(err).__name__}"
            raise TargetError(f"{self.url}: {self._lost}") from err

    def _user(self) -> str:
        if self.address.user:
            return self.address.user
        import getpass

        return getpass.getuser()

    def _host_key_message(self, detail: str) -> str:
        if self._host_is_known():
            return (
                f"{self.url}: HOST KEY MISMATCH for {self.address.host} ({detail}); the key in "
                f"{self._known_hosts} differs from the one the host presented - refusing to connect"
            )
        return (
            f"{self.url}: host key of {self.address.host} is not in {self._known_hosts}; verify it and add it, "
            "or pass --trust-new-host-key to trust it on first use"
        )

    def _read_known_hosts(self) -> asyncssh.SSHKnownHosts:
        try:
            with open(self._known_hosts) as handle:
                return asyncssh.import_known_hosts(handle.read())
        except FileNotFoundError:
            return asyncssh.import_known_hosts("")

    def _host_is_known(self) -> bool:
        known = self._read_known_hosts()
        host, port = self.address.host, self.address.port
        try:
            matched = known.match(host, "", port)
        except Exception:
            return False
        return any(bool(group) for group in matched[:3])

    async def _connect(self) -> None:
        self._sem = asyncio.Semaphore(COMMAND_CHANNELS)
        options: dict[str, Any] = {
            "port": self.address.port,
            "username": self._user(),
            "connect_timeout": self._connect_timeout,
            "keepalive_interval": 5,
            "keepalive_count_max": 3,
        }
        if self._identity:
            options["client_keys"] = [self._identity]
        trust_now = self._trust_new and not self._host_is_known()
        options["known_hosts"] = None if trust_now else self._read_known_hosts()
        self._conn = await asyncssh.connect(self.address.host, **options)
        if trust_now:
            key = self._conn.get_server_host_key()
            if key is not None:
                os.makedirs(os.path.dirname(self._known_hosts) or ".", exist_ok=True)
                with open(self._known_hosts, "a") as handle:
                    handle.write(known_hosts_entry(self.address.host, self.address.port, key))

    async def _get_sftp(self) -> asyncssh.SFTPClient:
        if self._sftp is None:
            assert self._conn is not None
            self._sftp = await self._conn.start_sftp_client()
        return self._sftp

    def _abandon(self) -> None:
        """The link is gone: drop the connection at once so nothing keeps writing into a dead socket."""
        if self._conn is not None:
            conn = self._conn
            self._loop.call_soon_threadsafe(conn.abort)

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self._loop.close()

    def close(self) -> None:
        if self._closed:
            return

        async def shutdown() -> None:
            if self._sftp is not None:
                self._sftp.exit()
            if self._conn is not None:
                self._conn.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._conn.wait_closed(), 3)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._closed = True
        self._stop_loop()

    # -- commands ---------------------------------------------------------------------------------

    async def _open_process(self, command: str) -> asyncssh.SSHClientProcess[bytes]:
        """A session running ``command``; a refused open is retried (see the module docstring)."""
        assert self._conn is not None
        delay = 0.05
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            try:
                return await self._conn.create_process(command, encoding=None)
            except asyncssh.ChannelOpenError as err:
                if self._conn.is_closed():
                    raise  # not refused: the connection is gone, which the caller reports as lost
                if attempt == OPEN_ATTEMPTS:
                    raise TargetError(
                        f"{self.url}: the host refused a new SSH session {attempt} times ({err.reason}); "
                        f"deploysafe opens at most {MAX_CHANNELS} at once: is MaxSessions in its sshd_config lower?"
                    ) from err
                self.refused_opens += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.8)
        raise AssertionError("unreachable")

    async def _communicate(
        self, command: str, stdin: bytes | Iterable[bytes] | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        assert self._sem is not None
        if self._reaping:  # a command cut short is still being killed: nothing runs beside it
            await asyncio.gather(*self._reaping, return_exceptions=True)
        async with self._sem:  # the timeout starts once a channel is ours
            return await asyncio.wait_for(self._exchange(command, stdin), timeout)

    async def _exchange(self, command: str, stdin: bytes | Iterable[bytes] | None) -> tuple[int, bytes, bytes]:
        process = await self._open_process(f"printf '{_PID_MARK}%s\\n' \"$$\" >&2; {command}")
        feeder = _quiet(asyncio.ensure_future(_feed(process.stdin, stdin)))
        pid: int | None = None
        try:
            said, pid = await _read_pid(process.stderr)
            out, err = await asyncio.gather(process.stdout.read(), process.stderr.read())
            await process.wait_closed()
        except asyncio.CancelledError:
            if pid is not None and process.exit_status is None:
                self._reap(pid)
            raise
        finally:
            await _settle(feeder)
            process.close()
        code = process.exit_status if process.exit_status is not None else 255
        return code, bytes(out), said + bytes(err)

    def _reap(self, pid: int) -> None:
        """Kill the process group ``pid`` leads on the host and wait until it is gone (up to 10 s)."""

        async def reap() -> None:
            assert self._sem is not None
            with contextlib.suppress(Exception):
                async with self._sem:
                    process = await self._open_process(shlex.join(["sh", "-c", _REAP, "sh", str(pid)]))
                    try:
                        await asyncio.wait_for(process.wait_closed(), 15)
                    finally:
                        process.close()

        task = asyncio.ensure_future(reap())
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)

    def run_bytes(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | Iterable[bytes] | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Completed[bytes]:
        """Run ``argv`` with its output as bytes, never decoded. ``stdin``: bytes, or an iterable of byte
        chunks fed while the output is read (consumed on the connection's thread: keep it cheap)."""
        command = remote_command(argv, cwd, env)
        try:
            code, out, err = self._call(self._communicate(command, stdin, timeout), f"running {argv[0]}")
        except TargetError as error:
            if "timed out" in str(error) and timeout:
                raise TargetError(f"{shlex.join(argv)[:120]} timed out after {timeout:.0f}s on {self.url}") from error
            raise
        return Completed(tuple(argv), code, out, err)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> Completed:
        return self.run_bytes(argv, stdin=input, cwd=cwd, env=env, timeout=timeout).text()

    @contextlib.contextmanager
    def stream(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        what: str | None = None,
    ) -> Iterator[ByteStream]:
        """``argv`` on the host as a conversation in bytes: read its stdout chunk by chunk, feed its stdin
        (:meth:`ByteStream.send`) once you know what to send, then :meth:`ByteStream.wait` for its exit.

        The stream holds one of the connection's channels until the block ends. A lost connection raises
        :class:`TargetError` from whichever call meets it; ``what`` names the work in such a message.
        """
        command = remote_command(argv, cwd, env)
        what = what or f"running {argv[0]}"

        async def open_() -> asyncssh.SSHClientProcess[bytes]:
            assert self._sem is not None
            await self._sem.acquire()
            try:
                return await self._open_process(command)
            except BaseException:
                self._sem.release()
                raise

        handle = ByteStream(self, self._call(open_(), what), what)
        try:
            yield handle
        finally:
            handle._close()

    # -- files ------------------------------------------------------------------------------------

    def read_file(self, path: str) -> bytes | None:
        async def go() -> bytes | None:
            sftp = await self._get_sftp()
            try:
                async with sftp.open(path, "rb") as handle:
                    data = await handle.read()
                    return data if isinstance(data, bytes) else data.encode()
            except asyncssh.SFTPNoSuchFile:
                return None

        return self._call(go(), f"reading {path}")

    def _tmp(self, path: str) -> str:
        return f"{path}.tmp-{os.getpid()}-{os.urandom(3).hex()}"

    def write_file(self, path: str, data: bytes) -> None:
        tmp = self._tmp(path)

        async def go() -> None:
            sftp = await self._get_sftp()
            async with sftp.open(tmp, "wb") as handle:
                await handle.write(data)
                with contextlib.suppress(asyncssh.SFTPError):
                    await handle.fsync()
            await sftp.posix_rename(tmp, path)

        self._call(go(), f"writing {path}")

    def create_file(self, path: str, data: bytes) -> bool:
        tmp = self._tmp(path)

        async def go() -> bool:
            sftp = await self._get_sftp()
            async with sftp.open(tmp, "wb") as handle:
                await handle.write(data)
            try:
                await sftp.link(tmp, path)
                return True
            except asyncssh.SFTPError:
                if await sftp.exists(path):
                    return False
                raise
            finally:
                with contextlib.suppress(asyncssh.SFTPError):
                    await sftp.remove(tmp)

        return self._call(go(), f"creating {path}")

    def append_file(self, path: str, data: bytes, *, own_line: bool = False) -> None:
        """Append ``data`` whole or not at all: a failed write (a full disk) is cut back off the file. With
        ``own_line``, after a newline when the file does not end with one (its last byte is read, not the file)."""

        async def go() -> None:
            sftp = await self._get_sftp()
            async with sftp.open(path, "a+b") as handle:
                size = (await handle.stat()).size or 0
                line = data
                if own_line and size and cast(bytes, await handle.read(1, size - 1)) != b"\n":
                    line = b"\n" + data
                try:
                    await handle.write(line)
                except (asyncssh.SFTPError, OSError):
                    with contextlib.suppress(asyncssh.SFTPError, OSError):
                        await handle.truncate(size)
                    raise
                with contextlib.suppress(asyncssh.SFTPError):
                    await handle.fsync()

        self._call(go(), f"appending to {path}")

    def rename(self, src: str, dst: str) -> None:
        async def go() -> None:
            sftp = await self._get_sftp()
            await sftp.posix_rename(src, dst)

        self._call(go(), f"renaming {src}")

    def replace_symlink(self, link: str, dest: str) -> None:
        tmp = self._tmp(link)
        script = 'ln -s -- "$1" "$2" && mv -T -- "$2" "$3" || { rm -f -- "$2"; exit 1; }'
        self.run(["sh", "-c", script, "sh", dest, tmp, link]).check(f"pointing {link} at {dest}")

    def readlink(self, path: str) -> str | None:
        async def go() -> str | None:
            sftp = await self._get_sftp()
            try:
                return str(await sftp.readlink(path))
            except asyncssh.SFTPError:
                return None

        return self._call(go(), f"reading link {path}")

    def kind(self, path: str) -> str | None:
        async def go() -> str | None:
            sftp = await self._get_sftp()
            try:
                attrs = await sftp.lstat(path)
            except asyncssh.SFTPNoSuchFile:
                return None
            return kind_of(attrs.permissions or 0)

        return self._call(go(), f"checking {path}")

    def listdir(self, path: str) -> list[str]:
        return sorted(self.entries(path))

    def entries(self, path: str) -> dict[str, str]:
        """The names in a directory with their kinds, in one round trip ({} when it is missing)."""

        async def go() -> dict[str, str]:
            sftp = await self._get_sftp()
            try:
                names = await sftp.readdir(path)
            except asyncssh.SFTPNoSuchFile:
                return {}
            return {
                str(n.filename): kind_of(n.attrs.permissions or 0)
                for n in names
                if n.filename not in (".", "..", b".", b"..")
            }

        return self._call(go(), f"listing {path}")

    def mkdir(self, path: str) -> None:
        async def go() -> None:
            sftp = await self._get_sftp()
            with contextlib.suppress(asyncssh.SFTPError):
                if stat.S_ISDIR((await sftp.stat(path)).permissions or 0):
                    return  # one round trip where makedirs takes one per path component
            await sftp.makedirs(path, exist_ok=True)

        self._call(go(), f"creating {path}")

    def remove(self, path: str) -> None:
        check_inside(self.root, path)

        async def unlink() -> bool:
            """True when the path is gone: it was a file or a link, or it was not there."""
            sftp = await self._get_sftp()
            try:
                await sftp.remove(path)
            except asyncssh.SFTPNoSuchFile:
                return True
            except asyncssh.SFTPError:
                return False  # a directory: rm -rf below
            return True

        if not self._call(unlink(), f"removing {path}"):
            self.run(["rm", "-rf", "--", path]).check(f"removing {path}")

    def upload(self, local: str, remote: str, progress: ProgressFn | None = None) -> None:
        def handler(_src: bytes, _dst: bytes, done: int, total: int) -> None:
            if progress:
                progress(done, total)

        async def go() -> None:
            sftp = await self._get_sftp()
            await sftp.put(local, remote, progress_handler=handler)

        self._call(go(), "upload")

    def unpack(self, archive: str, dest: str) -> None:
        self.run(["tar", "-xzf", archive, "-C", dest, "--no-same-owner", "--warning=no-timestamp"], timeout=600).check(
            f"unpacking {archive}"
        )

    @contextlib.contextmanager
    def forward(self, host: str, port: int) -> Iterator[tuple[str, int]]:
        """A local port that reaches ``host:port`` as seen from the target host."""

        async def open_listener() -> asyncssh.SSHListener:
            assert self._conn is not None
            return await self._conn.forward_local_port("127.0.0.1", 0, host, port)

        listener = self._call(open_listener(), f"forwarding to {host}:{port}")
        try:
            yield "127.0.0.1", listener.get_port()
        finally:

            async def close_listener() -> None:
                listener.close()

            with contextlib.suppress(Exception):
                self._call(close_listener(), "closing forward", timeout=5)


class ByteStream:
    """A command running on the host with raw byte pipes, driven from the caller's thread.

    Made by :meth:`SshHost.stream`. :meth:`read` returns stdout chunks (``b""`` at its end);
    :meth:`send` feeds stdin in the background while the caller goes on reading (so neither side's
    window fills and blocks the other), then closes it; :meth:`wait` gives the exit status (None when
    the command ended without one) and all of stderr.
    """

    def __init__(self, target: SshHost, process: asyncssh.SSHClientProcess[bytes], what: str) -> None:
        self._target = target
        self._process = process
        self._what = what
        self._feeder: asyncio.Future[None] | None = None

        # Collected as it comes (a full stderr window would stall the command); made on the loop's thread.
        self._stderr: asyncio.Future[bytes] = asyncio.run_coroutine_threadsafe(
            _start(process.stderr.read()), target._loop
        ).result()

    def read(self, size: int = _READ) -> bytes:
        async def go() -> bytes:
            return bytes(await self._process.stdout.read(size))

        return self._target._call(go(), self._what)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read():
            yield chunk

    def send(self, data: bytes | Iterable[bytes]) -> None:
        """Feed ``data`` to stdin in the background, then send EOF. Once per stream."""
        if self._feeder is not None:
            raise RuntimeError("ByteStream.send: stdin was already fed")

        async def start() -> None:
            self._feeder = _quiet(asyncio.ensure_future(_feed(self._process.stdin, data)))

        self._target._call(start(), self._what)

    def wait(self, timeout: float | None = None) -> tuple[int | None, bytes]:
        """(exit status, stderr) once the command has ended; drains what stdout still holds."""

        async def go() -> tuple[int | None, bytes]:
            while await self._process.stdout.read(_READ):
                pass
            err = await self._stderr
            await self._process.wait_closed()
            return self._process.exit_status, bytes(err)

        return self._target._call(asyncio.wait_for(go(), timeout), self._what)

    def _close(self) -> None:
        target, process, feeder, stderr = self._target, self._process, self._feeder, self._stderr

        async def close() -> None:
            if feeder is not None:
                await _settle(feeder)
            if not stderr.done():
                stderr.cancel()
            process.close()

        with contextlib.suppress(Exception):
            if not target._closed:
                asyncio.run_coroutine_threadsafe(close(), target._loop).result(5)
        if target._sem is not None and not target._closed:
            target._loop.call_soon_threadsafe(target._sem.release)


async def _feed(stdin: asyncssh.SSHWriter[bytes], data: bytes | Iterable[bytes] | None) -> None:
    """Write ``data`` in small pieces, each drained, then EOF.

    Small drained pieces: a link that drops stops the writes at once, instead of asyncio writing a
    queue of packets into a dead socket (and logging about it on stderr).
    """
    if data is None:
        stdin.write_eof()
        return
    chunks = [data] if isinstance(data, bytes | bytearray | memoryview) else data
    for chunk in chunks:
        view = memoryview(chunk)
        for start in range(0, len(view), _SEND):
            stdin.write(bytes(view[start : start + _SEND]))
            await stdin.drain()
            await asyncio.sleep(0)  # let a connection_lost callback run before the next write
    stdin.write_eof()


async def _start(coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
    return _quiet(asyncio.ensure_future(coro))


_PID_MARK = "deploysafe-pid "
# Kill process group $1 until no member of it runs (zombies that an init slow to reap keeps do not count).
_REAP = """g=$1
i=0
while [ "$i" -lt 100 ]; do
  kill -s KILL -- "-$g" 2>/dev/null || exit 0
  left=
  for f in /proc/[0-9]*/stat; do
    read -r l 2>/dev/null <"$f" || continue
    set -- ${l##*") "}
    if [ "$1" != Z ] && [ "$3" = "$g" ]; then left=1; break; fi
  done
  [ -z "$left" ] && exit 0
  sleep 0.1
  i=$((i + 1))
done
exit 1"""


async def _read_pid(stderr: asyncssh.SSHReader[bytes]) -> tuple[bytes, int | None]:
    """The pid a command says first on stderr, and what came before it (a shell's start-up noise)."""
    said = b""
    while True:
        line = bytes(await stderr.readline())
        if not line:
            return said, None
        if line.startswith(_PID_MARK.encode()) and line[len(_PID_MARK) :].strip().isdigit():
            return said, int(line[len(_PID_MARK) :])
        said += line


def _quiet(task: asyncio.Future[T]) -> asyncio.Future[T]:
    """A background task whose failure (a dropped link) the reading side reports: never logged as lost."""
    task.add_done_callback(lambda done: done.cancelled() or done.exception())
    return task


async def _settle(task: asyncio.Future[None]) -> None:
    """Wait for a writer task; its failure (a dropped link) shows on the reading side, not here."""
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
