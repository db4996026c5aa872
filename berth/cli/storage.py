"""storage:* commands: persistent directories bind-mounted into an app's containers."""

from __future__ import annotations

import click

from berth.cli.common import ctx, emit_json, format_option, table

APPLIES = "applies on the next deploy or `berth ps:restart {app}`"


@click.command("storage:ensure-directory")
@click.argument("name")
@click.option("--chown", type=click.Choice(["app", "root", "false"]), default="app",
              show_default=True,
              help="Owner: `app` is uid 1000, the user the stack images run apps as.")
def ensure_directory(name: str, chown: str) -> None:
    """Create a directory for persistent data under the storage root (ROOT/storage/NAME).

    \b
    Example:
      berth storage:ensure-directory myapp-data
      berth storage:mount myapp /var/lib/berth/storage/myapp-data:/app/data
    """
    from berth import storage

    path = storage.ensure_directory(ctx(), name, chown=chown)
    click.echo(f"-----> {path} is ready")


@click.command("storage:mount")
@click.argument("app")
@click.argument("mount")
@click.option("--allow-host-path", is_flag=True,
              help="Allow a host path outside the storage root (admins only).")
def mount(app: str, mount: str, allow_host_path: bool) -> None:
    """Mount a host directory into every container of the app (HOST:CONTAINER, add :ro for
    read-only). Data there survives redeploys, rollbacks and rebuilds.

    \b
    Example:
      berth storage:mount myapp /var/lib/berth/storage/myapp-data:/app/data
    """
    from berth import storage

    m = storage.mount(ctx(), app, mount, allow_host_path=allow_host_path)
    click.echo(f"-----> Mounted {m.host} at {m.container}{' (read-only)' if m.read_only else ''}"
               f" for {app}; " + APPLIES.format(app=app))


@click.command("storage:unmount")
@click.argument("app")
@click.argument("mount")
def unmount(app: str, mount: str) -> None:
    """Remove a mount (HOST:CONTAINER, or just the container path). The data stays on the host.

    \b
    Example:
      berth storage:unmount myapp /var/lib/berth/storage/myapp-data:/app/data
    """
    from berth import storage

    m = storage.unmount(ctx(), app, mount)
    click.echo(f"-----> Unmounted {m.host} from {m.container} for {app}; "
               + APPLIES.format(app=app))


@click.command("storage:list")
@click.argument("app")
@format_option
def list_(app: str, fmt: str) -> None:
    """List an app's mounts.

    \b
    Example:
      berth storage:list myapp --format json
    """
    from berth import storage

    data = storage.report(ctx(), app)["mounts"]
    if fmt == "json":
        emit_json(data)
        return
    click.echo(f"=====> {app} volume bind-mounts")
    table([[m["host"], m["container"], "ro" if m["read_only"] else "rw"]
           for m in data], ["host", "container", "mode"])


@click.command("storage:report")
@click.argument("app", required=False)
@format_option
def report(app: str | None, fmt: str) -> None:
    """Show the storage root, its directories and every app's mounts (or one app's).

    \b
    Example:
      berth storage:report --format json
    """
    from berth import storage

    data = storage.report(ctx(), app)
    if fmt == "json":
        emit_json(data)
        return
    click.echo(f"=====> storage{' of ' + app if app else ''}")
    click.echo(f"       storage root: {data['storage_root']}")
    if "directories" in data:
        click.echo(f"       directories:  {' '.join(data['directories']) or '-'}")
    per_app = {app: data["mounts"]} if app else data["apps"]
    for name, mounts in per_app.items():
        for m in mounts:
            click.echo(f"       {name}: {m['host']} -> {m['container']}"
                       f"{' (ro)' if m['read_only'] else ''}")
