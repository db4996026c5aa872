"""stacks:* commands: base images built here from Debian packages."""

from __future__ import annotations

import click

from berth.cli.common import ctx, emit_json, format_option, table


@click.command("stacks:build")
@click.argument("names", nargs=-1)
@click.option("--force", is_flag=True, help="Rebuild even when up to date.")
@click.option("--mirror", default=None, help="Debian mirror URL (default: the host's).")
def build(names: tuple[str, ...], force: bool, mirror: str | None) -> None:
    """Build the base image and the stacks (python, node, static) from Debian packages.
    Safe to run again: up-to-date images are skipped.

    \b
    Example:
      berth stacks:build
      berth stacks:build python --force
    """
    from berth.builders import stacks
    from berth.stackconf import ca_bundle

    c = ctx()
    stacks.build_stacks(list(names) or None, ca_bundle=ca_bundle(c), force=force,
                        cache_dir=c.paths.cache / "debootstrap", mirror=mirror, out=click.echo)


@click.command("stacks:list")
@format_option
def list_(fmt: str) -> None:
    """List the stack images and whether they are built.

    \b
    Example:
      berth stacks:list
    """
    from berth.builders import stacks

    rows = stacks.list_stacks()
    if fmt == "json":
        emit_json(rows)
        return
    table([[str(r["name"]), str(r["image"]), (r["id"] or "not built")[:19]] for r in rows],
          ["stack", "image", "id"])
