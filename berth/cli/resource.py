"""resource:* commands: memory and CPU limits and reservations per process type."""

from __future__ import annotations

import click

from berth.cli.common import ctx, emit_json, format_option

type_option = click.option("--process-type", "ptype", default=None, metavar="TYPE",
                           help="A process type, or `build` for image builds (default: "
                                "every type).")
memory_option = click.option("--memory", default=None, help="e.g. 512m or 1g.")
cpu_option = click.option("--cpu", default=None, help="CPUs, from 0.01 to 64 (e.g. 0.5).")
APPLIES = "applies on the next deploy or `berth ps:restart {app}`"


def _show(app: str, kind: str, ptype: str | None, memory: str | None, cpu: str | None) -> None:
    from berth import resources

    merged = resources.set_values(ctx(), app, kind=kind, ptype=ptype, memory=memory, cpu=cpu)
    what: dict[str, object] = resources.describe(merged)[kind]
    pt = ptype or "all process types"
    click.echo(f"-----> {kind.capitalize()} for {app} ({pt}): memory={what['memory'] or '-'} "
               f"cpu={what['cpu'] or '-'}; " + APPLIES.format(app=app))


@click.command("resource:limit")
@type_option
@memory_option
@cpu_option
@click.argument("app")
def limit(app: str, ptype: str | None, memory: str | None, cpu: str | None) -> None:
    """Cap the memory and CPU an app's containers may use (per process type, or for builds
    with --process-type build).

    \b
    Example:
      berth resource:limit myapp --memory 512m --cpu 0.5
      berth resource:limit myapp --process-type worker --memory 1g
    """
    _show(app, "limit", ptype, memory, cpu)


@click.command("resource:reserve")
@type_option
@memory_option
@cpu_option
@click.argument("app")
def reserve(app: str, ptype: str | None, memory: str | None, cpu: str | None) -> None:
    """Reserve memory (a soft limit under memory pressure) and CPU shares for an app's
    containers.

    \b
    Example:
      berth resource:reserve myapp --memory 256m --cpu 0.25
    """
    _show(app, "reserve", ptype, memory, cpu)


def _clear(app: str, kind: str, ptype: str | None) -> None:
    from berth import resources

    n = resources.clear(ctx(), app, kind=kind, ptype=ptype)
    click.echo(f"-----> Cleared {n} {kind} value(s) of {app} ({ptype or 'all process types'});"
               " " + APPLIES.format(app=app))


@click.command("resource:limit-clear")
@type_option
@click.argument("app")
def limit_clear(app: str, ptype: str | None) -> None:
    """Remove the memory and CPU limits (of one process type, or the app-wide ones).

    \b
    Example:
      berth resource:limit-clear myapp
    """
    _clear(app, "limit", ptype)


@click.command("resource:reserve-clear")
@type_option
@click.argument("app")
def reserve_clear(app: str, ptype: str | None) -> None:
    """Remove the memory and CPU reservations (of one process type, or the app-wide ones).

    \b
    Example:
      berth resource:reserve-clear myapp --process-type web
    """
    _clear(app, "reserve", ptype)


@click.command("resource:report")
@click.argument("app")
@format_option
def report(app: str, fmt: str) -> None:
    """Show configured limits and reservations, and what each process type gets.

    \b
    Example:
      berth resource:report myapp --format json
    """
    from berth import resources

    data = resources.report(ctx(), app)
    if fmt == "json":
        emit_json(data)
        return
    click.echo(f"=====> {app} resource information")
    rows = [("build", data["build"])]
    rows += [(t, v) for t, v in data["effective"].items()]
    for ptype, v in rows:
        lim, res = v["limit"], v["reserve"]
        click.echo(f"       {ptype + ':':<12} limit memory={lim['memory'] or '-'} "
                   f"cpu={lim['cpu'] or '-'}  reserve memory={res['memory'] or '-'} "
                   f"cpu={res['cpu'] or '-'}")
