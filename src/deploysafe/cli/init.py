"""`deploysafe init`: a commented deploysafe.toml from what detection finds (never over an existing one)."""

from __future__ import annotations

from pathlib import Path

import click

from deploysafe.cli.app import main
from deploysafe.cli.project import project_root
from deploysafe.errors import ConfigError


@main.command()
@click.argument("root", default=".", type=click.Path(path_type=Path))
def init(root: Path) -> None:
    """Write a commented deploysafe.toml for the project in ROOT (or the one this folder is in).

    It checks the project to find the entries (and says why each), notes the PM2
    process file or Procfile, and proposes a health URL when the code spells its
    listen port as a literal and a health route. What it cannot know (where
    production is) is left commented out to fill in. An existing deploysafe.toml is
    never overwritten.

    \b
    Exit codes: 0 written, 2 a deploysafe.toml is already there, or usage error.

    \b
    Examples:
      deploysafe init
      deploysafe init services/api
    """
    from deploysafe.onboard.init import init as run_init

    found = project_root(root)
    if found is None:
        raise ConfigError(f"{root}: no such directory")
    written, detected = run_init(found.path)
    click.echo(f"wrote {written}")
    for path, reason in detected.entries:
        click.echo(f"  entry   {path} ({reason})")
    if detected.process_file:
        click.echo(f"  process {detected.process_file}")
    click.echo(f"  health  {detected.health or 'not found: no literal listen port in the code'}")
    click.echo("next: fill in [targets.production], then `deploysafe doctor --to production`")
