"""certs:* and tls:* commands: an app's TLS certificate, or automatic ones by ACME."""

from __future__ import annotations

import sys

import click

from berth import apps, certs, routing
from berth.cli.common import ctx, emit_json, format_option
from berth.cli.common import report as show_report
from berth.errors import ValidationError
from berth.store import apps as store_apps
from berth.store import events


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(certs.MAX_PEM + 1)
    except OSError as e:
        raise ValidationError(f"cannot read {path}: {e.strerror}") from None


@click.command("certs:add")
@click.argument("app")
@click.argument("cert_file", required=False)
@click.argument("key_file", required=False)
def add(app: str, cert_file: str | None, key_file: str | None) -> None:
    """Add a certificate and key (PEM files, or a tar of a .crt and a .key on stdin).

    \b
    Example:
      berth certs:add myapp server.crt server.key
      tar c server.crt server.key | ssh berth@host certs:add myapp
    """
    c = ctx()
    a = apps.require(c, app)
    if cert_file and key_file:
        cert_pem, key_pem = _read(cert_file), _read(key_file)
    elif cert_file or key_file:
        raise click.UsageError("give both CERT_FILE and KEY_FILE, or neither and a tar on stdin")
    else:
        cert_pem, key_pem = certs.from_tar(sys.stdin.buffer.read(4 * certs.MAX_PEM))

    def change() -> None:
        certs.add(c, a, cert_pem, key_pem)
        events.record(c.conn, actor=c.actor, app=app, action="certs.add")

    routing.change(c, change)
    click.echo(f"-----> Added a certificate to {app}: {routing.url_for(c, app)}")


@click.command("certs:generate")
@click.argument("app")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650),
              help="Validity in days.")
def generate(app: str, days: int) -> None:
    """Generate a self-signed certificate for the app's domains and use it.

    \b
    Example:
      berth certs:generate myapp
    """
    c = ctx()
    a = apps.require(c, app)

    def change() -> None:
        hosts = list(routing.hosts_for(c, app))
        cert_pem, key_pem = certs.generate(hosts, days=days)
        certs.add(c, a, cert_pem, key_pem, source="generated")
        events.record(c.conn, actor=c.actor, app=app, action="certs.generate")

    routing.change(c, change)
    click.echo(f"-----> Generated a self-signed certificate for {app}: "
               f"{routing.url_for(c, app)}")


@click.command("certs:remove")
@click.argument("app")
def remove(app: str) -> None:
    """Remove an app's certificate; it is served over plain HTTP again.

    \b
    Example:
      berth certs:remove myapp
    """
    c = ctx()
    a = apps.require(c, app)

    def change() -> None:
        certs.remove(c, a)
        events.record(c.conn, actor=c.actor, app=app, action="certs.remove")

    routing.change(c, change)
    click.echo(f"-----> Removed the certificate of {app}")


@click.command("certs:report")
@click.argument("app")
@format_option
def report(app: str, fmt: str) -> None:
    """Show an app's certificate: subject, SANs, issuer, expiry.

    \b
    Example:
      berth certs:report myapp --format json
    """
    c = ctx()
    data = certs.report(c, apps.require(c, app))
    emit_json(data) if fmt == "json" else show_report(data, f"{app} certificate")


@click.command("tls:auto")
@click.argument("app")
@click.argument("state", type=click.Choice(["on", "off"]))
def tls_auto(app: str, state: str) -> None:
    """Obtain and renew certificates automatically by ACME (Caddy only).

    The CA is the setting `acme-ca` (a directory URL; empty for Let's Encrypt; `internal` for
    Caddy's own local CA, for offline setups) and `acme-email` the account's address.

    \b
    Example:
      berth tls:auto myapp on
      berth settings:set acme-ca internal
    """
    c = ctx()
    a = apps.require(c, app)

    def change() -> None:
        store_apps.set_setting(c.conn, a, "tls.auto", "on" if state == "on" else None)
        events.record(c.conn, actor=c.actor, app=app, action=f"tls.auto.{state}")

    routing.change(c, change)
    if state == "on" and routing.router_name(c) != "caddy":
        click.echo(" !     the nginx router cannot obtain certificates by ACME; "
                   "add one with certs:add or switch with router:set caddy", err=True)
    click.echo(f"-----> Automatic TLS {state} for {app}")


@click.command("tls:report")
@click.argument("app")
@format_option
def tls_report(app: str, fmt: str) -> None:
    """Show whether an app has TLS and where it comes from.

    \b
    Example:
      berth tls:report myapp
    """
    c = ctx()
    a = apps.require(c, app)
    data = {"app": app, "tls": routing.tls_mode(c, a.id) or "off",
            "tls_auto": store_apps.get_setting(c.conn, a, "tls.auto") == "on",
            "url": routing.url_for(c, app), "router": routing.router_name(c)}
    emit_json(data) if fmt == "json" else show_report(data, f"{app} TLS")
