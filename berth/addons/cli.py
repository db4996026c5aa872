"""The commands every add-on type gets (`postgres:create`, `redis:link` ...), built from the
AddonType so a plugin's type gets the same set. They parse and call addons/services.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from berth.addons import services
from berth.addons.base import AddonType
from berth.cli.common import ctx, emit_json, format_option, table
from berth.cli.common import report as show_report
from berth.errors import ValidationError

VERBS = ("create", "info", "list", "link", "unlink", "logs", "connect", "export", "import",
         "backup", "destroy")


def commands_for(t: AddonType) -> dict[str, click.Command]:
    """``{"TYPE:VERB": command}`` for one add-on type."""
    n = t.name
    out: dict[str, click.Command] = {}

    def add(verb: str, help_text: str, example: str) -> Any:
        def deco(fn: Any) -> click.Command:
            cmd = click.command(f"{n}:{verb}", help=f"{help_text}\n\n\b\nExample:\n  {example}")(fn)
            out[f"{n}:{verb}"] = cmd
            return cmd
        return deco

    @add("create", f"Create a {n} service: a container from the {t.stack} stack (or --image) "
         f"with its data in the berth root.", f"berth {n}:create db")
    @click.argument("name")
    @click.option("--image", default=None, help="Image to run instead of the berth stack "
                  "(must be on this host already).")
    @click.option("--password-from-env", "password_env", default=None, metavar="VAR",
                  help="Take the password from this environment variable (default: random).")
    def create(name: str, image: str | None, password_env: str | None) -> None:
        password = None
        if password_env:
            if password_env not in os.environ:
                raise ValidationError(f"--password-from-env: {password_env} is not set")
            password = os.environ[password_env]
        services.create(ctx(), t, name, image=image, password=password)
        click.echo(f"=====> {n} service {name} created; link it: berth {n}:link {name} APP")

    @add("info", f"Show a {n} service: status, image, URL (password hidden unless --reveal), "
         "data directory and links.", f"berth {n}:info db --format json")
    @click.argument("name")
    @click.option("--reveal", is_flag=True, help="Show the password in the URL.")
    @format_option
    def info(name: str, reveal: bool, fmt: str) -> None:
        data = services.info(ctx(), t, name, reveal=reveal)
        if fmt == "json":
            emit_json(data)
        else:
            show_report(data, f"{n} service {name}")

    @add("list", f"List {n} services.", f"berth {n}:list")
    @format_option
    def list_(fmt: str) -> None:
        rows = services.list_(ctx(), t)
        if fmt == "json":
            emit_json(rows)
            return
        table([[r["name"], r["status"], ", ".join(r["links"]) or "-"] for r in rows],
              ["name", "status", "linked apps"])

    @add("link", f"Link a {n} service to an app: the app gets {t.default_alias}_URL (or "
         "ALIAS_URL), a new release, and a restart.",
         f"berth {n}:link db myapp --alias {t.default_alias}")
    @click.argument("name")
    @click.argument("app")
    @click.option("--alias", default=None, metavar="ALIAS",
                  help=f"Config var prefix (default {t.default_alias}: {t.default_alias}_URL).")
    def link(name: str, app: str, alias: str | None) -> None:
        var = services.link(ctx(), t, name, app, alias)
        click.echo(f"=====> {app} now has {var}")

    @add("unlink", f"Unlink a {n} service from an app: its URL var goes, the app restarts.",
         f"berth {n}:unlink db myapp")
    @click.argument("name")
    @click.argument("app")
    def unlink(name: str, app: str) -> None:
        var = services.unlink(ctx(), t, name, app)
        click.echo(f"=====> {app} no longer has {var}")

    @add("logs", f"Show a {n} service's logs.", f"berth {n}:logs db -n 50 --follow")
    @click.argument("name")
    @click.option("-n", "--num", "tail", default=100, show_default=True, type=int,
                  help="Lines to show.")
    @click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
    def logs(name: str, tail: int, follow: bool) -> None:
        raise click.exceptions.Exit(services.logs(ctx(), t, name, tail=tail, follow=follow))

    @add("connect", f"Open the {n} service's own client (a terminal with `ssh -t`; without "
         "one it reads commands from stdin).", f"ssh -t berth@myserver {n}:connect db")
    @click.argument("name")
    def connect(name: str) -> None:
        raise click.exceptions.Exit(services.connect(ctx(), t, name))

    @add("export", f"Write a dump of a {n} service to stdout (streamed).",
         f"berth {n}:export db > db.dump")
    @click.argument("name")
    def export(name: str) -> None:
        if sys.stdout.isatty():
            raise ValidationError("refusing to write a dump to a terminal; redirect it: "
                                  f"berth {n}:export {name} > {name}.dump")
        services.export(ctx(), t, name, sys.stdout.buffer)

    @add("import", f"Load a dump (what {n}:export wrote) from stdin into a {n} service.",
         f"berth {n}:import db < db.dump")
    @click.argument("name")
    def import_(name: str) -> None:
        if sys.stdin.isatty():
            raise ValidationError(f"give the dump on stdin: berth {n}:import {name} < FILE")
        services.import_(ctx(), t, name, sys.stdin.buffer)
        click.echo(f"=====> Imported into {n} service {name}", err=True)

    @add("backup", f"Save a dump of a {n} service into a directory, keeping the newest N.",
         f"berth {n}:backup db --dir /srv/backups --keep 7")
    @click.argument("name")
    @click.option("--dir", "directory", default=None, type=click.Path(file_okay=False),
                  help="Where (default ROOT/backups/TYPE/NAME).")
    @click.option("--keep", default=7, show_default=True, type=int,
                  help="How many backups of this service to keep.")
    def backup(name: str, directory: str | None, keep: int) -> None:
        path, removed = services.backup(ctx(), t, name, keep=keep,
                                        directory=Path(directory) if directory else None)
        click.echo(f"=====> Backup written: {path}")
        for p in removed:
            click.echo(f"       removed {p.name}")

    @add("destroy", f"Destroy a {n} service and its data (refused while linked).",
         f"berth {n}:destroy db --force")
    @click.argument("name")
    @click.option("--force", is_flag=True, help="Do not ask for the name again.")
    def destroy(name: str, force: bool) -> None:
        c = ctx()
        services.get(c, t, name)
        if not force:
            click.echo(f" !     This destroys {n} service {name} and all its data.")
            answer = click.prompt(f" !     To proceed, type the service name ({name})",
                                  default="", show_default=False)
            if answer != name:
                raise click.ClickException("confirmation did not match; nothing was destroyed")
        services.destroy(c, t, name)
        click.echo(f"=====> {n} service {name} destroyed")

    return out
