"""scheduler:* commands: which scheduler runs an app's containers."""

from __future__ import annotations

import click

from berth import schedulers
from berth.cli.common import ctx, emit_json, format_option
from berth.cli.common import report as show_report


@click.command("scheduler:set")
@click.argument("app")
@click.argument("name", required=False)
def set_(app: str, name: str | None) -> None:
    """Choose the scheduler that runs an app's containers: docker-local (the default) or
    one a plugin registers (`berth scheduler:report APP` lists them). Without NAME the app
    follows the server's `scheduler` setting again. It applies from the next deploy or
    restart, and containers the old scheduler started are not moved: change it before the
    first deploy unless the new one runs docker-local's containers. An unknown name changes
    nothing.

    \b
    Example:
      berth scheduler:set myapp docker-local
      berth settings:set scheduler docker-local    # the default for every app
    """
    schedulers.set_for(ctx(), app, name)
    click.echo(f"-----> Scheduler of {app}: {name or 'the server setting'}")


@click.command("scheduler:report")
@click.argument("app")
@format_option
def report(app: str, fmt: str) -> None:
    """Show the scheduler an app uses, its own and the server's setting, and every
    registered scheduler.

    \b
    Example:
      berth scheduler:report myapp --format json
    """
    data = schedulers.report(ctx(), app)
    emit_json(data) if fmt == "json" else show_report(data, f"{app} scheduler")
