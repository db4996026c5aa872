"""Validation of every name a user gives berth. Validate once, at the edge; the message says
the rule, so a user can fix their input without reading the code."""

from __future__ import annotations

import re

from berth.errors import ValidationError

_APP = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_PROCESS = re.compile(r"[a-z][a-z0-9_-]*")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USER = re.compile(r"[a-z0-9][a-z0-9._-]*")
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def app_name(value: str) -> str:
    """An app name becomes a DNS label, a container name part and a directory name."""
    if not isinstance(value, str) or len(value) > 63 or not _APP.fullmatch(value):
        raise ValidationError(
            f"invalid app name {value!r}: use a-z, 0-9 and '-', starting and ending with a "
            "letter or digit (max 63)"
        )
    return value


def process_type(value: str) -> str:
    if len(value) > 30 or not _PROCESS.fullmatch(value):
        raise ValidationError(
            f"invalid process type {value!r}: use a-z, 0-9, '-' and '_', starting with a "
            "letter (max 30)"
        )
    return value


def env_key(value: str) -> str:
    if len(value) > 200 or not _ENV_KEY.fullmatch(value):
        raise ValidationError(
            f"invalid config key {value!r}: use A-Z, a-z, 0-9 and '_', not starting with a "
            "digit (max 200)"
        )
    return value


def env_value(key: str, value: str) -> str:
    if "\x00" in value:
        raise ValidationError(f"invalid value for {key}: NUL bytes are not allowed")
    try:
        size = len(value.encode())
    except UnicodeEncodeError:
        raise ValidationError(f"invalid value for {key}: not valid UTF-8") from None
    if size > 64 * 1024:
        raise ValidationError(f"invalid value for {key}: longer than 64 KiB")
    return value


def user_name(value: str) -> str:
    if len(value) > 64 or not _USER.fullmatch(value):
        raise ValidationError(
            f"invalid user name {value!r}: use a-z, 0-9, '.', '_' and '-', starting with a "
            "letter or digit (max 64)"
        )
    return value


def branch_name(value: str) -> str:
    bad = ".." in value or value.endswith((".lock", "/", ".")) or "//" in value
    if len(value) > 200 or bad or not _BRANCH.fullmatch(value):
        raise ValidationError(
            f"invalid branch name {value!r}: use letters, digits, '.', '_', '-' and '/'"
        )
    return value


_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def domain(value: str, *, wildcard: bool = True) -> str:
    """A host name as berth stores it: IDN as punycode, lower case, no trailing dot.
    `*.example.com` is allowed when ``wildcard``; a scheme, path, port or anything else that
    is not a host name is refused with the rule."""
    raw = value.strip() if isinstance(value, str) else ""
    rule = "a host name like app.example.com" + (" or *.example.com" if wildcard else "")
    if not raw:
        raise ValidationError(f"invalid domain {value!r}: empty; use {rule}")
    if "://" in raw:
        raise ValidationError(f"invalid domain {value!r}: no scheme (http://); use {rule}")
    if "/" in raw:
        raise ValidationError(f"invalid domain {value!r}: no path; use {rule}")
    if ":" in raw or raw.startswith("["):
        raise ValidationError(f"invalid domain {value!r}: no port; use {rule}")
    host = raw.rstrip(".")
    star = host.startswith("*.")
    if star:
        if not wildcard:
            raise ValidationError(f"invalid domain {value!r}: wildcards are not allowed here")
        host = host[2:]
    try:
        ascii_host = host.encode("idna").decode("ascii").lower() if host else ""
    except (UnicodeError, ValueError):
        raise ValidationError(f"invalid domain {value!r}: not a valid host name; use {rule}"
                              ) from None
    labels = ascii_host.split(".")
    if (not ascii_host or len(ascii_host) > 253 - (2 if star else 0)
            or not all(_LABEL.fullmatch(label) for label in labels)):
        raise ValidationError(f"invalid domain {value!r}: labels of a-z, 0-9 and '-' (not at "
                              f"either end, max 63), separated by dots; use {rule}")
    if labels[-1].isdigit():
        raise ValidationError(f"invalid domain {value!r}: IP addresses are not domains; "
                              f"use {rule}")
    if star and len(labels) < 2:
        raise ValidationError(f"invalid domain {value!r}: a wildcard needs at least two labels "
                              "after '*.', like *.example.com")
    return f"*.{ascii_host}" if star else ascii_host
