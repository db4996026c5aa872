"""config:* commands."""

from __future__ import annotations

import sys

import click

from berth import config
from berth.cli.common import ctx, emit_json, format_option

global_option = click.option("--global", "is_global", is_flag=True,
                             help="Apply to every app (global config).")
no_restart = click.option("--no-restart", is_flag=True, help="Do not restart the app.")


def _app(app: str | None, is_global: bool, args: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """With --global the first argument is not an app name."""
    if is_global:
        return None, ([app] if app else []) + list(args)
    if not app:
        raise click.UsageError("give an app name, or --global")
    return app, list(args)


@click.command("config:set")
@global_option
@no_restart
@click.option("--encoded", is_flag=True, help="Values are base64-encoded.")
@click.argument("app", required=False)
@click.argument("pairs", nargs=-1)
def set_(is_global: bool, no_restart: bool, encoded: bool, app: str | None,
         pairs: tuple[str, ...]) -> None:
    """Set config vars; the app restarts with them as a new release.

    \b
    Example:
      berth config:set myapp SECRET_KEY=abc 'GREETING=hello world'
      berth config:set --global TZ=UTC
    """
    name, args = _app(app, is_global, pairs)
    values = config.parse_pairs(args, encoded=encoded)
    config.set_vars(ctx(), name, values, restart=not no_restart)
    click.echo(f"-----> Set {', '.join(values)}" + (f" for {name}" if name else " globally"))


@click.command("config:get")
@global_option
@click.option("--quoted", is_flag=True, help="Shell-quote the value.")
@click.argument("app", required=False)
@click.argument("key", required=False)
def get(is_global: bool, quoted: bool, app: str | None, key: str | None) -> None:
    """Print one config value exactly (exit 1 if unset).

    \b
    Example:
      berth config:get myapp SECRET_KEY
    """
    import shlex

    name, args = _app(app, is_global, (key,) if key else ())
    if len(args) != 1:
        raise click.UsageError("give one KEY")
    values = config.show(ctx(), name)
    if args[0] not in values:
        raise SystemExit(1)
    value = values[args[0]]
    sys.stdout.write((shlex.quote(value) if quoted else value) + "\n")


@click.command("config:unset")
@global_option
@no_restart
@click.argument("app", required=False)
@click.argument("keys", nargs=-1)
def unset(is_global: bool, no_restart: bool, app: str | None, keys: tuple[str, ...]) -> None:
    """Unset config vars; the app restarts without them.

    \b
    Example:
      berth config:unset myapp SECRET_KEY
    """
    name, args = _app(app, is_global, keys)
    config.unset_vars(ctx(), name, args, restart=not no_restart)
    click.echo(f"-----> Unset {', '.join(args)}")


@click.command("config:show")
@global_option
@click.option("--merged", is_flag=True, help="Include global vars.")
@format_option
@click.argument("app", required=False)
def show(is_global: bool, merged: bool, fmt: str, app: str | None) -> None:
    """Show config vars.

    \b
    Example:
      berth config:show myapp --format json
    """
    name, _ = _app(app, is_global, ())
    values = config.show(ctx(), name, merged=merged)
    if fmt == "json":
        emit_json(values)
        return
    click.echo(f"=====> {name or 'global'} config vars")
    width = max((len(k) for k in values), default=0)
    for k, v in values.items():
        click.echo(f"{k + ':':<{width + 2}}{v}")


@click.command("config:export")
@global_option
@click.option("--format", "fmt", type=click.Choice(["envfile", "json", "shell"]),
              default="envfile", show_default=True)
@click.option("--merged", is_flag=True, help="Include global vars.")
@click.argument("app", required=False)
def export(is_global: bool, fmt: str, merged: bool, app: str | None) -> None:
    """Export config vars (envfile, json or shell).

    \b
    Example:
      berth config:export myapp > myapp.env
    """
    name, _ = _app(app, is_global, ())
    sys.stdout.write(config.export(config.show(ctx(), name, merged=merged), fmt))


@click.command("config:import")
@global_option
@no_restart
@click.option("--format", "fmt", type=click.Choice(["envfile", "json"]), default="envfile",
              show_default=True)
@click.argument("app", required=False)
def import_(is_global: bool, no_restart: bool, fmt: str, app: str | None) -> None:
    """Import config vars from stdin (what config:export wrote).

    \b
    Example:
      berth config:import myapp < myapp.env
    """
    name, _ = _app(app, is_global, ())
    values = config.parse_import(sys.stdin.read(), fmt)
    if not values:
        raise click.UsageError("nothing to import")
    config.set_vars(ctx(), name, values, restart=not no_restart)
    click.echo(f"-----> Imported {len(values)} vars")


__all__ = ["set_", "get", "unset", "show", "export", "import_", "emit_json", "format_option"]
