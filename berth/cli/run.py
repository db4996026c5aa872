"""run, run:detached, enter: one-off containers and a shell in a running one."""

from __future__ import annotations

import click

from berth.cli.common import ctx

PASS_THROUGH = {"ignore_unknown_options": True, "allow_interspersed_args": False}


@click.command("run", context_settings=PASS_THROUGH)
@click.option("--no-tty", is_flag=True, help="Do not allocate a terminal even if there is one.")
@click.argument("app")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run_(app: str, command: tuple[str, ...], no_tty: bool) -> None:
    """Run a command in a new container of the app's current release, with its config, and
    exit with the command's exit code. The container is removed afterwards. With a terminal
    (`ssh -t`) the command gets a pty, so shells and consoles work.

    \b
    Example:
      berth run myapp python manage.py migrate
      ssh -t berth@myserver run myapp bash
    """
    from berth import run

    code = run.attached(ctx(), app, list(command), tty=False if no_tty else None)
    raise SystemExit(code)


@click.command("run:detached", context_settings=PASS_THROUGH)
@click.argument("app")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run_detached(app: str, command: tuple[str, ...]) -> None:
    """Start a command in a new container in the background and print the container's name;
    its output goes to the app's log (`berth logs APP -p run`).

    \b
    Example:
      berth run:detached myapp python reindex.py
    """
    from berth import run

    click.echo(run.detached(ctx(), app, list(command)))


@click.command("enter", context_settings=PASS_THROUGH)
@click.option("--no-tty", is_flag=True, help="Do not allocate a terminal even if there is one.")
@click.argument("app")
@click.argument("process")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def enter(app: str, process: str, command: tuple[str, ...], no_tty: bool) -> None:
    """Run a command (default /bin/sh) inside a running container of the app, such as web.1,
    and exit with its exit code.

    \b
    Example:
      ssh -t berth@myserver enter myapp web.1
      berth enter myapp worker.1 ps aux
    """
    from berth import run

    code = run.enter(ctx(), app, process, list(command), tty=False if no_tty else None)
    raise SystemExit(code)
