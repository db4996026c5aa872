"""server and ssh-shell: the two long-lived entry points."""

from __future__ import annotations

import os
import sys

import click

from berth.cli.common import ctx


@click.command("server")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between reconciles.")
@click.option("--once", is_flag=True, help="Reconcile once and exit.")
@click.option("--cron-tick", default=5.0, show_default=True,
              type=click.FloatRange(0.5, 60),
              help="Seconds between checks for due cron entries.")
def server(interval: float, once: bool, cron_tick: float) -> None:
    """Run berth's server: supervise the router, serve git over HTTP, repair drift, keep
    app logs on disk, run cron entries.

    \b
    Example:
      berth server
    """
    from berth.server.loop import serve

    serve(ctx(), interval=interval, once=once, cron_tick=cron_tick)


@click.command("ssh-shell")
@click.option("--user", required=True, help="The user the SSH key belongs to.")
def ssh_shell(user: str) -> None:
    """The forced command behind every berth SSH key (not for direct use).

    \b
    Example (in authorized_keys):
      command="berth ssh-shell --user alice",restrict,pty ssh-ed25519 AAAA...
    """
    from berth.ssh import shell

    if os.geteuid() != 0 and "BERTH_ROOT" not in os.environ:
        # the `berth` SSH user hands over to root through one sudo rule (see install.sh)
        argv = ["sudo", "-n", sys.argv[0]]
        os.execvp("sudo", [*argv, "ssh-shell", "--user", user])
    raise SystemExit(shell.run(user))
