"""Bare git repositories, one per app, with berth's pre-receive hook."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from berth.errors import BerthError, DeployError

HOOK = """#!/bin/sh
# Written by berth: builds and deploys the pushed commit. Do not edit.
exec {python} -m berth.hook --root {root} pre-receive
"""


def hook_text(root: Path) -> str:
    return HOOK.format(python=shlex.quote(sys.executable), root=shlex.quote(str(root)))


def create(repo: Path, root: Path) -> None:
    if not (repo / "HEAD").exists():
        repo.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["git", "init", "--quiet", "--bare", str(repo)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise BerthError(f"cannot create the git repository: {proc.stderr.strip()}")
        subprocess.run(["git", "-C", str(repo), "config", "receive.fsckObjects", "true"],
                       check=True)
    install_hook(repo, root)


def install_hook(repo: Path, root: Path) -> None:
    hook = repo / "hooks" / "pre-receive"
    hook.parent.mkdir(parents=True, exist_ok=True)
    tmp = hook.with_suffix(".tmp")
    tmp.write_text(hook_text(root))
    os.chmod(tmp, 0o755)
    tmp.replace(hook)


def remove(repo: Path) -> None:
    shutil.rmtree(repo, ignore_errors=True)


def head_sha(repo: Path, branch: str) -> str | None:
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet",
                           f"refs/heads/{branch}^{{commit}}"], capture_output=True, text=True)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def require_unmoved(repo: Path, branch: str, old: str) -> None:
    """Refuse to deploy a push whose branch moved after git advertised it to the client
    (another push got there first): git would refuse the ref update after the deploy."""
    now = head_sha(repo, branch) or "0" * 40
    if now != old:
        where = "was deleted" if set(now) == {"0"} else f"moved to {now[:7]}"
        raise DeployError(f"{branch} {where} while this push waited for the deploy lock "
                          "(another push got there first); nothing was deployed: fetch, "
                          "then push again")
