"""The plain console prints what rich's Console prints to a pipe, character for character, without loading rich;
neither turns a place like ``index.js:100:5`` into an emoji."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from rich.console import Console
from rich.markup import escape as rich_escape

from deploysafe.report.console import PlainConsole, escape

SAMPLES = [
    "[bold red]BLOCKED[/] 1 entry · 3 files",
    "[bold]entry[/] src/index.js [dim](package.json main: src/index.js)[/]",
    "    [dim]chain: index.js → lib/[id].js[/]",
    r"a \[literal] bracket, \\[bold]two backslashes[/] and \\\[three]",
    "[bold]other projects (1)[/] [dim]— not scanned ([check] include_nested = true scans them)[/]",
    "tab\there, a bell\x07 and a carriage return\r gone",
    "ends in a backslash \\",
    "[x] lower-case tag-like text, [A] not a tag, [1] not one either, [] empty",
]
PLACES = ["lib/db.js", "C:\\[x]", "a[bold]b", "[/]", "trailing\\", "dir/[slug]/page.js", "x\\[y]"]


@pytest.mark.parametrize("markup", SAMPLES)
def test_plain_console_prints_what_rich_prints_to_a_pipe(markup):
    ours, theirs = io.StringIO(), io.StringIO()
    PlainConsole(ours).print(markup, soft_wrap=True, highlight=False)
    Console(file=theirs, highlight=False, emoji=False).print(markup, soft_wrap=True, highlight=False)
    assert ours.getvalue() == theirs.getvalue()


@pytest.mark.parametrize("text", PLACES)
def test_escape_quotes_as_rich_does_and_prints_as_itself(text):
    assert escape(text) == rich_escape(text)
    out = io.StringIO()
    PlainConsole(out).print(f"[dim]{escape(text)}[/]")
    assert out.getvalue() == text + "\n"


def test_a_check_to_a_pipe_prints_line_100_as_digits_and_never_loads_rich(tmp_path):
    """``:100:`` is rich's name for 💯: a finding on line 100 must still read ``file:100:col``; and a report to
    a pipe is printed without importing rich."""
    root = tmp_path / "svc"
    root.mkdir()
    (root / "package.json").write_text('{"name": "svc", "version": "1.0.0", "main": "index.js"}')
    (root / "index.js").write_text("\n" * 99 + "require('./missing');\n")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "deploysafe", "check", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "index.js:100:9 unresolved-import" in done.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "deploysafe.check.pipeline" in imported
    assert not [name for name in imported if name.split(".")[0] == "rich"]


def test_every_rich_console_of_the_cli_prints_line_100_as_digits():
    """drift, pack, deploy, doctor and the progress bar print through rich on a terminal: each gets its console
    from rich_console, which never turns ``:100:`` into 💯 — and no module builds a Console of its own."""
    from pathlib import Path

    from deploysafe.report.console import rich_console

    out = io.StringIO()
    rich_console(file=out, width=200, force_terminal=True).print("src/app.js:100:9 unresolved-import")
    assert "src/app.js:100:9" in out.getvalue()
    source = Path(__file__).resolve().parents[2] / "src" / "deploysafe"
    builders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if "Console(" in path.read_text().replace("PlainConsole(", "").replace("def rich_console(", "")
        and path.name != "console.py"
    ]
    assert builders == []
