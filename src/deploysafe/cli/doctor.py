"""`deploysafe doctor`: this machine and, with --to, a deploy target, checked a line each (ok/warn/fail)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from deploysafe.cli.app import main
from deploysafe.cli.deploy import _WHERE, _one, target_options
from deploysafe.cli.project import project_root
from deploysafe.report.console import rich_console
from deploysafe.report.contract import versioned

_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


@main.command()
@click.argument("root", default=".", type=click.Path(path_type=Path))
@target_options(*_WHERE, "health", "health_expect")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def doctor(root: Path, fmt: str, **kwargs: Any) -> None:
    """Check that this machine (and the target, with --to) is ready: a line each.

    \b
    Here:       node and npm, against package.json engines; disk space.
    --to TARGET the host reachable and its SSH host key known; node and npm there
                against engines; pm2 or systemd when the target restarts with
                them; disk space at the deploy root; the deploy lock; the
                health URL answering.

    \b
    Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage or
    configuration error.

    \b
    Examples:
      deploysafe doctor
      deploysafe doctor --to production
      deploysafe doctor --to ssh://deploy@app1.example.com/srv/api --format json
    """
    from deploysafe.onboard.doctor import FAIL, local_checks, target_checks

    found = project_root(root)
    project = found.path if found else root
    checks = local_checks(project)
    if kwargs.get("to") or kwargs.get("fleet"):
        kwargs["config"] = kwargs.get("config") or str(project)
        checks += target_checks(_one(kwargs, "doctor"), project)
    failed = any(c.level == FAIL for c in checks)
    if fmt == "json":
        document = {"root": str(project), "ok": not failed, "checks": [c.to_json() for c in checks]}
        click.echo(json.dumps(versioned(document)))
    else:
        console = rich_console()
        for c in checks:
            console.print(f"[{_STYLE[c.level]}]{c.level:<4}[/] {c.name:<8} {escape(c.detail)}", soft_wrap=True)
    sys.exit(1 if failed else 0)
