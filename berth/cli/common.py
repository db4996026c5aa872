"""Shared CLI pieces: the context, output formats."""

from __future__ import annotations

import os
from typing import Any

import click

from berth.context import Ctx
from berth.jsontext import dumps

format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]),
                             default="text", show_default=True, help="Output format.")


def ctx() -> Ctx:
    return Ctx(actor=os.environ.get("BERTH_ACTOR", "root"))


def emit_json(data: Any) -> None:
    click.echo(dumps(data))


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=False)).rstrip())


def report(data: dict[str, Any], title: str) -> None:
    click.echo(f"=====> {title}")
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        if isinstance(value, dict):
            value = " ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = " ".join(str(v) for v in value)
        label = key.replace("_", " ") + ":"
        click.echo(f"       {label:<{width + 2}}{'' if value is None else value}")
