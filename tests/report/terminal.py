"""Run the real command line with its stdout and/or stderr on a pseudo-terminal of a chosen width."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[0-9;]+)m")


@dataclass
class Captured:
    returncode: int
    stdout: str
    stderr: str

    @staticmethod
    def plain(text: str) -> str:
        return ANSI.sub("", text).replace("\r", "")


def run_in_terminal(
    *args: str, columns: int = 80, stdout_tty: bool = True, stderr_tty: bool = False, env: dict | None = None
) -> Captured:
    """``deploysafe ARGS`` with the chosen streams on one pty (``columns`` wide), the others piped."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
    full_env.update({"TERM": "xterm-256color", **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "deploysafe", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=slave if stderr_tty else subprocess.PIPE,
        env=full_env,
    )
    os.close(slave)
    on_tty = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO once the child has closed its end
            break
        if not chunk:
            break
        on_tty += chunk
    os.close(master)
    piped_out = process.stdout.read() if process.stdout else b""
    piped_err = process.stderr.read() if process.stderr else b""
    process.wait(timeout=120)
    tty_text = on_tty.decode(errors="replace")
    return Captured(
        process.returncode,
        tty_text if stdout_tty else piped_out.decode(),
        tty_text if stderr_tty and not stdout_tty else piped_err.decode(),
    )
