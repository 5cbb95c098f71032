"""The root ``deploysafe`` command group and the glue that turns errors into one-line messages.

Commands live in their own modules and are imported only when used, so `deploysafe check` does not pay
for loading the SSH stack and `deploysafe --help` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from deploysafe import __version__
from deploysafe.errors import DeploysafeError

# command -> (module under deploysafe.cli, one-line help shown by `deploysafe --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("check", "Prove the entry's import closure will load in production."),
    "why": ("report", "Show which entries load a file, and through which chain."),
    "rules": ("rules", "List every rule check applies, with what it finds."),
    "graph": ("report", "Draw the import graph (html, dot, mermaid)."),
    "drift": ("drift", "Compare this tree with production; say which differences matter."),
    "pack": ("pack", "Build a release artifact holding exactly what the entries load."),
    "verify": ("pack", "Check an artifact's hashes and that it is self-contained."),
    "deploy": ("deploy", "Upload, install, boot-test, switch atomically, health-gate, roll back by itself."),
    "rollback": ("deploy", "Switch a target back to its previous good release."),
    "releases": ("deploy", "List a target's releases and their status."),
    "status": ("deploy", "Show what a target runs now and whether it is healthy."),
    "adopt": ("deploy", "Take over a hand-managed tree as the first release."),
    "unlock": ("deploy", "Break a target's deploy lock by hand."),
}


class DeploysafeGroup(click.Group):
    """Lazy commands, and a :class:`DeploysafeError` printed as one line with its exit code. An OS error,
    too deep a nesting or no memory left that no command caught is one line too (exit 2), never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(dict.fromkeys([*COMMANDS, *self.commands]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            try:
                importlib.import_module(f"deploysafe.cli.{COMMANDS[cmd_name][0]}")
            except ModuleNotFoundError as err:
                if err.name != f"deploysafe.cli.{COMMANDS[cmd_name][0]}":
                    raise
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DeploysafeError as err:
            click.echo(f"deploysafe: error: {err}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt as err:  # a deploy's Interrupted says which signal; Ctrl-C elsewhere: 130
            click.echo(f"deploysafe: {err or 'interrupted'}", err=True)
            sys.exit(getattr(err, "exit_code", 130))
        except BrokenPipeError:
            stdout_gone()
            sys.exit(141)
        except OSError as err:  # the machine's trouble no command foresaw: a full disk, a refused write
            where = f": {err.filename}" if getattr(err, "filename", None) else ""
            click.echo(f"deploysafe: error: {err.strerror or err}{where}", err=True)
            sys.exit(2)
        except RecursionError:  # input nested deeper than any reader here follows
            click.echo("deploysafe: error: the input nests too deeply to follow", err=True)
            sys.exit(2)
        except MemoryError:
            click.echo("deploysafe: error: out of memory", err=True)
            sys.exit(2)


def stdout_gone() -> None:
    """The reader of stdout went away: point stdout at /dev/null, so that nothing written later (nor
    the flush at exit) fails again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@click.group(cls=DeploysafeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deploysafe")
def main() -> None:
    """Ship a Node.js service without surprises.

    \b
    Start with:  deploysafe check [ROOT]
    Then:        deploysafe pack [ROOT]   and   deploysafe deploy ARTIFACT --to TARGET

    Every command takes --help. Exit codes: 0 ok, 1 blocked or failed, 2 usage or configuration error.
    """
