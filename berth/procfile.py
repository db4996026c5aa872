"""Procfile parsing: `type: command` lines; comments and blank lines ignored."""

from __future__ import annotations

from berth import names
from berth.errors import ValidationError

MAX_SIZE = 64 * 1024


def parse(text: str) -> dict[str, str]:
    if len(text.encode(errors="surrogatepass")) > MAX_SIZE:
        raise ValidationError("invalid Procfile: larger than 64 KiB")
    out: dict[str, str] = {}
    for n, raw in enumerate(text.split("\n"), 1):  # not splitlines: \x1e is no newline
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            raise ValidationError(f"invalid Procfile line {n}: expected 'type: command'")
        ptype, command = (part.strip() for part in line.split(":", 1))
        try:
            names.process_type(ptype)
        except ValidationError as e:
            raise ValidationError(f"invalid Procfile line {n}: {e}") from None
        if not command:
            raise ValidationError(f"invalid Procfile line {n}: empty command for {ptype!r}")
        if "\x00" in command:
            raise ValidationError(f"invalid Procfile line {n}: NUL byte in command")
        if ptype in out:
            raise ValidationError(f"invalid Procfile line {n}: {ptype!r} is defined twice")
        out[ptype] = command
    return out
