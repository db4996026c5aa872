"""apps:* commands."""

from __future__ import annotations

from types import ModuleType

import click

from berth.cli.common import ctx, emit_json, format_option, table
from berth.cli.common import report as show_report


def _apps() -> ModuleType:
    """berth.apps, loaded on use: it pulls in the engine and router code, which
    apps:list never needs (CLI start-up time)."""
    from berth import apps

    return apps


@click.command()
@click.argument("name")
def create(name: str) -> None:
    """Create an app.

    \b
    Example:
      berth apps:create myapp
    """
    c = ctx()
    _apps().create(c, name)
    click.echo(f"-----> Created {name}")


@click.command("apps:list")
@format_option
def list_(fmt: str) -> None:
    """List apps.

    \b
    Example:
      berth apps:list --format json
    """
    from berth import appslist
    from berth.permissions import visible

    c = ctx()
    found = appslist.read(c.conn)
    shown = set(visible(c, [name for name, _ in found]))
    # the same text the fast entry (berth/entry.py) prints for the local root
    click.echo(appslist.render([r for r in found if r[0] in shown], fmt), nl=False)


@click.command()
@click.argument("name")
def exists(name: str) -> None:
    """Exit 0 if the app exists, 3 if not.

    \b
    Example:
      berth apps:exists myapp && echo yes
    """
    if not _apps().exists(ctx(), name):
        click.echo(f"App {name} does not exist", err=True)
        raise SystemExit(3)
    click.echo(f"App {name} exists")


@click.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="Do not ask for the name again.")
def destroy(name: str, force: bool) -> None:
    """Destroy an app: containers, images, route, repo and state.

    \b
    Example:
      berth apps:destroy myapp --force
    """
    c = ctx()
    _apps().get(c, name)
    if not force:
        click.echo(f" !     This destroys {name}: its containers, images, repo and config.")
        answer = click.prompt(f" !     To proceed, type the app name ({name})", default="",
                              show_default=False)
        if answer != name:
            raise click.ClickException("confirmation did not match; nothing was destroyed")
    _apps().destroy(c, name)
    click.echo(f"-----> Destroyed {name}")


@click.command()
@click.argument("old")
@click.argument("new")
def rename(old: str, new: str) -> None:
    """Rename an app, keeping its releases and config.

    \b
    Example:
      berth apps:rename myapp myapp2
    """
    _apps().rename(ctx(), old, new)
    click.echo(f"-----> Renamed {old} to {new}")


@click.command()
@click.argument("name")
@format_option
def report(name: str, fmt: str) -> None:
    """Show an app's release, containers, URL and settings.

    \b
    Example:
      berth apps:report myapp --format json
    """
    data = _apps().report(ctx(), name)
    if fmt == "json":
        emit_json(data)
    else:
        show_report(data, f"{name} app information")


__all__ = ["create", "list_", "exists", "destroy", "rename", "report", "table"]
