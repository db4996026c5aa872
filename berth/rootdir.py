"""Where berth's state root and its store are, as plain strings. berth.paths builds on this;
the fast entry (berth/entry.py) uses it directly, without pathlib or dataclasses."""

from __future__ import annotations

import os

DB_NAME = "berth.db"


def default_root() -> str:
    """$BERTH_ROOT, else /var/lib/berth for root, else ~/.local/share/berth."""
    env = os.environ.get("BERTH_ROOT")
    if env:
        return env
    if os.geteuid() == 0:
        return "/var/lib/berth"
    return os.path.join(os.path.expanduser("~"), ".local", "share", "berth")
