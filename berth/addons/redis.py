"""The redis add-on: Redis from Debian's redis-server package (the `redis` stack).

    REDIS_URL      redis://:PASSWORD@redis-NAME:6379/0
    persistence    append-only file, fsync every second, in the data directory
    export         an RDB snapshot (`redis-cli --rdb -`, as `redis-cli --rdb` writes it)
    import         the RDB becomes the base of a fresh append-only file, service stopped
    connect        redis-cli (authenticated through REDISCLI_AUTH in the container)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from berth.addons.base import AddonType
from berth.errors import ValidationError
from berth.hooks import hookimpl
from berth.store.services import Service

AOF_DIR = "appendonlydir"
BASE_FILE = "appendonly.aof.1.base.rdb"
MANIFEST = "appendonly.aof.manifest"
# `redis-cli --rdb -` ends a diskless transfer with the 40-byte EOF mark it cannot truncate
# from a pipe; an RDB itself ends with 0xFF and an 8-byte checksum.
MARK = 40
_HEX = frozenset(b"0123456789abcdef")


class Redis(AddonType):
    name = "redis"
    stack = "redis"
    port = 6379
    scheme = "redis"
    default_alias = "REDIS"
    data_path = "/data"
    summary = "Redis key-value stores"

    def environment(self, svc: Service) -> dict[str, str]:
        return {"REDIS_PASSWORD": svc.password, "REDISCLI_AUTH": svc.password}

    def command(self, svc: Service, *, stack: bool) -> list[str] | None:
        if stack:
            return super().command(svc, stack=stack)
        return ["redis-server", "--appendonly", "yes", "--requirepass", svc.password]

    def url(self, svc: Service, host: str) -> str:
        return f"redis://:{svc.password}@{host}:{self.port}/0"

    def ready_argv(self, svc: Service) -> list[str]:
        return ["redis-cli", "--no-auth-warning", "ping"]

    def connect_argv(self, svc: Service) -> list[str]:
        return ["redis-cli", "--no-auth-warning"]

    def export_argv(self, svc: Service) -> list[str]:
        return ["redis-cli", "--no-auth-warning", "--rdb", "-"]

    def import_argv(self, svc: Service, head: bytes) -> list[str]:
        return []  # import_by_files: the RDB replaces the data files

    def export_filter(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        yield from strip_eof_mark(chunks)

    def check_dump(self, head: bytes) -> None:
        if not head.startswith(b"REDIS"):
            raise ValidationError("not a Redis RDB dump (it must start with 'REDIS'): "
                                  "nothing was imported")

    def import_by_files(self) -> bool:
        return True

    def import_files(self, data_dir: Path, chunks: Iterable[bytes]) -> None:
        write_aof_base(data_dir, chunks)


def strip_eof_mark(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Pass the stream through, holding back its last 49 bytes; drop the trailing 40-byte EOF
    mark when the stream ends with one after the RDB's 0xFF + checksum."""
    held = b""
    for chunk in chunks:
        held += chunk
        if len(held) > MARK + 9:
            yield held[:-(MARK + 9)]
            held = held[-(MARK + 9):]
    if len(held) == MARK + 9 and held[0] == 0xFF and set(held[-MARK:]) <= _HEX:
        held = held[:-MARK]
    yield held


def write_aof_base(data_dir: Path, chunks: Iterable[bytes]) -> None:
    """Make the RDB stream the base of a new append-only file: Redis loads it on start and
    appends from there. The old append-only files are removed only once the new one is
    complete (written beside them, then swapped in)."""
    import shutil

    new = data_dir / (AOF_DIR + ".import")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    with open(new / BASE_FILE, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
    (new / MANIFEST).write_text(f"file {BASE_FILE} seq 1 type b\n")
    old = data_dir / AOF_DIR
    if old.exists():
        shutil.rmtree(old)
    for stale in ("dump.rdb",):
        (data_dir / stale).unlink(missing_ok=True)
    new.rename(old)


@hookimpl
def addon_types() -> list[AddonType]:
    return [Redis()]
