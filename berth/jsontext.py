"""The JSON every `--format json` prints: indented, keys sorted, anything else as str.
No typing import: the fast entry (berth/entry.py) loads this."""

from __future__ import annotations

import json


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str)
