"""SSH keys: each belongs to a named user; authorized_keys is written from the store with a
forced command, so a key can only ever run `berth ssh-shell --user NAME`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import pwd
import shlex
import shutil
import struct
import sys
from pathlib import Path

from berth import names
from berth.context import Ctx
from berth.errors import ValidationError
from berth.models import SSHKey
from berth.paths import default_root
from berth.store import events, keys, settings
from berth.store.db import transaction

KEY_TYPES = {
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
}
SSH_USER = "berth"


def parse_public_key(text: str) -> tuple[str, str, str]:
    """(type, base64 blob, SHA256 fingerprint) of one OpenSSH public key line; options
    or extra lines are refused."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) != 1:
        raise ValidationError("invalid public key: give exactly one key line")
    parts = lines[0].split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        raise ValidationError("invalid public key: expected '<type> <base64> [comment]' with "
                              "type one of " + ", ".join(sorted(KEY_TYPES)))
    kind, blob = parts[0], parts[1]
    try:
        raw = base64.b64decode(blob, validate=True)
        (n,) = struct.unpack(">I", raw[:4])
        inner = raw[4:4 + n].decode()
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise ValidationError("invalid public key: the key data is not valid") from None
    if inner != kind:
        raise ValidationError("invalid public key: the key data does not match its type")
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    return kind, blob, f"SHA256:{digest}"


def add(ctx: Ctx, user: str, text: str, *, role: str = "admin") -> SSHKey:
    names.user_name(user)
    kind, blob, fingerprint = parse_public_key(text)
    with transaction(ctx.conn):
        keys.ensure_user(ctx.conn, user, role)
        key = keys.add_key(ctx.conn, user, fingerprint, f"{kind} {blob}")
        events.record(ctx.conn, actor=ctx.actor, app=None, action="ssh-key.add",
                      details={"user": user, "fingerprint": fingerprint})
        write_authorized_keys(ctx)
    return key


def remove(ctx: Ctx, name_or_fingerprint: str) -> int:
    with transaction(ctx.conn):
        n = keys.remove(ctx.conn, name_or_fingerprint)
        events.record(ctx.conn, actor=ctx.actor, app=None, action="ssh-key.remove",
                      details={"key": name_or_fingerprint})
        write_authorized_keys(ctx)
    return n


def berth_command() -> str:
    found = shutil.which("berth")
    return found or str(Path(sys.argv[0]).resolve())


def forced_command(ctx: Ctx, user: str) -> str:
    argv = [berth_command()]
    if ctx.paths.root != default_root() or "BERTH_ROOT" in os.environ:
        argv += ["--root", str(ctx.paths.root)]
    argv += ["ssh-shell", "--user", user]
    return shlex.join(argv)


def authorized_keys_line(ctx: Ctx, key: SSHKey) -> str:
    cmd = forced_command(ctx, key.user).replace("\\", "\\\\").replace('"', '\\"')
    return f'command="{cmd}",restrict,pty {key.public_key} berth:{key.user}'


def authorized_keys_path(ctx: Ctx) -> Path:
    configured = settings.get(ctx.conn, "authorized-keys")
    if configured:
        return Path(configured)
    try:
        home = Path(pwd.getpwnam(SSH_USER).pw_dir)
    except KeyError:
        return ctx.paths.root / "authorized_keys"
    return home / ".ssh" / "authorized_keys"


def write_authorized_keys(ctx: Ctx) -> Path:
    path = authorized_keys_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = [authorized_keys_line(ctx, k) for k in keys.all_keys(ctx.conn)]
    tmp = path.with_name(path.name + ".berth-tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# Written by berth from its key store; edits here are lost.\n")
        f.write("".join(line + "\n" for line in lines))
    st = path.parent.stat()
    os.chown(tmp, st.st_uid, st.st_gid)
    tmp.replace(path)
    return path
