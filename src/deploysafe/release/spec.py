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
pm2_min_uptime = 1.5                        # pm2: seconds each app must stay up, unrestarted, to pass
health = "http://127.0.0.1:3000/health"     # or tcp://127.0.0.1:3000, or a command
health_expect = '"version":"{version}"'     # {version}, {release}: of the release judged
health_interval = 0.5                       # seconds between passing probes
health_deadline = 30.0                      # seconds for the whole window
health_passes = 3                           # consecutive passes required
boot_port = 0                               # 0: a free port chosen on the host
keep = 5
env = { PORT = "3000", NODE_ENV = "production" }
logs = ["shared/logs/app.log"]              # tailed in a failure report (pm2 logs are found by itself)
before_switch = ["npm run migrate"]         # before_<step> / after_<step>: see deploysafe/config/targets.py
hook_timeout = 600.0
known_hosts = "~/.ssh/known_hosts"
identity = "~/.ssh/deploy_ed25519"
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from deploysafe.config import Config, as_config
from deploysafe.config.tables import nearest, values
from deploysafe.config.targets import TargetSettings, TargetTable
from deploysafe.errors import ConfigError
from deploysafe.hosts import Host, SshAddress, open_host
from deploysafe.hosts.locate import of_table, of_url
from deploysafe.release import pm2
from deploysafe.release.health import Probe, parse_probe
from deploysafe.release.layout import Layout

DEFAULT_INSTALL = TargetSettings.install
_SETTINGS = [f.name for f in fields(TargetSettings)]
_OVERRIDABLE = [f.name for f in fields(TargetSettings) if "family" not in f.metadata]  # not hooks


@dataclass(frozen=True)
class TargetSpec(TargetSettings):
    """Where a target is (``url``, ``path``, ``ssh``) and its settings, declared in deploysafe.config.targets."""

    url: str = field(kw_only=True)
    path: str = field(kw_only=True)
    name: str | None = field(default=None, kw_only=True)
    ssh: SshAddress | None = field(default=None, kw_only=True)

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
        """The command line's (or the Python API's) settings over the table's; None leaves a key as is."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        for name in clean:
            if name not in _OVERRIDABLE:
                close = nearest(name, _OVERRIDABLE)
                raise ConfigError(f"unknown target setting {name!r}" + (f" (did you mean {close!r}?)" if close else ""))
        return replace(self, **values(TargetSettings, clean, "")) if clean else self


def settings(table: TargetSettings) -> dict[str, Any]:
    """The settings of a ``[targets.NAME]`` table, as TargetSpec's keyword arguments."""
    return {name: getattr(table, name) for name in _SETTINGS}


def resolve(text: str, config: Config | dict[str, Any] | None = None) -> TargetSpec:
    """A TARGET from the command line: a [targets.NAME] table, an ssh:// URL or a local directory."""
    loaded = as_config(config if config is not None else {})
    table = loaded.targets.get(text)
    if table is not None:
        return _named(text, table, loaded.source)
    if text.startswith("ssh://"):
        where = of_url(text)
        return TargetSpec(url=where.url, path=where.path, ssh=where.ssh)
    if "://" in text:
        raise ConfigError(f"unknown target {text!r}: expected a directory, ssh://... or a [targets] name")
    local = os.path.abspath(os.path.expanduser(text))
    if local == "/":
        raise ConfigError("refusing to deploy into /")
    return TargetSpec(url=local, path=local)


def _named(name: str, table: TargetTable, source: str) -> TargetSpec:
    where = of_table(table.host, table.path)
    if where.ssh is None and where.path == "/":
        raise ConfigError(f"{source}: [targets.{name}] refusing to deploy into /")
    return TargetSpec(url=where.url, path=where.path, name=name, ssh=where.ssh, **settings(table))


def open_target(spec: TargetSpec) -> Host:
    """The host the target names, connected (an SSH host's key is checked)."""
    return open_host(
        spec.path,
        spec.ssh,
        known_hosts=spec.known_hosts,
        identity=spec.identity,
        trust_new_host_key=spec.trust_new_host_key,
    )
