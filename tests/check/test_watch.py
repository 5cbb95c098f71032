"""`deploysafe check --watch` on a real project edited on disk: each save is re-checked and only what changed
in the verdict is printed; node agrees with each verdict; Ctrl-C ends it with the last verdict's exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from deploysafe.check.pipeline import CheckSession, check
from tests.support.projects import run_node, write_tree

WATCHING = "watching for changes"
SERVICE = {
    "package.json": {"name": "svc", "version": "1.0.0", "main": "index.js"},
    "index.js": "const db = require('./lib/db');\nconsole.log('loaded', typeof db);\n",
    "lib/db.js": "module.exports = { connect() {} };\n",
}


class Output:
    """A child's stdout, read on a thread, that a test waits on with a deadline."""

    def __init__(self, child: subprocess.Popen) -> None:
        self.text = ""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(child,), daemon=True)
        self._thread.start()

    def _read(self, child: subprocess.Popen) -> None:
        for line in child.stdout:
            with self._lock:
                self.text += line

    def wait_for(self, needle: str, after: int, deadline: float = 60) -> str:
        """The output from offset ``after`` on, once it holds ``needle`` and the next "watching" line."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            with self._lock:
                tail = self.text[after:]
            if needle in tail and WATCHING in tail[tail.index(needle) :]:
                return tail
            time.sleep(0.05)
        raise AssertionError(f"no {needle!r} within {deadline} s; output so far:\n{self.text}")


def watching(root) -> subprocess.Popen:
    """``deploysafe check --watch ROOT`` as a user runs it, its output piped, without colours; its stderr goes
    to a file beside ROOT (never a pipe nobody reads), and ``-X faulthandler`` lets a hung one say where."""
    # As from a terminal: a run started as a shell's background job (CI scripts often are) ignores SIGINT,
    # and a child inherits that; a caught handler is reset to the default by exec.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with open(_stderr_file(root), "w") as stderr:  # the child keeps its own copy
            return subprocess.Popen(
                [sys.executable, "-X", "faulthandler", "-m", "deploysafe", "check", "--watch", str(root)],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**os.environ, "NO_COLOR": "1"},
            )
    finally:
        signal.signal(signal.SIGINT, previous)


def _stderr_file(root) -> Path:
    return Path(root).parent / "watch.stderr"


def interrupt(child: subprocess.Popen, root) -> tuple[int, str]:
    """Ctrl-C, then the exit code and stderr; a child still running after 30 s is made to dump every thread's
    stack (SIGABRT through faulthandler) and the test fails with it."""
    child.send_signal(signal.SIGINT)
    try:
        code = child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGABRT)
        child.wait(timeout=30)
        raise AssertionError(f"still running 30 s after Ctrl-C:\n{_stderr_file(root).read_text()}") from None
    return code, _stderr_file(root).read_text()


def test_watch_prints_new_and_fixed_errors_as_files_are_edited_and_stops_on_ctrl_c(tmp_path):
    root = write_tree(tmp_path / "svc", SERVICE)
    child = watching(root)
    try:
        out = Output(child)
        first = out.wait_for("DEPLOYABLE", 0)
        assert "2 reachable" in first

        mark = len(out.text)  # an edit that breaks the start: a new error, and the summary line
        (root / "lib" / "db.js").write_text("require('./pool');\nmodule.exports = { connect() {} };\n")
        broken = out.wait_for("BLOCKED", mark)
        assert "new lib/db.js:1:9 unresolved-import" in broken and "Cannot find module './pool'" in broken
        assert "chain: index.js → lib/db.js" in broken
        assert "entry index.js" not in broken  # only what changed, not the whole report again
        assert "Cannot find module './pool'" in run_node(root, "index.js").stderr

        mark = len(out.text)  # a new file fixes it: the project is opened afresh
        (root / "lib" / "pool.js").write_text("module.exports = {};\n")
        fixed = out.wait_for("DEPLOYABLE", mark)
        assert "fixed lib/db.js:1:9 unresolved-import" in fixed and "3 reachable" in fixed
        assert "new " not in fixed
        assert run_node(root, "index.js").returncode == 0

        code, stderr = interrupt(child, root)
        assert code == 0, stderr  # the last verdict: deployable
        assert "Traceback" not in stderr
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_recheck_from_memory_equals_a_fresh_check(tmp_path):
    """After an edit, the session re-reads only the edited file, and says what a new check says."""
    root = write_tree(tmp_path / "svc", {**SERVICE, "index.js": "require('./package.json');\n" + SERVICE["index.js"]})
    session = CheckSession(root)
    try:
        assert session.check().deployable
        edited = os.path.realpath(root / "lib" / "db.js")
        Path(edited).write_text("require('./pool');\nmodule.exports = {};\n")
        assert session.reusable({edited})
        again = session.check({edited})
        fresh = check(root)
        assert [str(f) for f in again.findings] == [str(f) for f in fresh.findings]
        assert {**again.to_json(), "seconds": 0} == {**fresh.to_json(), "seconds": 0}
        assert not again.deployable
        assert not session.reusable({os.path.realpath(root / "lib" / "pool.js")})  # not in the graph: reopen
        assert not session.reusable({os.path.realpath(root / "package.json")})  # loaded, but a manifest too
    finally:
        session.close()
    assert run_node(root, "index.js").returncode != 0


def _inotify_watches(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            count += Path(f"/proc/{pid}/fdinfo/{fd}").read_text().count("inotify wd:")
        except OSError:
            continue
    return count


def test_watch_spares_node_modules_rechecks_when_an_install_ends_and_watches_new_folders(tmp_path):
    """node_modules is not watched folder by folder: only its install marker starts a re-check; a folder
    made while watching is watched from then on."""
    packages = {f"node_modules/dep{i}/lib/index.js": "module.exports = 1;\n" for i in range(40)}
    root = write_tree(
        tmp_path / "svc",
        {**SERVICE, **packages, "index.js": "require('left-pad');\n" + SERVICE["index.js"]},
    )
    child = watching(root)
    try:
        out = Output(child)
        assert "left-pad" in out.wait_for("BLOCKED", 0)
        assert _inotify_watches(child.pid) <= 3  # the root, lib/ and node_modules/ itself: not its 80 folders

        mark = len(out.text)  # the package lands, then npm writes its marker as the install ends
        write_tree(root / "node_modules" / "left-pad", {"package.json": {"name": "left-pad", "main": "index.js"}})
        (root / "node_modules" / "left-pad" / "index.js").write_text("module.exports = () => '';\n")
        (root / "node_modules" / ".package-lock.json").write_text('{"name": "svc", "lockfileVersion": 3}\n')
        installed = out.wait_for("DEPLOYABLE", mark)
        assert "fixed index.js:1:9" in installed
        assert run_node(root, "index.js").returncode == 0

        mark = len(out.text)  # a new folder, loaded by the entry: watched from then on
        write_tree(root / "lib2", {"x.js": "module.exports = 2;\n"})
        (root / "index.js").write_text("require('./lib2/x');\n" + SERVICE["index.js"])
        out.wait_for("DEPLOYABLE", mark)
        mark = len(out.text)
        (root / "lib2" / "x.js").write_text("require('./nope');\n")
        broken = out.wait_for("BLOCKED", mark)
        assert "new lib2/x.js:1:9 unresolved-import" in broken
        assert "Cannot find module './nope'" in run_node(root, "index.js").stderr

        code, stderr = interrupt(child, root)
        assert code == 1, stderr
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
