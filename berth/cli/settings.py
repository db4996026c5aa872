"""settings:* commands: server-wide settings."""

from __future__ import annotations

import re

import click

from berth.cli.common import ctx, emit_json, format_option
from berth.cli.common import report as show_report
from berth.errors import ValidationError
from berth.store import events, settings
from berth.store.db import transaction

LISTEN = re.compile(r"(\[[0-9a-fA-F:]+\]|[0-9.]*):([0-9]{1,5})")
DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def validate(key: str, value: str) -> str:
    if key == "domain" and not (len(value) <= 200 and DOMAIN.fullmatch(value)):
        raise ValidationError(f"invalid domain {value!r}: a lower-case host name like example.com")
    if key == "router":
        from berth import routing

        routing.check_router(value)
    if key == "scheduler":
        from berth import schedulers

        schedulers.check(value)
    if key == "acme-ca" and not (value in ("", "internal") or re.fullmatch(
            r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?", value)):
        raise ValidationError(f"invalid acme-ca {value!r}: an ACME directory URL "
                              "(https://...), or 'internal' for Caddy's local CA")
    if key == "acme-email" and value and not re.fullmatch(
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", value):
        raise ValidationError(f"invalid acme-email {value!r}: an address like ops@example.com")
    if key in ("listen", "http-listen", "https-listen"):
        m = LISTEN.fullmatch(value)
        if not m or not 0 < int(m.group(2)) < 65536:
            raise ValidationError(f"invalid {key} {value!r}: use [ADDRESS]:PORT, e.g. :80")
    if key in ("retain-images", "lock-timeout", "max-file-size", "max-tree-size") \
            and not value.isdigit():
        raise ValidationError(f"invalid {key} {value!r}: a whole number")
    if key not in settings.DEFAULTS and not key.startswith("stack.") and key not in (
            "http-listen", "authorized-keys"):
        raise ValidationError(f"unknown setting {key!r}: use one of "
                              + ", ".join([*settings.DEFAULTS, "http-listen", "stack.NAME"]))
    return value


@click.command("settings:set")
@click.argument("key")
@click.argument("value", required=False)
def set_(key: str, value: str | None) -> None:
    """Set a server setting; without a value it returns to its default.

    \b
    Example:
      berth settings:set domain example.com
      berth settings:set stack.python registry.example.com/python:3.11
    """
    if value is not None:
        validate(key, value)
    c = ctx()
    with transaction(c.conn):
        settings.put(c.conn, key, value)
        events.record(c.conn, actor=c.actor, app=None, action="settings.set",
                      details={"key": key})
    click.echo(f"-----> {key} " + (f"set to {value}" if value is not None else "reset"))


@click.command("settings:show")
@format_option
def show(fmt: str) -> None:
    """Show server settings.

    \b
    Example:
      berth settings:show
    """
    data = settings.all_settings(ctx().conn)
    emit_json(data) if fmt == "json" else show_report(data, "berth settings")
