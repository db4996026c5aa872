"""berth test plugin: adds `hello:greet` and gives every app HELLO_PLUGIN.

Found through its entry point (group `berth.plugins`) once installed, or through
BERTH_PLUGINS=/path/to/berth_hello."""

from __future__ import annotations

import click

from berth.hooks import hookimpl


@click.command("hello:greet")
@click.argument("who")
@click.option("--shout", is_flag=True, help="In capitals.")
def greet(who: str, shout: bool) -> None:
    """Greet someone, from a plugin.

    \b
    Example:
      berth hello:greet Ada
    """
    text = f"hello {who}, from a berth plugin"
    click.echo(text.upper() if shout else text)


@hookimpl
def cli_commands() -> dict[str, click.Command]:
    return {"hello:greet": greet}


@hookimpl
def env_for_app(app: str) -> dict[str, str]:
    return {"HELLO_PLUGIN": f"hello {app}"}
