"""ssh-keys:* and tokens:* commands."""

from __future__ import annotations

import hashlib
import secrets
import sys
import time

import click

from berth import keys, names
from berth.cli.common import ctx, emit_json, format_option, table
from berth.store import events
from berth.store import keys as store
from berth.store.db import transaction


@click.command("ssh-keys:add")
@click.argument("user")
@click.argument("keyfile", required=False, type=click.File("r"))
@click.option("--role", type=click.Choice(["admin", "user"]), default=None,
              help="Role of a new user (default admin); an existing user keeps theirs.")
def add(user: str, keyfile: click.utils.LazyFile | None, role: str | None) -> None:
    """Add a user's SSH public key (from a file or stdin).

    \b
    Example:
      berth ssh-keys:add alice < ~/.ssh/id_ed25519.pub
      berth ssh-keys:add bob --role user < bob.pub
    """
    text = keyfile.read() if keyfile else sys.stdin.read()
    c = ctx()
    key = keys.add(c, user, text, role=role or "admin")
    click.echo(f"-----> Added {key.fingerprint} for {user}")


@click.command("ssh-keys:remove")
@click.argument("name_or_fingerprint")
def remove(name_or_fingerprint: str) -> None:
    """Remove a user's keys, or one key by fingerprint.

    \b
    Example:
      berth ssh-keys:remove alice
    """
    n = keys.remove(ctx(), name_or_fingerprint)
    click.echo(f"-----> Removed {n} key(s)")


@click.command("ssh-keys:list")
@format_option
def list_(fmt: str) -> None:
    """List SSH keys.

    \b
    Example:
      berth ssh-keys:list
    """
    rows = store.all_keys(ctx().conn)
    if fmt == "json":
        emit_json([{"user": k.user, "fingerprint": k.fingerprint,
                    "created_at": k.created_at} for k in rows])
        return
    table([[k.user, k.fingerprint, time.strftime("%Y-%m-%d", time.localtime(k.created_at))]
           for k in rows], ["user", "fingerprint", "added"])


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@click.command("tokens:create")
@click.argument("user")
def token_create(user: str) -> None:
    """Create an API / git-over-HTTP token for a user; it is shown once.

    \b
    Example:
      berth tokens:create alice
    """
    names.user_name(user)
    c = ctx()
    token = "berth_" + secrets.token_urlsafe(32)
    with transaction(c.conn):
        store.ensure_user(c.conn, user)
        store.add_token(c.conn, user, hash_token(token))
        events.record(c.conn, actor=c.actor, app=None, action="token.create",
                      details={"user": user})
    click.echo(token)
