"""Which CA bundle builds trust, and which image each stack uses (settings)."""

from __future__ import annotations

from pathlib import Path

from berth.context import Ctx
from berth.errors import ValidationError
from berth.store import settings

HOST_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def ca_bundle(ctx: Ctx) -> Path | None:
    """The `ca-bundle` setting: a file path, `none`, or empty for the host's bundle (so a
    host behind a TLS-intercepting proxy builds images that trust it too)."""
    value = settings.get(ctx.conn, "ca-bundle")
    if value == "none":
        return None
    path = Path(value) if value else HOST_BUNDLE
    if not path.is_file():
        if value:
            raise ValidationError(f"ca-bundle {value!r} is not a readable file")
        return None
    return path


def overrides(ctx: Ctx) -> dict[str, str]:
    return {k.removeprefix("stack."): v for k, v in settings.all_settings(ctx.conn).items()
            if k.startswith("stack.")}
