"""A real container engine for the image tests: podman (runc) and skopeo, with no registry reachable.

``scripts/system-deps`` installs podman, skopeo, runc and tini. podman on these kernels needs a
containers.conf with the hard ``nofile`` limit and ``runtime = "runc"`` (crun refuses hybrid cgroups):
:func:`engine_env` writes one and points ``CONTAINERS_CONF`` at it for the whole session, so every podman the
tests and deploysafe start reads it. :func:`base_image` makes the base image a registry would give: a root
file system holding this machine's ``node``, npm, ``sh``, ``env`` and the libraries ``ldd`` lists,
``podman import``-ed once per session (~3 s).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
from pathlib import Path

from tests.support.projects import EXAMPLES

TOOLS = ("podman", "skopeo", "runc", "tini-static")
_LIBRARY = re.compile(r"(/\S+\.so[.\d]*)")


def engine_missing() -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    return f"{', '.join(missing)} not installed" if missing else None


def engine_env(directory: Path) -> dict[str, str]:
    """A containers.conf for this kernel, and the environment that makes podman read it."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    hard = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    conf = directory / "containers.conf"
    conf.write_text(
        f'[containers]\ndefault_ulimits = ["nofile={hard}:{hard}", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n'
    )
    return {"CONTAINERS_CONF": str(conf), "DEPLOYSAFE_ENGINE": "podman"}


def run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def base_image(directory: Path, ref: str) -> str:
    """``ref`` in podman's storage: a root file system with node and npm from this machine."""
    root = directory / "rootfs"
    node = Path(shutil.which("node") or "/usr/bin/node").resolve()
    npm = Path(shutil.which("npm") or "/usr/bin/npm").resolve().parent.parent  # .../node_modules/npm
    programs = [node, Path("/bin/sh").resolve(), Path("/usr/bin/env")]
    for folder in ("usr/bin", "bin", "tmp", "etc", "root", "usr/lib/node_modules"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    shutil.copy2(node, root / "usr/bin/node")
    shutil.copy2(programs[1], root / "bin/sh")
    shutil.copy2(programs[2], root / "usr/bin/env")
    shutil.copytree(npm, root / "usr/lib/node_modules/npm", symlinks=True)
    (root / "usr/bin/npm").symlink_to("../lib/node_modules/npm/bin/npm-cli.js")
    for program in programs:
        for library in _LIBRARY.findall(run("ldd", str(program)).stdout):
            dest = root / library.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(library).resolve(), dest)
    os.chmod(root / "tmp", 0o1777)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    tar = directory / "rootfs.tar"
    done = run("tar", "-C", str(root), "-cf", str(tar), ".")
    assert done.returncode == 0, done.stderr
    done = run("podman", "import", "--change", "ENV PATH=/usr/local/bin:/usr/bin:/bin", str(tar), ref, timeout=300)
    assert done.returncode == 0, done.stderr
    tar.unlink()
    shutil.rmtree(root)
    return ref


CONFIG = """\
[image]
base = "containers-storage:{base}"

[targets.web]
path = "{srv}"
health = "http://127.0.0.1:3000/health"
health_expect = "healthy"
"""


def service(root: Path, base: str, *, crash: str | None = None) -> Path:
    """The bundled example, listening on every interface of its container (as a container service must)."""
    source = EXAMPLES / "seed-api-fixed"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("node_modules"))
    (root / "node_modules").symlink_to(source / "node_modules")
    index = root / "src" / "index.js"
    text = index.read_text().replace("hostname: '127.0.0.1'", "hostname: '0.0.0.0'")
    assert "'0.0.0.0'" in text
    if crash:
        text += f"\nthrow new Error({crash!r});\n"
    index.write_text(text)
    (root / "deploysafe.toml").write_text(CONFIG.format(base=base, srv=root.parent / "srv"))
    return root
