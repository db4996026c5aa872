"""logs and releases:output: an app's merged log, the router's access log, build output."""

from __future__ import annotations

import click

from berth.cli.common import ctx


@click.command("logs")
@click.argument("app")
@click.option("-t", "--tail", "follow_", is_flag=True, help="Keep printing new lines.")
@click.option("-n", "--num", "num", type=click.IntRange(0, 100_000), default=100,
              show_default=True, help="How many past lines to print.")
@click.option("-p", "--ps", "process", default=None, metavar="TYPE",
              help="Only this process type (web, web.1, cron, run ...), or `router` for the "
                   "router's access log.")
@click.option("-q", "--quiet", is_flag=True, help="Print the text only, without prefixes.")
def logs_(app: str, follow_: bool, num: int, process: str | None, quiet: bool) -> None:
    """Show an app's logs: every container's output merged in time order, kept on disk across
    deploys and restarts (collected by `berth server`). Lines look like
    `2026-01-02T03:04:05Z app[web.1]: text`; `-p router` shows the access log as
    `METHOD PATH STATUS DURATIONms`.

    \b
    Example:
      berth logs myapp -n 50
      berth logs myapp -t -p web
      berth logs myapp -p router
    """
    import re

    from berth import apps, logs
    from berth.cli.follow import Stop, echo
    from berth.errors import ValidationError

    c = ctx()
    a = apps.get(c, app)
    if process is not None and not re.fullmatch(r"[a-z][a-z0-9_-]{0,29}(\.[a-z0-9]{1,20})?",
                                                process):
        raise ValidationError(f"invalid -p {process[:40]!r}: a process type (web), one "
                              "process (web.1, cron.ID) or router")

    def emit(rec: logs.Record) -> None:
        echo(rec.show(quiet=quiet))

    if process == "router":
        if follow_:
            logs.router_follow(c.paths, a.name, num, emit, Stop())
        else:
            for rec in logs.router_tail(c.paths, a.name, num):
                emit(rec)
        return
    if follow_:
        logs.follow(c.paths, a.name, num, process, emit, Stop())
        return
    for rec in logs.tail(c.paths, a.name, num, process):
        emit(rec)


@click.command("releases:output")
@click.argument("app")
@click.argument("version")
def release_output(app: str, version: str) -> None:
    """Print the build and deploy output of a release, as the push showed it.

    \b
    Example:
      berth releases:output myapp v3
    """
    from berth import apps, logs
    from berth.errors import NotFound, ValidationError
    from berth.store import releases

    c = ctx()
    a = apps.get(c, app)
    v = version.removeprefix("v")
    if not v.isdigit() or len(v) > 9:
        raise ValidationError(f"invalid release {version[:20]!r}: use vN, e.g. v3")
    rel = releases.get(c.conn, a, int(v))
    path = logs.build_log(c.paths, a.name, rel.version)
    if not path.is_file():
        raise NotFound(f"no build output kept for {rel.label} of {a.name} (only pushes "
                       "record one)")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            click.echo(line.rstrip("\n"))
