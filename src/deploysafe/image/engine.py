"""The local container engine (podman, else docker) and skopeo, driven through their command lines.

An image moves between an OCI layout and an engine's storage with ``skopeo copy`` (``oci:DIR:TAG`` to
``containers-storage:REF`` for podman, ``docker-daemon:REF`` for docker), the standard tool for it.
``DEPLOYSAFE_ENGINE`` (``podman`` or ``docker``) picks one when both are installed. Every failure is a
:class:`ImageError` naming the command and the last lines it printed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from deploysafe.errors import DeploysafeError

ENGINES = ("podman", "docker")
_FATAL = re.compile(r'level=(?:fatal|error) msg="(.*)"\s*$')


class ImageError(DeploysafeError):
    """An image could not be built, loaded or run (the engine or skopeo failed, or is missing)."""

    exit_code = 1


class NoEngine(ImageError):
    """Neither podman nor docker (or skopeo) can be used here."""

    exit_code = 2


@dataclass(frozen=True)
class Engine:
    """One container engine: its command and the skopeo transport of its image storage."""

    name: str  # podman | docker

    @property
    def transport(self) -> str:
        return "containers-storage" if self.name == "podman" else "docker-daemon"

    def run(self, args: Sequence[str], *, timeout: float = 120.0, check: str | None = None) -> Completed:
        return run([self.name, *args], timeout=timeout, check=check)

    def has_image(self, ref: str) -> bool:
        return self.run(["image", "inspect", ref], timeout=60).ok

    def load(self, layout: Path, tag: str, ref: str) -> str:
        """Copy the image ``tag`` of the OCI layout into this engine as ``ref``; returns ``ref``."""
        self.copy_in(f"oci:{layout}:{tag}", ref)
        return ref

    def copy_in(self, source: str, ref: str) -> None:
        """``skopeo copy`` of ``source`` into this engine's storage as ``ref`` (docker: the daemon
        ``DOCKER_HOST`` names)."""
        skopeo(
            ["copy", "--quiet", *self.daemon_option("dest"), source, f"{self.transport}:{ref}"], what=f"loading {ref}"
        )

    def daemon_option(self, side: str) -> list[str]:
        """skopeo's ``--src-daemon-host``/``--dest-daemon-host`` for a docker daemon named by ``DOCKER_HOST``."""
        host = os.environ.get("DOCKER_HOST", "")
        return [f"--{side}-daemon-host", host] if self.name == "docker" and host else []

    def remove_image(self, ref: str) -> None:
        self.run(["image", "rm", "--force", ref], timeout=120)


@dataclass(frozen=True)
class Completed:
    command: Sequence[str]
    code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def tail(self, lines: int = 3) -> str:
        """The last lines of the output; skopeo's and podman's own log lines (``level=info``) left out, and
        a fatal one reduced to its message."""
        text = []
        for line in (self.stderr.strip() or self.stdout.strip()).splitlines():
            if re.search(r"\blevel=(info|debug|warning)\b", line):
                continue
            found = _FATAL.search(line)
            text.append(found.group(1).replace('\\"', '"') if found else line)
        return " | ".join(text[-lines:])


def run(command: Sequence[str], *, timeout: float = 120.0, check: str | None = None) -> Completed:
    """Run ``command``; with ``check`` (what it was doing) a failure raises :class:`ImageError`."""
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, errors="replace"
        )
    except FileNotFoundError as err:
        raise NoEngine(f"{command[0]} is not installed (see the README: container images)") from err
    except subprocess.TimeoutExpired as err:
        raise ImageError(f"`{' '.join(command[:3])} …` did not finish in {timeout:.0f} s") from err
    result = Completed(list(command), done.returncode, done.stdout, done.stderr)
    if check and not result.ok:
        raise ImageError(f"{check} failed: `{' '.join(command[:3])} …` exited {done.returncode}: {result.tail()}")
    return result


def skopeo(args: Sequence[str], *, what: str, timeout: float = 600.0) -> Completed:
    if shutil.which("skopeo") is None:
        raise NoEngine(
            "skopeo is not installed: it moves images between OCI layouts and the engine (apt-get install skopeo)"
        )
    return run(["skopeo", *args], timeout=timeout, check=what)


def find_engine() -> Engine:
    """podman, else docker (``DEPLOYSAFE_ENGINE`` decides when set); :class:`NoEngine` when neither works."""
    wanted = os.environ.get("DEPLOYSAFE_ENGINE", "").strip()
    if wanted and wanted not in ENGINES:
        raise NoEngine(f"DEPLOYSAFE_ENGINE={wanted!r}: expected podman or docker")
    for name in (wanted,) if wanted else ENGINES:
        if shutil.which(name) is None:
            continue
        if run([name, "version", "--format", "{{.Server.Version}}" if name == "docker" else "{{.Version}}"]).ok:
            return Engine(name)
    raise NoEngine(
        "no container engine answers: install podman (or docker) and skopeo, e.g. apt-get install podman skopeo runc"
    )
