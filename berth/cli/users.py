"""users:* and apps:grant/revoke/access: roles and per-app access."""

from __future__ import annotations

import time

import click

from berth import users
from berth.cli.common import ctx, emit_json, format_option, table
from berth.store import apps as store_apps
from berth.store import grants


@click.command("users:add")
@click.argument("name")
@click.option("--role", type=click.Choice(users.ROLES), default="user", show_default=True)
def add(name: str, role: str) -> None:
    """Add a user (then give them keys with ssh-keys:add and apps with apps:grant).

    \b
    Example:
      berth users:add bob --role user
    """
    users.add(ctx(), name, role)
    click.echo(f"-----> Added {name} ({role})")


@click.command("users:list")
@format_option
def list_(fmt: str) -> None:
    """List users and their roles.

    \b
    Example:
      berth users:list
    """
    rows = grants.users(ctx().conn)
    if fmt == "json":
        emit_json([{"name": r["name"], "role": r["role"]} for r in rows])
        return
    table([[r["name"], r["role"], time.strftime("%Y-%m-%d", time.localtime(r["created_at"]))]
           for r in rows], ["user", "role", "added"])


@click.command("users:set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(users.ROLES))
def set_role(name: str, role: str) -> None:
    """Change a user's role.

    \b
    Example:
      berth users:set-role bob admin
    """
    users.set_role(ctx(), name, role)
    click.echo(f"-----> {name} is now {role}")


@click.command("users:remove")
@click.argument("name")
def remove(name: str) -> None:
    """Remove a user with their keys, tokens and grants.

    \b
    Example:
      berth users:remove bob
    """
    users.remove(ctx(), name)
    click.echo(f"-----> Removed {name}")


@click.command("apps:grant")
@click.argument("app")
@click.argument("user")
@click.argument("level", type=click.Choice(users.GRANT_LEVELS), default="deploy")
def grant(app: str, user: str, level: str) -> None:
    """Let a user push to an app (deploy) or also change its settings (manage).

    \b
    Example:
      berth apps:grant myapp bob deploy
    """
    users.grant(ctx(), app, user, level)
    click.echo(f"-----> {user} can {level} {app}")


@click.command("apps:revoke")
@click.argument("app")
@click.argument("user")
def revoke(app: str, user: str) -> None:
    """Take a user's access to an app away.

    \b
    Example:
      berth apps:revoke myapp bob
    """
    users.revoke(ctx(), app, user)
    click.echo(f"-----> {user} no longer has access to {app}")


@click.command("apps:access")
@click.argument("app")
@format_option
def access(app: str, fmt: str) -> None:
    """Show who has access to an app (admins always do).

    \b
    Example:
      berth apps:access myapp
    """
    c = ctx()
    data = grants.for_app(c.conn, store_apps.get(c.conn, app).id)
    if fmt == "json":
        emit_json(data)
        return
    table([[u, lvl] for u, lvl in data.items()], ["user", "access"])
