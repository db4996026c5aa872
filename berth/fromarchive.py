"""`git:from-archive`: deploy a tar or zip upload. The archive is checked member by member,
committed into the app's repository and pushed to it, so it takes the same path as any push
(the pre-receive hook builds and deploys it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

from berth import apps, archive
from berth.context import Ctx
from berth.errors import BerthError, ValidationError
from berth.store import apps as store_apps
from berth.store import settings

IDENT = ["-c", "user.name=berth", "-c", "user.email=berth@localhost"]


def spool(stream: BinaryIO, dest: Path, limit: int) -> int:
    size = 0
    with open(dest, "wb") as f:
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise ValidationError(f"the archive is larger than the limit of {limit} bytes "
                                      "(setting max-tree-size)")
            f.write(chunk)
    if size == 0:
        raise ValidationError("the archive is empty: send a tar or zip on stdin")
    return size


def unpack(path: Path, dest: Path, fmt: str, *, max_bytes: int, max_file: int) -> None:
    try:
        if fmt == "zip" or (fmt == "auto" and zipfile.is_zipfile(path)):
            with zipfile.ZipFile(path) as zf:
                archive.extract_zip(zf, dest, max_bytes=max_bytes, max_file=max_file)
        else:
            with tarfile.open(path, mode="r:*") as tar:
                archive.extract(tar, dest, max_bytes=max_bytes, max_file=max_file)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as e:
        raise ValidationError(f"cannot read the archive: {e}") from None


def root_of(tree: Path) -> Path:
    """An archive holding a single top-level directory is deployed from inside it."""
    entries = [p for p in tree.iterdir()]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return tree


def deploy(ctx: Ctx, app: str, stream: BinaryIO, *, fmt: str = "auto") -> int:
    if fmt not in ("auto", "tar", "zip"):
        raise ValidationError(f"unknown archive format {fmt!r}: use tar or zip")
    if not apps.exists(ctx, app):
        apps.create(ctx, app)
    a = store_apps.get(ctx.conn, app)
    branch = store_apps.get_setting(ctx.conn, a, "deploy-branch") or "main"
    max_bytes = int(settings.get(ctx.conn, "max-tree-size"))
    max_file = int(settings.get(ctx.conn, "max-file-size"))
    work = Path(tempfile.mkdtemp(prefix=f"{app}-archive-", dir=ctx.paths.builds))
    try:
        spool(stream, work / "upload", max_bytes)
        tree = work / "tree"
        tree.mkdir()
        unpack(work / "upload", tree, fmt, max_bytes=max_bytes, max_file=max_file)
        src = root_of(tree)
        if (src / ".git").exists():
            shutil.rmtree(src / ".git")
        git = ["git", "-C", str(src), *IDENT]
        for argv in ([*git, "init", "-q", "-b", branch], [*git, "add", "-A", "-f"],
                     [*git, "commit", "-q", "--allow-empty", "-m", "Deploy from archive"]):
            proc = subprocess.run(argv, capture_output=True, text=True)
            if proc.returncode != 0:
                raise BerthError(f"cannot commit the archive: {proc.stderr.strip()}")
        env = {**os.environ, "BERTH_ACTOR": ctx.actor, "BERTH_ROOT": str(ctx.paths.root)}
        push = subprocess.run([*git, "push", "-q", "--force", str(ctx.paths.repo(app)),
                               f"HEAD:refs/heads/{branch}"], env=env)
        return push.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)
