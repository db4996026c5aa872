"""Docs live next to code: every command has help text with an example."""

import click
import pytest

from berth.cli.main import COMMANDS, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_with_example(name):
    cmd = cli.get_command(click.Context(cli), name)
    assert cmd is not None and cmd.help
    assert "Example" in cmd.help, f"{name} has no example in its help"


def test_version(capsys):
    from berth.cli.main import run

    assert run(["version"]) == 0
    assert capsys.readouterr().out.startswith("berth ")
