"""Several berth roots can share one Docker engine (tests beside a real install): each names
and labels its containers, networks and images with its own prefix."""

from __future__ import annotations

import hashlib
from pathlib import Path

from berth.paths import default_root

SYSTEM_ROOT = Path("/var/lib/berth")


def prefix() -> str:
    root = default_root()
    if root == SYSTEM_ROOT:
        return "berth"
    return "b" + hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:7]
