"""Safe tar extraction: every member is checked before anything is written. Absolute paths,
`..`, links that leave the tree, devices and fifos are refused with the member's name.
(Python's own tarfile 'data' filter is missing from the 3.11 that Debian 12 ships.)"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import zipfile
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


def extract(tar: tarfile.TarFile, dest: Path, *, max_bytes: int | None = None,
            max_file: int | None = None) -> int:
    """Extract a (possibly streamed) tar into dest; returns the bytes written."""
    total = 0
    dest = dest.resolve()
    for m in tar:
        check_member(m)
        if max_file is not None and m.isfile() and m.size > max_file:
            raise ValidationError(f"file {m.name!r} is {m.size} bytes, over the limit of "
                                  f"{max_file} (setting max-file-size)")
        total += m.size if m.isfile() else 0
        if max_bytes is not None and total > max_bytes:
            raise ValidationError(f"the tree is larger than the limit of {max_bytes} bytes "
                                  "(setting max-tree-size)")
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


def check_zip_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    if "\x00" in name or "\\" in name or not _inside(name):
        raise ValidationError(f"refusing archive member {name!r}: its path leaves the tree")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise ValidationError(f"refusing archive member {name!r}: links and devices are not "
                              "allowed in zip archives")


def extract_zip(zf: zipfile.ZipFile, dest: Path, *, max_bytes: int | None = None,
                max_file: int | None = None) -> int:
    total = 0
    for info in zf.infolist():
        check_zip_member(info)
        if max_file is not None and info.file_size > max_file:
            raise ValidationError(f"file {info.filename!r} is over the limit of {max_file} "
                                  "bytes (setting max-file-size)")
        total += info.file_size
        if max_bytes is not None and total > max_bytes:
            raise ValidationError(f"the tree is larger than the limit of {max_bytes} bytes "
                                  "(setting max-tree-size)")
    for info in zf.infolist():
        zf.extract(info, dest)
    return total
