"""Safe tar extraction: every member is checked before anything is written. Absolute paths,
`..`, links that leave the tree, devices and fifos are refused with the member's name.
(Python's own tarfile 'data' filter is missing from the 3.11 that Debian 12 ships.)"""

from __future__ import annotations

import os
import posixpath
import tarfile
from pathlib import Path

from berth.errors import ValidationError


def _inside(path: str) -> bool:
    norm = posixpath.normpath(path)
    return not (norm.startswith("/") or norm == ".." or norm.startswith("../"))


def check_member(m: tarfile.TarInfo) -> None:
    name = m.name
    if "\x00" in name or not _inside(name):
        raise ValidationError(f"refusing archive member {name!r}: its path leaves the tree")
    if m.issym():
        target = posixpath.join(posixpath.dirname(name), m.linkname)
        if m.linkname.startswith("/") or not _inside(target):
            raise ValidationError(
                f"refusing symlink {name!r} -> {m.linkname!r}: it points outside the tree")
    elif m.islnk():
        if not _inside(m.linkname):
            raise ValidationError(f"refusing hard link {name!r}: it points outside the tree")
    elif not (m.isfile() or m.isdir()):
        raise ValidationError(f"refusing archive member {name!r}: not a file or directory")


def extract(tar: tarfile.TarFile, dest: Path, *, max_bytes: int | None = None) -> int:
    """Extract a (possibly streamed) tar into dest; returns the bytes written."""
    total = 0
    dest = dest.resolve()
    for m in tar:
        check_member(m)
        total += m.size if m.isfile() else 0
        if max_bytes is not None and total > max_bytes:
            raise ValidationError(f"the tree is larger than the limit of {max_bytes} bytes")
        target = dest / m.name
        # a parent that is a symlink could redirect the write: resolve and re-check
        parent = target.parent.resolve()
        if parent != dest and dest not in parent.parents:
            raise ValidationError(f"refusing archive member {m.name!r}: its path leaves the tree")
        m.mode = (m.mode & 0o755) | (0o644 if m.isfile() else 0o700)
        m.uid = m.gid = 0
        m.uname = m.gname = ""
        tar.extract(m, dest, set_attrs=False, numeric_owner=True)
        if m.isfile() or m.isdir():
            os.chmod(target, 0o755 if m.isdir() or m.mode & 0o100 else 0o644)
    return total
