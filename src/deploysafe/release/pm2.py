"""pm2, first class: the restart command, and reading ``pm2 jlist`` without leaking its secrets.

``pm2 jlist`` prints every process with its whole environment (database URLs, API keys). deploysafe
runs it on the host inside :data:`SNAPSHOT_JS`, which sends back only names, states, paths and counters
(:class:`Pm2Process`): the environments never cross the connection, let alone reach a log or a message.
:func:`parse_jlist` reads raw jlist text the same way, keeping nothing else.

pm2 remembers a process's script by its resolved path. Started from inside ``current`` it would keep
running the old release after a switch, so the restart passes ``--cwd <root>/current``: pm2 then keeps
the path through the symlink and a reload picks up the new release.

Because pm2 records ``pm_cwd`` and ``pm_exec_path`` through ``current``, they read the same before and
after a switch. Which release a process really runs is its working directory as the kernel resolved it
when the process started (``/proc/PID/cwd``), which :data:`SNAPSHOT_JS` reads too.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any

from deploysafe import safejson
from deploysafe.release.health import Vetting


@dataclass(frozen=True)
class Pm2Process:
    name: str
    pm_id: int
    status: str
    pid: int
    restarts: int
    exec_path: str
    cwd: str
    out_log: str
    err_log: str
    real_cwd: str = ""  # /proc/PID/cwd on the host ("" when unknown: not running, or no /proc)
    autorestart: bool = True
    started_ms: int = 0  # pm_uptime: when pm2 last started it (host clock, ms since the epoch)
    start_ticks: str = ""  # /proc/PID/stat's start time: with the pid, names this very process ("" when unknown)

    def under(self, root: str) -> bool:
        root = root.rstrip("/") + "/"
        return self.exec_path.startswith(root) or (self.cwd.rstrip("/") + "/").startswith(root)


def parse_jlist(text: str) -> list[Pm2Process]:
    """The processes in ``pm2 jlist`` output (or a :data:`SNAPSHOT_JS` snapshot), without environments.

    Garbage in, empty list out.
    """
    start = text.find("[")
    try:
        raw = safejson.loads(text[start:]) if start >= 0 else []
    except json.JSONDecodeError:
        return []
    return _processes(raw)


def _processes(raw: object) -> list[Pm2Process]:
    processes = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        env: dict[str, Any] = item.get("pm2_env") if isinstance(item.get("pm2_env"), dict) else {}  # type: ignore[assignment]
        processes.append(
            Pm2Process(
                name=str(item.get("name", "")),
                pm_id=int(item.get("pm_id", -1) or 0),
                status=str(env.get("status", "unknown")),
                pid=int(item.get("pid", 0) or 0),
                restarts=int(env.get("restart_time", 0) or 0),
                exec_path=str(env.get("pm_exec_path", "")),
                cwd=str(env.get("pm_cwd", "")),
                out_log=str(env.get("pm_out_log_path", "")),
                err_log=str(env.get("pm_err_log_path", "")),
                real_cwd=str(item.get("real_cwd", "") or ""),
                autorestart=env.get("autorestart", True) is not False,
                started_ms=int(env.get("pm_uptime", 0) or 0),
                start_ticks=str(item.get("start", "") or ""),
            )
        )
    return processes


# Run on the host with node: ``node -e SNAPSHOT_JS RELEASE ECOSYSTEM PM2_ARGV...``. Prints one JSON object:
# the host's clock and node version, the real path of RELEASE, the app names of ECOSYSTEM ("" skips it; evaluated as pm2 does) and each pm2
# process with only the fields deploysafe reads plus its real working directory and start time. The list comes from the
# pm2 daemon's RPC socket when PM2_ARGV is a pm2 binary whose package holds pm2's client modules (one node start, not
# two), else from ``pm2 jlist``. Exit 2: pm2 jlist failed.
SNAPSHOT_JS = r"""
const {execFileSync} = require('child_process'), fs = require('fs'), path = require('path');
const [release, ecosystem, ...pm2] = process.argv.slice(1);
const MARK = 'deploysafe-pm2-snapshot ';  // what the process file prints to stdout comes before it
const real = (p) => { try { return fs.realpathSync(p); } catch (e) { return ''; } };
const cwdOf = (pid) => { try { return fs.readlinkSync('/proc/' + pid + '/cwd'); } catch (e) { return ''; } };
const startOf = (pid) => {  // field 22 of /proc/PID/stat, counted after the command name's ')'
  try { const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19] || ''; }
  catch (e) { return ''; }
};
let names = null;
if (ecosystem) {
  try {
    const c = require(path.resolve(ecosystem));
    const apps = Array.isArray(c) ? c : (c.apps || [c]);
    const script = (a) => String(a.script || '');  // pm2 names an unnamed app after its script
    names = apps.filter(Boolean).map((a) => a.name || path.basename(script(a), path.extname(script(a))))
      .filter(Boolean).map(String);
  } catch (e) { names = {error: String(e && e.message || e).split('\n')[0]}; }
}
const onPath = (bin) => {
  if (bin.includes('/')) return bin;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, bin))) return path.join(dir, bin);
  }
  return '';
};
// The daemon answers `pm2 jlist` (getMonitorData) on its RPC socket: asked there with pm2's own client
// modules, found beside the pm2 binary, no pm2 CLI starts. Anything unexpected: done(null), run `pm2 jlist`.
const viaRpc = (done) => {
  try {
    if (pm2.length !== 1) return done(null);
    const dir = path.dirname(path.dirname(fs.realpathSync(onPath(pm2[0]))));
    if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== 'pm2') return done(null);
    const socket = require(path.join(dir, 'paths.js'))().DAEMON_RPC_PORT;
    if (!fs.existsSync(socket)) return done(null);  // no daemon yet: `pm2 jlist` starts it, as it always did
    const from = (name) => require(require.resolve(name, {paths: [dir]}));
    const axon = from('pm2-axon'), rpc = from('pm2-axon-rpc');
    const req = axon.socket('req'), client = new rpc.Client(req);
    let settled = false;
    const finish = (list) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try { req.close(); } catch (e) { /* closing is best effort */ }
      done(list);
    };
    const timer = setTimeout(() => finish(null), 5000);
    req.once('reconnect attempt', () => finish(null));
    req.once('error', () => finish(null));
    req.connect(socket);
    client.call('getMonitorData', {}, (err, list) => finish(err || !Array.isArray(list) ? null : list));
  } catch (e) { done(null); }
};
const viaCli = () => {
  let text;
  try {
    text = execFileSync(pm2[0], [...pm2.slice(1), 'jlist'], {encoding: 'utf8', maxBuffer: 1 << 28,
      stdio: ['ignore', 'pipe', 'pipe']});
  } catch (e) {
    process.stderr.write(String(e.stderr || e.message).trim().split('\n').slice(-2).join('\n'));
    process.exit(2);
  }
  try { return JSON.parse(text.slice(Math.max(0, text.indexOf('[')))); } catch (e) { return []; }
};
const keep = ['status', 'restart_time', 'autorestart', 'pm_uptime', 'pm_exec_path', 'pm_cwd',
  'pm_out_log_path', 'pm_err_log_path'];
