"""The root ``deploysafe`` command group and the glue that turns errors into one-line messages."""

from __future__ import annotations

import sys

import click

from deploysafe import __version__
from deploysafe.errors import DeploysafeError


class DeploysafeGroup(click.Group):
    """A click group that prints a :class:`DeploysafeError` as one line and exits with its code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except DeploysafeError as err:
            click.echo(f"deploysafe: error: {err}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("deploysafe: interrupted", err=True)
            sys.exit(130)


@click.group(cls=DeploysafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deploysafe")
def main() -> None:
    """Ship a Node.js service without surprises.

    \b
    check     prove the entry's import closure will load in production
    drift     compare this tree with production and say which differences matter
    pack      build a release artifact holding exactly what the entry loads
    deploy    upload, install, boot-test, switch atomically, health-gate, roll back by itself

    Exit codes: 0 ok, 1 blocked or failed, 2 usage or configuration error.
    """


def _register_commands() -> None:
    # Imported for their side effect: each module adds its command(s) to `main`.
    import importlib

    for name in ("check", "pack", "drift", "deploy", "report"):
        try:
            importlib.import_module(f"deploysafe.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"deploysafe.cli.{name}":
                raise


_register_commands()
