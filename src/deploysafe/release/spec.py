"""What a TARGET names: a directory here, ``ssh://user@host[:port]/path``, or ``[targets.NAME]`` in
deploysafe.toml, with its commands, health probe and limits. Every key has a default but ``health``.

```toml
[targets.production]
host = "ssh://deploy@app1.example.com:22"   # omit for a directory on this machine
path = "/srv/api"
shared = [".env", "uploads/", "logs/"]      # a trailing / marks a directory
install = "npm ci --omit=dev"
start = "node src/index.js"                 # boot test command (default: the artifact's "start")
restart = "systemctl restart api"           # or pm2 = "ecosystem.config.cjs"
pm2_min_uptime = 5.0                        # pm2: seconds each app must stay up, unrestarted, to pass
health = "http://127.0.0.1:3000/health"     # or tcp://127.0.0.1:3000, or a command
health_expect = '"version":"{version}"'     # {version}, {release}: of the release judged
health_interval = 1.0                       # seconds between passing probes
health_deadline = 30.0                      # seconds for the whole window
health_passes = 3                           # consecutive passes required
boot_port = 0                               # 0: a free port chosen on the host
keep = 5
env = { PORT = "3000", NODE_ENV = "production" }
logs = ["shared/logs/app.log"]              # tailed in a failure report (pm2 logs are found by itself)
before_switch = ["npm run migrate"]         # before_<step> / after_<step>: see release/hooks.py
hook_timeout = 600.0
known_hosts = "~/.ssh/known_hosts"
identity = "~/.ssh/deploy_ed25519"
```
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from deploysafe.config import CONFIG_NAME, section
from deploysafe.errors import ConfigError
from deploysafe.hosts import Host, SshAddress, open_host, parse_ssh_url
from deploysafe.release import hooks as hook_keys
from deploysafe.release import pm2
from deploysafe.release.health import Probe, parse_probe
from deploysafe.release.hooks import Hook
from deploysafe.release.layout import Layout

DEFAULT_INSTALL = "npm ci --omit=dev"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TargetSpec:
    url: str
    path: str
    name: str | None = None
    ssh: SshAddress | None = None
    shared: tuple[str, ...] = ()
    install: str = DEFAULT_INSTALL
    start: str | None = None
    restart: str | None = None
    pm2: str | None = None
    pm2_bin: str = "pm2"
    pm2_min_uptime: float = 5.0
    health: str | None = None
    health_expect: str | None = None
    health_interval: float = 1.0
    health_deadline: float = 30.0
    health_passes: int = 3
    health_timeout: float = 2.0
    boot_port: int = 0
    boot_deadline: float = 30.0
    rollback_deadline: float = 15.0
    keep: int = 5
    env: dict[str, str] = field(default_factory=dict)
    logs: tuple[str, ...] = ()
    known_hosts: str | None = None
    identity: str | None = None
    trust_new_host_key: bool = False
    install_timeout: float = 900.0
    hook_timeout: float = 600.0
    hooks: tuple[Hook, ...] = ()
    restart_timeout: float = 120.0

    @property
    def layout(self) -> Layout:
        return Layout(self.path)

    def probe(self) -> Probe | None:
        if not self.health:
            return None
        return parse_probe(self.health, self.health_expect, self.health_timeout)

    def restart_command(self) -> str | None:
        if self.pm2:
            return pm2.restart_command(self.pm2_bin, self.pm2, self.layout.current)
        return self.restart

    def with_overrides(self, **overrides: Any) -> TargetSpec:
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **_coerce(clean, "command line")) if clean else self


_FIELD_TYPES = {f.name: f.type for f in fields(TargetSpec)}
_TABLE_KEYS = set(_FIELD_TYPES) - {"url", "name", "ssh", "path", "hooks"} | {"host", "path"} | set(hook_keys.KEYS)


def _coerce(values: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = str(_FIELD_TYPES.get(key, ""))
        try:
            if kind.startswith("tuple"):
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                    raise TypeError
                out[key] = tuple(value)
            elif kind == "float":
                if isinstance(value, bool):
                    raise TypeError
                out[key] = float(value)
            elif kind == "int":
                if isinstance(value, bool) or int(value) != value:
                    raise TypeError
                out[key] = int(value)
            elif kind == "bool":
                if not isinstance(value, bool):
                    raise TypeError
                out[key] = value
            elif kind.startswith("dict"):
                if not isinstance(value, dict):
                    raise TypeError
                for env_key in value:
                    if not _ENV_NAME.match(str(env_key)):
                        raise ConfigError(f"{where}: env: invalid variable name {env_key!r}")
                out[key] = {str(k): str(v) for k, v in value.items()}
            else:
                if not isinstance(value, str):
                    raise TypeError
                out[key] = value
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {key} has the wrong type ({type(value).__name__})") from err
    if out.get("keep") is not None and out["keep"] < 2:
        raise ConfigError(f"{where}: keep must be at least 2 (current and the previous good release)")
    if out.get("pm2_min_uptime") is not None and out["pm2_min_uptime"] < 0:
        raise ConfigError(f"{where}: pm2_min_uptime must not be negative")
    if out.get("health_passes") is not None and out["health_passes"] < 1:
        raise ConfigError(f"{where}: health_passes must be at least 1")
    for shared in out.get("shared", ()):
        parts = shared.rstrip("/").split("/")
        if shared.startswith("/") or ".." in parts or not shared.rstrip("/") or "" in parts:
            raise ConfigError(f"{where}: shared path {shared!r} must be relative, without '..'")
    return out


def resolve(text: str, config: dict[str, Any] | None = None) -> TargetSpec:
    """A TARGET from the command line: a [targets.NAME] table, an ssh:// URL or a local directory."""
    targets = section(config or {}, "targets")
    if text in targets:
        table = targets[text]
        if not isinstance(table, dict):
            raise ConfigError(f"{CONFIG_NAME}: [targets.{text}] must be a table")
        unknown = sorted(set(table) - _TABLE_KEYS)
        if unknown:
            raise ConfigError(f"{CONFIG_NAME}: [targets.{text}] has unknown key {unknown[0]!r}")
        where = f"{CONFIG_NAME} [targets.{text}]"
        values = _coerce(
            {k: v for k, v in table.items() if k not in ("host", "path") and k not in hook_keys.KEYS}, where
        )
        values["hooks"] = hook_keys.parse(table, where)
        host, path = table.get("host"), table.get("path")
        if not isinstance(path, str) or not path:
            raise ConfigError(f"{where}: path is required")
        if host:
            if not isinstance(host, str):
                raise ConfigError(f"{where}: host must be a string")
            url = host if host.startswith("ssh://") else f"ssh://{host}"
            address = parse_ssh_url(url.rstrip("/") + "/", path)
            return TargetSpec(url=address.url, path=address.path, name=text, ssh=address, **values)
        local = os.path.abspath(os.path.expanduser(path))
        return TargetSpec(url=local, path=local, name=text, **values)
    if text.startswith("ssh://"):
        address = parse_ssh_url(text)
        return TargetSpec(url=address.url, path=address.path, ssh=address)
    if "://" in text:
        raise ConfigError(f"unknown target {text!r}: expected a directory, ssh://... or a [targets] name")
    local = os.path.abspath(os.path.expanduser(text))
    if local == "/":
        raise ConfigError("refusing to deploy into /")
    return TargetSpec(url=local, path=local)


def open_target(spec: TargetSpec) -> Host:
    """The host the target names, connected (an SSH host's key is checked)."""
    return open_host(
        spec.path,
        spec.ssh,
        known_hosts=spec.known_hosts,
        identity=spec.identity,
        trust_new_host_key=spec.trust_new_host_key,
    )