viaRpc((fromRpc) => {
  const list = fromRpc || viaCli();
  process.stdout.write('\n' + MARK + JSON.stringify({
    now: Date.now(),
    node: process.version,
    release: release ? real(release) : '',
    names,
    via: fromRpc ? 'rpc' : 'jlist',
    processes: (Array.isArray(list) ? list : []).map((p) => {
      const env = p.pm2_env || {}, kept = {};
      for (const k of keep) if (k in env) kept[k] = env[k];
      return {name: p.name, pm_id: p.pm_id, pid: p.pid, pm2_env: kept, real_cwd: p.pid ? cwdOf(p.pid) : '',
        start: p.pid ? startOf(p.pid) : ''};
    }),
  }), () => process.exit(0));
});
"""


@dataclass(frozen=True)
class Snapshot:
    """What pm2 runs, read once on the host: processes, the release's real path, the process file's apps."""

    processes: list[Pm2Process]
    release: str = ""  # real path of the release judged ("" when not asked or not found)
    names: frozenset[str] | None = None  # apps of the process file (None when not asked)
    names_error: str = ""
    now_ms: int = 0  # the host's clock when the snapshot was taken
    via: str = ""  # "rpc": asked the daemon on its socket; "jlist": ran ``pm2 jlist``
    node: str = ""  # the version of the host's node that read it ("v20.11.1"; "" when unknown)


def snapshot_command(binary: str, release: str = "", ecosystem: str = "") -> list[str]:
    return ["node", "-e", SNAPSHOT_JS, release, ecosystem, *shlex.split(binary)]


_SNAPSHOT_MARK = "\ndeploysafe-pm2-snapshot "


def parse_snapshot(text: str) -> Snapshot | None:
    start = text.rfind(_SNAPSHOT_MARK)
    if start < 0:
        return None
    try:
        raw = safejson.loads(text[start + len(_SNAPSHOT_MARK) :])
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    names = raw.get("names")
    error = ""
    if isinstance(names, dict):
        error, names = str(names.get("error", "cannot read it")), None
    return Snapshot(
        processes=_processes(raw.get("processes")),
        release=str(raw.get("release") or ""),
        names=frozenset(str(n) for n in names) if isinstance(names, list) else None,
        names_error=error,
        now_ms=int(raw.get("now") or 0),
        via=str(raw.get("via") or ""),
        node=str(raw.get("node") or ""),
    )


def restart_command(binary: str, ecosystem: str, current: str) -> str:
    """``pm2 startOrReload <ecosystem> --cwd <root>/current --update-env``, every piece quoted."""
    return shlex.join([*shlex.split(binary), "startOrReload", ecosystem, "--cwd", current, "--update-env"])


# Prints the app names of a pm2 process file as JSON (pm2 evaluates the file the same way).
_APP_NAMES_JS = (
    "const c=require(require('path').resolve(process.argv[1]));"
    "const apps=Array.isArray(c)?c:(c.apps||[c]);"
    "process.stdout.write(JSON.stringify(apps.map(a=>a&&a.name).filter(Boolean)))"
)


def app_names_command(ecosystem: str) -> list[str]:
    return ["node", "-e", _APP_NAMES_JS, ecosystem]


def parse_app_names(text: str) -> set[str]:
    try:
        names = safejson.loads(text)
    except json.JSONDecodeError:
        return set()
    return {str(n) for n in names} if isinstance(names, list) else set()


def started_elsewhere(processes: list[Pm2Process], names: set[str], current: str) -> list[Pm2Process]:
    """The process file's apps that pm2 runs from a path outside ``current`` (a hand-managed tree, a release).

    pm2 reloads a process from the script path it was started with; after an adopt that path has moved,
    so a reload would start nothing. These must be deleted and started again from ``current``.
    """
    inside = current.rstrip("/") + "/"
    return [p for p in processes if p.name in names and not p.exec_path.startswith(inside)]


def delete_command(binary: str, names: list[str]) -> list[str]:
    return [*shlex.split(binary), "delete", *names]


def stale(processes: list[Pm2Process], root: str) -> list[Pm2Process]:
    """Processes of this target that run a release directly instead of through ``current``."""
    releases = posixpath.join(root, "releases") + "/"
    return [p for p in processes if p.under(root) and p.exec_path.startswith(releases)]


def _inside(path: str, root: str) -> bool:
    return bool(path) and bool(root) and (path == root or path.startswith(root.rstrip("/") + "/"))


@dataclass
class Watch:
    """The pm2 half of a health window: every app of the release's process file must be ``online``, run
    from that release, have stayed up ``min_uptime`` seconds, and not restart while the window lasts.
    Fed one :class:`Snapshot` per probe.

    The uptime matters as much as the count: pm2 restarts an app that exits at once only every second or
    two, so a short window could see no restart at all. An app must outlive ``min_uptime`` in one piece.

    :meth:`judge` returns a :class:`Vetting`: ``fatal`` ends the window at once (a crash loop, pm2 gave
    up); ``pending`` makes this probe count as a failure (not online, still the old release); ``waiting``
    holds the verdict until every app has been up ``min_uptime`` seconds.
    """

    names: frozenset[str]
    release: str  # releases/<id> as configured
    current: str
    ecosystem: str
    min_uptime: float = 0.0
    baseline: dict[int, int] | None = None  # pm_id -> restarts, from the first snapshot
    logs: list[str] = field(default_factory=list)  # the apps' pm2 log files (error log first), last seen

    def judge(self, snap: Snapshot) -> Vetting:
        release_real = snap.release or self.release
        waiting: list[str] = []
        self.logs = list(
            dict.fromkeys(
                path for p in snap.processes if p.name in self.names for path in (p.err_log, p.out_log) if path
            )
        )
        pending: list[str] = []
        first = self.baseline is None
        baseline = self.baseline = self.baseline if self.baseline is not None else {}
        for name in sorted(self.names):
            found = [p for p in snap.processes if p.name == name]
            if not found:
                pending.append(f"pm2 runs no {name!r} (an app of {self.ecosystem})")
                continue
            for process in found:
                label = f"pm2 {name}[{process.pm_id}]"
                if first or process.pm_id not in baseline:
                    baseline[process.pm_id] = process.restarts
                elif process.restarts > baseline[process.pm_id]:
                    grown = process.restarts - baseline[process.pm_id]
                    return Vetting(
                        f"{label} restarted {grown} time{'s' if grown > 1 else ''} during the health window "
                        f"({process.restarts} in all, now {process.status}): it is crash-looping, and whatever "
                        f"answered the probe was not it{self._strays(snap)}"
                    )
                if process.status == "errored":
                    return Vetting(
                        f"{label} is errored: pm2 gave up restarting it after {process.restarts} restarts"
                        f"{self._strays(snap)}"
                    )
                if process.status == "stopped" and not process.autorestart:
                    continue  # a one-shot app (autorestart: false) that has finished
                if process.status != "online":
                    pending.append(f"{label} is {process.status}, not online")
                    continue
                where = self._runs_from(process, release_real)
                if where:
                    pending.append(f"{label} (pid {process.pid}) {where}")
                    continue
                up = (snap.now_ms - process.started_ms) / 1000 if snap.now_ms and process.started_ms else None
                if up is not None and up < self.min_uptime:
                    waiting.append(f"{label} up {max(up, 0):.1f}s, not yet the {self.min_uptime:g}s of pm2_min_uptime")
        return Vetting(pending="; ".join(pending) or None, waiting="; ".join(waiting) or None)

    def _strays(self, snap: Snapshot) -> str:
        """Processes pm2 runs through ``current`` that the process file does not name (an old app name)."""
        strays = sorted(
            {
                p.name
                for p in snap.processes
                if p.name not in self.names and p.status == "online" and _inside(p.exec_path, self.current)
            }
        )
        if not strays:
            return ""
        return f" (pm2 also runs {', '.join(strays)} from {self.current}, which {self.ecosystem} does not name)"

    def _runs_from(self, process: Pm2Process, release_real: str) -> str:
        """Why ``process`` is not the release judged ("" when it is)."""
        if process.real_cwd:
            if _inside(process.real_cwd, release_real):
                return ""
            parent = posixpath.dirname(release_real)
            shown = process.real_cwd
            if _inside(shown, parent):
                shown = "releases/" + posixpath.relpath(shown, parent)
            return f"runs in {shown}, not {posixpath.basename(release_real)}: the reload did not reach it"
        # No /proc on this host: judge by the paths pm2 recorded (through current, or the release itself).
        for path in (process.exec_path, process.cwd):
            if _inside(path, self.current) or _inside(path, self.release):
                return ""
        return f"runs {process.exec_path or process.cwd}, outside {self.current}"
