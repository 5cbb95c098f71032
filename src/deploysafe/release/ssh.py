"""A target on another host over SSH (asyncssh), behind the same synchronous interface as LocalTarget.

- Host keys are checked against known_hosts; an unknown host is refused unless the caller asked to trust
  a new key on first use, which then records it. A *changed* key is always refused.
- Every argument goes through ``shlex.join``; a configured command is passed as one quoted argument.
- At most :data:`MAX_CHANNELS` channels are open at once on the connection (OpenSSH allows 10 sessions).
- Uploads use SFTP. A connection lost at any point becomes a one-line :class:`TargetError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import stat
import threading
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import asyncssh

from deploysafe.errors import ConfigError, TargetError
from deploysafe.release.target import Completed, ProgressFn, check_inside

MAX_CHANNELS = 8
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
    parts = urlsplit(url)
    if parts.scheme != "ssh" or not parts.hostname:
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
    return SshAddress(host=parts.hostname, path=remote, user=unquote(parts.username or "") or None, port=port)


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


class SshTarget:
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
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._closed = False
        self._lost = ""
        try:
            self._call(self._connect(), "connect")
        except BaseException:
            self._stop_loop()
            raise

    def __repr__(self) -> str:
        return f"SshTarget({self.url!r})"

    # -- plumbing ---------------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], what: str, timeout: float | None = None) -> T:
        if self._closed or self._lost:
            coro.close()
            raise TargetError(f"{self.url}: {self._lost or 'connection already closed'}")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
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
            raise TargetError(f"{self.url}: {what} failed: {err.reason or err}") from err
        except asyncssh.Error as err:
            raise TargetError(f"{self.url}: {what} failed: {err}") from err
        except OSError as err:
            raise TargetError(f"{self.url}: {what} failed: {err.strerror or err}") from err

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
        self._sem = asyncio.Semaphore(MAX_CHANNELS - 1)  # one more channel is the SFTP session
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

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> Completed:
        command = remote_command(argv, cwd, env)

        async def go() -> Completed:
            assert self._conn is not None and self._sem is not None
            async with self._sem:
                result = await asyncio.wait_for(
                    self._conn.run(command, input=input, encoding=None, check=False), timeout
                )
            code = result.exit_status if result.exit_status is not None else 255
            out = result.stdout or b""
            err = result.stderr or b""
            return Completed(
                tuple(argv),
                code,
                out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out),
                err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err),
            )

        try:
            return self._call(go(), f"running {argv[0]}")
        except TargetError as err:
            if "timed out" in str(err) and timeout:
                raise TargetError(f"{shlex.join(argv)[:120]} timed out after {timeout:.0f}s on {self.url}") from err
            raise

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

    def append_file(self, path: str, data: bytes) -> None:
        async def go() -> None:
            sftp = await self._get_sftp()
            async with sftp.open(path, "ab") as handle:
                await handle.write(data)

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
            mode = attrs.permissions or 0
            if stat.S_ISLNK(mode):
                return "link"
            if stat.S_ISDIR(mode):
                return "dir"
            if stat.S_ISREG(mode):
                return "file"
            return "other"

        return self._call(go(), f"checking {path}")

    def listdir(self, path: str) -> list[str]:
        async def go() -> list[str]:
            sftp = await self._get_sftp()
            try:
                names = await sftp.listdir(path)
            except asyncssh.SFTPNoSuchFile:
                return []
            return sorted(str(n) for n in names if n not in (".", ".."))

        return self._call(go(), f"listing {path}")

    def mkdir(self, path: str) -> None:
        async def go() -> None:
            sftp = await self._get_sftp()
            await sftp.makedirs(path, exist_ok=True)

        self._call(go(), f"creating {path}")

    def remove(self, path: str) -> None:
        check_inside(self.root, path)
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
