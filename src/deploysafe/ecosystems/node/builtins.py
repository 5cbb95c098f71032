"""Node's built-in modules, and the names each one exports (asked of the local node, once)."""

from __future__ import annotations

import json
from functools import cache, lru_cache

# require('module').builtinModules on Node 20.
BUILTINS = frozenset(
    [
        "_http_agent",
        "_http_client",
        "_http_common",
        "_http_incoming",
        "_http_outgoing",
        "_http_server",
        "_stream_duplex",
        "_stream_passthrough",
        "_stream_readable",
        "_stream_transform",
        "_stream_wrap",
        "_stream_writable",
        "_tls_common",
        "_tls_wrap",
        "assert",
        "assert/strict",
        "async_hooks",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "constants",
        "crypto",
        "dgram",
        "diagnostics_channel",
        "dns",
        "dns/promises",
        "domain",
        "events",
        "fs",
        "fs/promises",
        "http",
        "http2",
        "https",
        "inspector",
        "inspector/promises",
        "module",
        "net",
        "os",
        "path",
        "path/posix",
        "path/win32",
        "perf_hooks",
        "process",
        "punycode",
        "querystring",
        "readline",
        "readline/promises",
        "repl",
        "stream",
        "stream/consumers",
        "stream/promises",
        "stream/web",
        "string_decoder",
        "sys",
        "timers",
        "timers/promises",
        "tls",
        "trace_events",
        "tty",
        "url",
        "util",
        "util/types",
        "v8",
        "vm",
        "wasi",
        "worker_threads",
        "zlib",
    ]
)
# Only reachable with the node: prefix.
PREFIX_ONLY = frozenset({"test", "test/reporters", "sea", "sqlite"})


def builtin_name(specifier: str) -> str | None:
    """The builtin a specifier names ('node:fs' -> 'fs'), or None when it is not a builtin."""
    if specifier.startswith("node:"):
        name = specifier[5:]
        return name if name in BUILTINS or name in PREFIX_ONLY else None
    return specifier if specifier in BUILTINS else None


@cache
def builtin_exports(name: str) -> frozenset[str] | None:
    """Names an ESM import may take from a builtin, or None when no local node can tell."""
    return _all_builtin_exports().get(name)


@lru_cache(maxsize=1)
def _all_builtin_exports() -> dict[str, frozenset[str]]:
    """Asked of the local node once per node binary (see local_node.py)."""
    from deploysafe.ecosystems.node.local_node import run_node

    names = sorted(BUILTINS | {f"node:{n}" for n in PREFIX_ONLY})
    script = (
        "const out = {};"
        f"for (const n of {json.dumps(names)}) {{"
        "  try { const m = require(n.startsWith('node:') ? n : 'node:' + n);"
        "    out[n.replace(/^node:/, '')] = ['default', ...Object.keys(m)]; } catch {}"
        "}"
        "process.stdout.write(JSON.stringify(out));"
    )
    out = run_node(["-e", script], timeout=30)
    try:
        data = json.loads(out or "")
    except ValueError:
        return {}
    return {name: frozenset(keys) for name, keys in data.items()}
