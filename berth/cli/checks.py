"""checks:* commands: health-check settings and modes."""

from __future__ import annotations

import click

from berth import checks_config
from berth.cli.common import ctx, emit_json, format_option
from berth.cli.common import report as show_report


@click.command("checks:set")
@click.argument("app")
@click.argument("key", type=click.Choice(list(checks_config.KEYS)))
@click.argument("value", required=False)
def set_(app: str, key: str, value: str | None) -> None:
    """Set a health-check setting; no VALUE resets it. wait: seconds between attempts;
    timeout: seconds per attempt; attempts: tries before a deploy fails (these three are
    defaults for app.json checks that do not set their own); wait-to-retire: seconds old
    containers keep serving in-flight requests after traffic moved (default 2).

    \b
    Example:
      berth checks:set myapp attempts 10
      berth checks:set myapp wait-to-retire 30
    """
    checks_config.set_value(ctx(), app, key, value)
    click.echo(f"-----> checks {key} for {app}: {value or 'default'}")


def _mode(action: str, app: str, types: tuple[str, ...]) -> None:
    disabled, skipped = checks_config.change_mode(ctx(), app, action, types)
    click.echo(f"-----> checks for {app}: disabled: {', '.join(disabled) or 'none'}; "
               f"skipped: {', '.join(skipped) or 'none'}")


@click.command("checks:disable")
@click.argument("app")
@click.argument("types", nargs=-1)
def disable(app: str, types: tuple[str, ...]) -> None:
    """Disable zero-downtime deploys for process types (default: all): their old containers
    stop before the new ones start, and nothing is checked. This causes downtime.

    \b
    Example:
      berth checks:disable myapp worker
    """
    _mode("disable", app, types)


@click.command("checks:enable")
@click.argument("app")
@click.argument("types", nargs=-1)
def enable(app: str, types: tuple[str, ...]) -> None:
    """Check new containers of process types (default: all) before traffic moves to them.

    \b
    Example:
      berth checks:enable myapp
      berth checks:enable myapp web,worker
    """
    _mode("enable", app, types)


@click.command("checks:skip")
@click.argument("app")
@click.argument("types", nargs=-1)
def skip(app: str, types: tuple[str, ...]) -> None:
    """Skip checks for process types (default: all): new containers still start beside the
    old ones (no downtime) but take traffic without being checked. Stays until checks:enable.

    \b
    Example:
      berth checks:skip myapp web
    """
    _mode("skip", app, types)


@click.command("checks:report")
@click.argument("app")
@format_option
def report(app: str, fmt: str) -> None:
    """Show an app's check modes, settings and the checks each process type gets.

    \b
    Example:
      berth checks:report myapp --format json
    """
    data = checks_config.report(ctx(), app)
    if fmt == "json":
        emit_json(data)
        return
    show_report({
        "disabled": data["disabled"] or "none", "skipped": data["skipped"] or "none",
        "modes": data["modes"], "wait": data["wait"], "timeout": data["timeout"],
        "attempts": data["attempts"], "wait to retire": data["wait_to_retire"],
        **{f"{t} checks": "; ".join(cs) for t, cs in data["healthchecks"].items()},
    }, f"{app} checks information")
