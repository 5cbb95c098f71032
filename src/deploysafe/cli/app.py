"""The root ``deploysafe`` command group and the glue that turns errors into one-line messages.

Commands live in their own modules and are imported only when used, so `deploysafe check` does not pay
for loading the SSH stack and `deploysafe --help` starts fast.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import sys
from typing import Any, NoReturn

import click

from deploysafe import __version__
from deploysafe.errors import DeploysafeError

# command -> (module under deploysafe.cli, one-line help shown by `deploysafe --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "Write a commented deploysafe.toml from what detection finds."),
    "doctor": ("doctor", "Check this machine (and a target) is ready: a line each, ok/warn/fail."),
    "check": ("check", "Prove the entry's import closure will load in production."),
    "why": ("report", "Show which entries load a file, and through which chain."),
    "rules": ("rules", "List every rule check applies, with what it finds."),
    "graph": ("report", "Draw the import graph (html, dot, mermaid)."),
    "drift": ("drift", "Compare this tree with production; say which differences matter."),
    "pack": ("pack", "Build a release artifact holding exactly what the entries load."),
    "verify": ("pack", "Check an artifact's hashes and that it is self-contained."),
    "manifest": ("manifest", "Write a Kubernetes or Fly.io manifest for the service's image."),
    "deploy": ("deploy", "Upload, install, boot-test, switch atomically, health-gate, roll back by itself."),
    "rollback": ("deploy", "Switch a target back to its previous good release."),
    "releases": ("deploy", "List a target's releases and their status."),
    "status": ("deploy", "Show what a target runs now and whether it is healthy."),
    "adopt": ("deploy", "Take over a hand-managed tree as the first release."),
    "unlock": ("deploy", "Break a target's deploy lock by hand."),
}


def _one_shot(command: str | None, args: list[str]) -> bool:
    """A command whose process ends with its one check: the collector, off while it loaded, stays off (the
    check runs with it off anyway; turning it on again only walks the check's objects once before exit)."""
    return command == "check" and not any(arg in ("--watch", "-w") for arg in args)


class DeploysafeGroup(click.Group):
    """Lazy commands, and a :class:`DeploysafeError` printed as one line with its exit code. An OS error,
    too deep a nesting or no memory left that no command caught is one line too (exit 2), never a traceback.
    With ``--format json`` every error (usage errors included) is also a JSON document on stdout."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["deploysafe.json"] = wants_json(args)
        return super().parse_args(ctx, args)

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

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        found = super().resolve_command(ctx, args)
        if not gc.isenabled():  # the console script loaded the command with the collector off (cli.run)
            gc.freeze()
            if not _one_shot(found[0], args):
                gc.enable()
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        as_json = bool(ctx.meta.get("deploysafe.json"))
        try:
            return super().invoke(ctx)
        except DeploysafeError as err:
            fail(f"deploysafe: error: {err}", _kind(err), str(err), err.exit_code, as_json)
        except click.UsageError as err:  # click prints it on stderr (exit 2); JSON readers get it on stdout too
            if as_json:
                _print_json_error("usage", err.format_message(), err.exit_code)
            raise
        except KeyboardInterrupt as err:  # a deploy's Interrupted says which signal; Ctrl-C elsewhere: 130
            message = str(err) or "interrupted"
            fail(f"deploysafe: {message}", "interrupted", message, getattr(err, "exit_code", 130), as_json)
        except BrokenPipeError:
            stdout_gone()
            sys.exit(141)
        except OSError as err:  # the machine's trouble no command foresaw: a full disk, a refused write
            where = f": {err.filename}" if getattr(err, "filename", None) else ""
            message = f"{err.strerror or err}{where}"
            fail(f"deploysafe: error: {message}", "environment", message, 2, as_json)
        except RecursionError:  # input nested deeper than any reader here follows
            message = "the input nests too deeply to follow"
            fail(f"deploysafe: error: {message}", "input", message, 2, as_json)
        except MemoryError:
            fail("deploysafe: error: out of memory", "environment", "out of memory", 2, as_json)


def wants_json(args: list[str]) -> bool:
    """True when the command line asks for ``--format json`` (errors then go to stdout as JSON too)."""
    return any(
        (a == "--format" and i + 1 < len(args) and args[i + 1] == "json") or a == "--format=json"
        for i, a in enumerate(args)
    )


def _kind(err: DeploysafeError) -> str:
    """The error's class as the JSON names it: ``ConfigError`` -> ``config``, ``DeployFailed`` -> ``deploy_failed``."""
    name = type(err).__name__.removesuffix("Error") or "error"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def fail(line: str, kind: str, message: str, exit_code: int, as_json: bool) -> NoReturn:
    """Print the one-line error on stderr (and its JSON on stdout when asked) and exit with ``exit_code``."""
    if as_json:
        _print_json_error(kind, message, exit_code)
    click.echo(line, err=True)
    sys.exit(exit_code)


def _print_json_error(kind: str, message: str, exit_code: int) -> None:
    from deploysafe.report.contract import error_document  # only an error under --format json

    try:
        click.echo(error_document(kind, message, exit_code))
    except BrokenPipeError:
        stdout_gone()


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
