"""Entry point. Commands load lazily so `berth apps:list` costs little more than Python."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from berth.errors import BerthError

# command name -> "module:function"; the SSH shell allows exactly these minus INTERNAL
COMMANDS = {
    "apps:create": "berth.cli.apps:create",
    "apps:list": "berth.cli.apps:list_",
    "apps:exists": "berth.cli.apps:exists",
    "apps:destroy": "berth.cli.apps:destroy",
    "apps:rename": "berth.cli.apps:rename",
    "apps:report": "berth.cli.apps:report",
    "config:set": "berth.cli.config:set_",
    "config:get": "berth.cli.config:get",
    "config:unset": "berth.cli.config:unset",
    "config:show": "berth.cli.config:show",
    "config:export": "berth.cli.config:export",
    "config:import": "berth.cli.config:import_",
    "releases": "berth.cli.releases:list_",
    "releases:info": "berth.cli.releases:info",
    "releases:rollback": "berth.cli.releases:rollback",
    "ps:scale": "berth.cli.ps:scale",
    "ps:report": "berth.cli.ps:report",
    "ps:stop": "berth.cli.ps:stop",
    "ps:start": "berth.cli.ps:start",
    "ps:restart": "berth.cli.ps:restart",
    "ps:rebuild": "berth.cli.ps:rebuild",
    "ps:set": "berth.cli.ps:set_",
    "scheduler:set": "berth.cli.scheduler:set_",
    "scheduler:report": "berth.cli.scheduler:report",
    "checks:set": "berth.cli.checks:set_",
    "checks:enable": "berth.cli.checks:enable",
    "checks:disable": "berth.cli.checks:disable",
    "checks:skip": "berth.cli.checks:skip",
    "checks:report": "berth.cli.checks:report",
    "logs": "berth.cli.logs:logs_",
    "releases:output": "berth.cli.logs:release_output",
    "run": "berth.cli.run:run_",
    "run:detached": "berth.cli.run:run_detached",
    "enter": "berth.cli.run:enter",
    "cron:list": "berth.cli.cron:list_",
    "cron:run": "berth.cli.cron:run_",
    "resource:limit": "berth.cli.resource:limit",
    "resource:limit-clear": "berth.cli.resource:limit_clear",
    "resource:reserve": "berth.cli.resource:reserve",
    "resource:reserve-clear": "berth.cli.resource:reserve_clear",
    "resource:report": "berth.cli.resource:report",
    "storage:ensure-directory": "berth.cli.storage:ensure_directory",
    "storage:mount": "berth.cli.storage:mount",
    "storage:unmount": "berth.cli.storage:unmount",
    "storage:list": "berth.cli.storage:list_",
    "storage:report": "berth.cli.storage:report",
    "events": "berth.cli.events:events_",
    "git:set": "berth.cli.git:set_",
    "git:report": "berth.cli.git:report",
    "git:from-archive": "berth.cli.git:from_archive",
    "users:add": "berth.cli.users:add",
    "users:list": "berth.cli.users:list_",
    "users:set-role": "berth.cli.users:set_role",
    "users:remove": "berth.cli.users:remove",
    "apps:grant": "berth.cli.users:grant",
    "apps:revoke": "berth.cli.users:revoke",
    "apps:access": "berth.cli.users:access",
    "ssh-keys:add": "berth.cli.keys:add",
    "ssh-keys:remove": "berth.cli.keys:remove",
    "ssh-keys:list": "berth.cli.keys:list_",
    "tokens:create": "berth.cli.keys:token_create",
    "settings:set": "berth.cli.settings:set_",
    "settings:show": "berth.cli.settings:show",
    "stacks:build": "berth.cli.stacks:build",
    "stacks:list": "berth.cli.stacks:list_",
    "server": "berth.cli.server:server",
    "ssh-shell": "berth.cli.server:ssh_shell",
    "version": "berth.cli.main:version",
    # routing (issue 4)
    "domains:add": "berth.cli.domains:add",
    "domains:remove": "berth.cli.domains:remove",
    "domains:set": "berth.cli.domains:set_",
    "domains:clear": "berth.cli.domains:clear",
    "domains:enable": "berth.cli.domains:enable",
    "domains:disable": "berth.cli.domains:disable",
    "domains:add-global": "berth.cli.domains:add_global",
    "domains:set-global": "berth.cli.domains:set_global",
    "domains:remove-global": "berth.cli.domains:remove_global",
    "domains:report": "berth.cli.domains:report",
    "ports:list": "berth.cli.ports:list_",
    "ports:add": "berth.cli.ports:add",
    "ports:set": "berth.cli.ports:set_",
    "ports:remove": "berth.cli.ports:remove",
    "ports:clear": "berth.cli.ports:clear",
    "certs:add": "berth.cli.certs:add",
    "certs:generate": "berth.cli.certs:generate",
    "certs:remove": "berth.cli.certs:remove",
    "certs:report": "berth.cli.certs:report",
    "tls:auto": "berth.cli.certs:tls_auto",
    "tls:report": "berth.cli.certs:tls_report",
    "proxy:set": "berth.cli.proxy:set_",
    "proxy:report": "berth.cli.proxy:report",
    "proxy:enable": "berth.cli.proxy:enable",
    "proxy:disable": "berth.cli.proxy:disable",
    "http-auth:enable": "berth.cli.proxy:auth_enable",
    "http-auth:disable": "berth.cli.proxy:auth_disable",
    "http-auth:report": "berth.cli.proxy:auth_report",
    "redirect:set": "berth.cli.proxy:redirect_set",
    "redirect:unset": "berth.cli.proxy:redirect_unset",
    "redirect:report": "berth.cli.proxy:redirect_report",
    "maintenance:on": "berth.cli.proxy:maintenance_on",
    "maintenance:off": "berth.cli.proxy:maintenance_off",
    "maintenance:set-page": "berth.cli.proxy:maintenance_set_page",
    "maintenance:report": "berth.cli.proxy:maintenance_report",
    "router:set": "berth.cli.router:set_",
    "router:report": "berth.cli.router:report",
    "nginx:snippet": "berth.cli.router:nginx_snippet",
    "plugin:list": "berth.cli.plugins:list_",
    "plugin:install": "berth.cli.plugins:install",
    "plugin:enable": "berth.cli.plugins:enable",
    "plugin:disable": "berth.cli.plugins:disable",
    "plugin:uninstall": "berth.cli.plugins:uninstall",
    "plugin:trigger": "berth.cli.plugins:trigger",
}
# never reachable through `ssh berth@host CMD`
INTERNAL = {"router:set", "nginx:snippet", "domains:add-global", "domains:set-global",
            "domains:remove-global",
            "server", "ssh-shell", "ssh-keys:add", "ssh-keys:remove", "settings:set",
            "stacks:build", "tokens:create", "plugin:install", "plugin:uninstall",
            "plugin:trigger"}


def plugin_commands(root: str | None = None) -> dict[str, click.Command]:
    """Commands added by plugins (cli_commands hook: add-on services, third-party plugins);
    they never replace a built-in one. Loaded only when a name is not in COMMANDS."""
    try:
        from pathlib import Path

        from berth.hooks import manager

        return manager.commands(Path(root) if root else None, reserved=set(COMMANDS))
    except Exception as e:  # a broken plugin must not take the whole CLI down
        click.echo(f" !     plugin commands could not be loaded: {e}", err=True)
        return {}


def all_commands(root: str | None = None) -> set[str]:
    return set(COMMANDS) | set(plugin_commands(root))


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(all_commands(ctx.params.get("root")))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return plugin_commands(ctx.params.get("root")).get(cmd_name)
        module, attr = target.split(":")
        cmd = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False), default=None,
              help="State directory (default: $BERTH_ROOT, /var/lib/berth as root).")
def cli(root: str | None) -> None:
    """berth: git push to your own server.

    \b
    Example:
      berth apps:create myapp
      git remote add berth berth@myserver:myapp && git push berth main
    """
    if root:
        os.environ["BERTH_ROOT"] = os.path.abspath(root)


@click.command()
def version() -> None:
    """Print berth's version.

    \b
    Example:
      berth version
    """
    from berth.entry import version_text

    click.echo(version_text(), nl=False)  # the fast entry prints the same


def run(args: list[str], *, prog: str = "berth", standalone: bool = True) -> int:
    try:
        cli.main(args=args, prog_name=prog, standalone_mode=False)
    except BerthError as e:
        click.echo(f" !     {e}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        from berth.engine import failure

        message = failure(e)
        if message is None:
            raise
        click.echo(f" !     {message}", err=True)
        return 1
    return 0


def main() -> Any:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
