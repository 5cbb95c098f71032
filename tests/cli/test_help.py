"""Per-command help: each command lists only its own options, its exit codes and an example."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from deploysafe.cli import main
from deploysafe.cli.app import COMMANDS


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_says_its_exit_codes_and_gives_an_example(command: str) -> None:
    done = CliRunner().invoke(main, [command, "--help"], terminal_width=100)
    assert done.exit_code == 0, done.output
    assert "Exit code" in done.output and "Example" in done.output, done.output


@pytest.mark.parametrize("command", ["releases", "status", "unlock", "adopt", "rollback"])
def test_commands_that_do_not_deploy_do_not_list_deploy_options(command: str) -> None:
    done = CliRunner().invoke(main, [command, "--help"], terminal_width=100)
    assert done.exit_code == 0
    for option in ("--install", "--boot-port", "--keep", "--start "):
        assert option not in done.output, (command, option)
    assert "--to TARGET" in done.output and "--known-hosts" in done.output
    if command in ("releases", "unlock"):
        assert len(done.output.splitlines()) <= 25, done.output
