"""Writing a file so readers see the old text or the new, never a part."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, text: str, *, mode: int | None = None,
                 if_changed: bool = False) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``.
    ``mode``: the new file's permissions (default: as ``open`` would, under the umask);
    ``if_changed``: leave ``path`` alone when it already holds ``text``."""
    if if_changed:
        try:
            if path.read_text() == text:
                return
        except OSError:
            pass
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o666 if mode is None else mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
