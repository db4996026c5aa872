"""plugin:* commands."""

from __future__ import annotations

import click

from berth import plugins
from berth.cli.common import ctx, emit_json, format_option, table


@click.command("plugin:list")
@format_option
def list_(fmt: str) -> None:
    """List plugins: built-in, entry points, installed modules, shell plugins; enabled or not,
    and the hooks each implements.

    \b
    Example:
      berth plugin:list --format json
    """
    rows = plugins.all_plugins(ctx())
    if fmt == "json":
        emit_json([{"name": p.name, "kind": p.kind, "source": p.source, "enabled": p.enabled,
                    "hooks": p.hooks, "error": p.error} for p in rows])
        return
    table([[p.name, p.kind, "yes" if p.enabled else ("error" if p.error else "no"),
            ", ".join(p.hooks) or p.error or "-"] for p in rows],
          ["plugin", "kind", "enabled", "hooks"])


@click.command("plugin:install")
@click.argument("source")
def install(source: str) -> None:
    """Install a plugin: a directory with hooks/HOOK scripts (copied into the berth root), or
    the name of a Python module already installed in berth's environment.

    \b
    Example:
      berth plugin:install ./my-plugin
      berth plugin:install berth_slack
    """
    info = plugins.install(ctx(), source)
    click.echo(f"-----> Installed plugin {info.name} ({info.kind}): {', '.join(info.hooks)}")


@click.command("plugin:enable")
@click.argument("name")
def enable(name: str) -> None:
    """Enable a plugin again.

    \b
    Example:
      berth plugin:enable my-plugin
    """
    plugins.set_enabled(ctx(), name, True)
    click.echo(f"-----> Enabled plugin {name}")


@click.command("plugin:disable")
@click.argument("name")
def disable(name: str) -> None:
    """Disable a plugin: its hooks and commands stop until it is enabled.

    \b
    Example:
      berth plugin:disable my-plugin
    """
    plugins.set_enabled(ctx(), name, False)
    click.echo(f"-----> Disabled plugin {name}")


@click.command("plugin:uninstall")
@click.argument("name")
def uninstall(name: str) -> None:
    """Uninstall a plugin that plugin:install added.

    \b
    Example:
      berth plugin:uninstall my-plugin
    """
    plugins.uninstall(ctx(), name)
    click.echo(f"-----> Uninstalled plugin {name}")


@click.command("plugin:trigger", context_settings={"ignore_unknown_options": True})
@click.argument("hook")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def trigger(hook: str, args: tuple[str, ...]) -> None:
    """Call a hook by hand, the way berth would, and print what it returned (for debugging
    plugins; BERTH_TRACE_HOOKS=1 shows each call).

    \b
    Example:
      BERTH_TRACE_HOOKS=1 berth plugin:trigger post_deploy myapp 3 http://myapp.example.com
      berth plugin:trigger env_for_app myapp
    """
    result = plugins.trigger(ctx(), hook, list(args))
    if result is not None:
        click.echo(plugins.describe(result))
