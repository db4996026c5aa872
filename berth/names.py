"""Validation of every name a user gives berth. Validate once, at the edge; the message says
the rule, so a user can fix their input without reading the code."""

from __future__ import annotations

import re

from berth.errors import ValidationError

_APP = re.compile(r"[a-z0-9][a-z0-9-]*")
_PROCESS = re.compile(r"[a-z][a-z0-9_-]*")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_USER = re.compile(r"[a-z0-9][a-z0-9._-]*")
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def app_name(value: str) -> str:
    """An app name becomes a DNS label, a container name part and a directory name."""
    if not isinstance(value, str) or len(value) > 63 or not _APP.fullmatch(value):
        raise ValidationError(
            f"invalid app name {value!r}: use a-z, 0-9 and '-', starting with a letter or "
            "digit (max 63)"
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
    if len(value.encode()) > 64 * 1024:
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
