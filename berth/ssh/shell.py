"""`berth ssh-shell --user NAME`: run what the SSH client asked for, if it is allowed.

SSH_ORIGINAL_COMMAND is split with a real tokenizer (shlex, POSIX rules; nothing is ever
evaluated); the first word must be git-receive-pack / git-upload-pack with one repo argument,
or a berth command. Everything else is refused."""

from __future__ import annotations

import os
import shlex
import sys
from typing import TYPE_CHECKING

from berth import names
from berth.errors import NotFound, PermissionDenied, ValidationError

if TYPE_CHECKING:
    from berth.context import Ctx

MAX_COMMAND = 8192
GIT = {"git-receive-pack", "git-upload-pack", "git receive-pack", "git upload-pack"}


def tokenize(command: str) -> list[str]:
    if len(command) > MAX_COMMAND:
        raise ValidationError(f"command longer than {MAX_COMMAND} characters")
    if any(c in command for c in "\x00\r\n"):
        raise ValidationError("control characters are not allowed in commands")
    try:
        return shlex.split(command, posix=True)
    except ValueError as e:
        raise ValidationError(f"cannot parse the command: {e}") from None


def repo_app(arg: str) -> str:
    """`'myapp'`, `myapp.git`, `/myapp.git` or `~/myapp` name the app myapp; nothing else."""
    name = arg
    for prefix in ("~/", "/"):
        name = name.removeprefix(prefix)
    name = name.removesuffix("/").removesuffix(".git")
    return names.app_name(name)


def classify(argv: list[str], allowed: set[str]) -> tuple[str, list[str]]:
    """('git', [service, app]) or ('berth', argv); raises for anything else."""
    if not argv:
        raise ValidationError("no command given")
    if argv[0] == "git" and len(argv) >= 2:
        argv = [f"git-{argv[1]}", *argv[2:]]
    if argv[0] in ("git-receive-pack", "git-upload-pack"):
        if len(argv) != 2:
            raise ValidationError(f"{argv[0]} takes exactly one repository")
        return "git", [argv[0], repo_app(argv[1])]
    if argv[0] in ("help", "--help", "-h"):
        return "berth", ["--help"]
    if argv[0] not in allowed:
        raise PermissionDenied(f"command {argv[0][:60]!r} is not allowed here; "
                               "try `ssh berth@HOST help`")
    return "berth", argv


def run(user: str) -> int:
    from berth.cli.main import INTERNAL, all_commands
    from berth.cli.main import run as cli_run
    from berth.context import Ctx

    names.user_name(user)
    os.environ["BERTH_ACTOR"] = user
    command = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    if not command.strip():
        sys.stderr.write(f"Hi {user}! berth gives no shell here. "
                         "Push with git, or run: ssh berth@HOST help\n")
        return 1
    from berth import apps, permissions
    from berth.store import apps as store_apps

    ctx = Ctx(actor=user)
    kind, args = classify(tokenize(command), all_commands() - INTERNAL)
    if kind == "berth":
        if args != ["--help"]:
            permissions.authorize(ctx, args)
        return cli_run(args)
    service, app = args
    repo = ctx.paths.repo(app)
    if store_apps.find(ctx.conn, app) is None:
        if not permissions.is_admin(ctx):
            raise permissions.denied()
        if service == "git-upload-pack":
            raise NotFound(f"app {app!r} does not exist")
        apps.create(ctx, app)
        sys.stderr.write(f"-----> Created {app}\n")
    else:
        permissions.require_app(ctx, app, "deploy" if service == "git-receive-pack" else "read")
    if service == "git-receive-pack":
        os.environ.update(push_lock(ctx, app))
    os.execvp(service, [service, str(repo)])
    return 1  # not reached


def push_lock(ctx: Ctx, app: str) -> dict[str, str]:
    """Take the app's deploy lock before git advertises the refs and hand it down to
    git-receive-pack and its hook (the environment to exec with): parallel pushes to one app
    then run one after the other, each against the refs the one before left, instead of all
    deploying and all but one being refused at the ref update."""
    from berth import locks
    from berth.deploy import app_lock_path
    from berth.store import settings

    def err(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    path = app_lock_path(ctx, app)
    fd = locks.acquire(path, what=f"another deploy of {app} to finish", out=err,
                       timeout=float(settings.get(ctx.conn, "lock-timeout")), holder=ctx.actor)
    # git's auto gc then runs before receive-pack exits, not detached holding the lock
    return {**locks.hand_down(fd, path), "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "gc.autoDetach", "GIT_CONFIG_VALUE_0": "false"}
