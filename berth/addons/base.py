"""What every add-on service type shares: names, the container spec (pure data), and the
argv of the commands run inside the service container. A type (postgres.py, mysql.py,
redis.py, or a plugin's) is an AddonType registered through the ``addon_types`` hook.

Where a service lives, for type TYPE and name NAME (PREFIX = berth.instance.prefix()):

    container   PREFIX.svc.TYPE.NAME, restart unless-stopped, labels berth.service.*
    network     PREFIX-svc.TYPE.NAME of its own, plus the network PREFIX-APP of every linked
                app, where it answers to the alias TYPE-NAME (the host in DATABASE_URL)
    data        ROOT/services/TYPE/NAME/data, bind-mounted at the type's data path
    image       the type's stack (berth/stack-TYPE:bookworm, built from Debian packages) or
                `--image REF`; stack images run berth's entrypoint script (scripts/TYPE.sh,
                mounted read-only), other images their own entrypoint with the environment
                conventions of the official images (POSTGRES_PASSWORD, MARIADB_*, ...)
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from berth.errors import PluginError, ValidationError
from berth.instance import prefix
from berth.store.services import Service

LABEL_TYPE = "berth.service.type"
LABEL_NAME = "berth.service.name"
LABEL_INSTANCE = "berth.instance"
ENTRYPOINT = "/berth/entrypoint.sh"

_NAME = re.compile(r"[a-z][a-z0-9-]*")
_ALIAS = re.compile(r"[A-Z][A-Z0-9_]*")
_PASSWORD = re.compile(r"[A-Za-z0-9._~-]{8,128}")


def service_name(value: str) -> str:
    if not isinstance(value, str) or len(value) > 40 or not _NAME.fullmatch(value) \
            or value.endswith("-"):
        raise ValidationError(f"invalid service name {str(value)[:60]!r}: use a-z, 0-9 and "
                              "'-', starting with a letter, not ending with '-' (max 40)")
    return value


def alias_name(value: str) -> str:
    """The link alias: DATABASE makes the config var DATABASE_URL."""
    if not isinstance(value, str) or len(value) > 60 or not _ALIAS.fullmatch(value):
        raise ValidationError(f"invalid alias {str(value)[:60]!r}: use A-Z, 0-9 and '_', "
                              "starting with a letter (max 60); the app gets ALIAS_URL")
    return value


def password(value: str) -> str:
    if not isinstance(value, str) or not _PASSWORD.fullmatch(value):
        raise ValidationError("invalid service password: 8-128 characters of A-Z, a-z, 0-9 "
                              "and '.', '_', '~', '-' (it goes into URLs unescaped)")
    return value


def db_name(name: str) -> str:
    """The database inside a postgres/mysql service: its name with '-' as '_'."""
    return name.replace("-", "_")


def container_name(type_: str, name: str) -> str:
    return f"{prefix()}.svc.{type_}.{name}"


def network_name(type_: str, name: str) -> str:
    return f"{prefix()}-svc.{type_}.{name}"


def host_alias(type_: str, name: str) -> str:
    """The host name linked apps reach the service by, on their own network."""
    return f"{type_}-{name}"


def service_dir(root: Path, type_: str, name: str) -> Path:
    return root / "services" / type_ / name


def labels(type_: str, name: str) -> dict[str, str]:
    return {LABEL_TYPE: type_, LABEL_NAME: name, LABEL_INSTANCE: prefix()}


class AddonType(ABC):
    """One kind of service. Subclasses set the class attributes and the argv methods."""

    name: str = ""
    stack: str = ""  # the stack whose image runs it (berth/builders/stacks.py)
    port: int = 0
    scheme: str = ""
    default_alias: str = "DATABASE"
    data_path: str = ""  # inside the container
    exec_user: str | None = None  # the user commands run as inside the container
    summary: str = ""

    # -- environment and URL
    @abstractmethod
    def environment(self, svc: Service) -> dict[str, str]:
        """Environment of the service container (its password among it)."""

    @abstractmethod
    def url(self, svc: Service, host: str) -> str:
        """The URL a linked app gets, with ``host`` the service's alias on the app's network."""

    def command(self, svc: Service, *, stack: bool) -> list[str] | None:
        """The container command: berth's entrypoint on stack images, else the image's own."""
        return ["/bin/sh", ENTRYPOINT] if stack else None

    def entrypoint_script(self) -> str:
        return resources.files("berth.addons").joinpath(f"scripts/{self.name}.sh").read_text()

    # -- commands run inside the service container (argv lists)
    @abstractmethod
    def ready_argv(self, svc: Service) -> list[str]:
        """Exits 0 once the service accepts connections."""

    @abstractmethod
    def connect_argv(self, svc: Service) -> list[str]:
        """The service's own interactive client."""

    @abstractmethod
    def export_argv(self, svc: Service) -> list[str]:
        """Writes a dump of the service's data to stdout."""

    @abstractmethod
    def import_argv(self, svc: Service, head: bytes) -> list[str]:
        """Reads a dump (what export wrote; ``head`` is its first bytes) on stdin into the
        service."""

    def export_filter(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """What export writes, from what the export command printed (as is by default)."""
        yield from chunks

    def check_dump(self, head: bytes) -> None:
        """Refuse a dump that cannot be this type's, from its first bytes, before anything
        is stopped or replaced."""
        if not head:
            raise ValidationError("the dump is empty: nothing was imported")

    def import_by_files(self) -> bool:
        """True when import replaces data files with the service stopped (services.py calls
        ``import_files``), False when ``import_argv`` reads the dump on stdin."""
        return False

    def import_files(self, data_dir: Path, chunks: Iterable[bytes]) -> None:
        """Write the dump into the stopped service's data directory."""
        raise PluginError(f"{self.name} services import through import_argv")


def service_spec(t: AddonType, svc: Service, *, root: Path, stack: bool) -> dict[str, Any]:
    """docker SDK keyword arguments for the service's container."""
    base = service_dir(root, t.name, svc.name)
    volumes = {str(base / "data"): {"bind": t.data_path, "mode": "rw"}}
    if stack:
        volumes[str(base / "entrypoint.sh")] = {"bind": ENTRYPOINT, "mode": "ro"}
    return {
        "image": svc.image,
        "name": container_name(t.name, svc.name),
        "command": t.command(svc, stack=stack),
        "environment": t.environment(svc),
        "labels": labels(t.name, svc.name),
        "network": network_name(t.name, svc.name),
        "hostname": host_alias(t.name, svc.name),
        "volumes": volumes,
        "restart_policy": {"Name": "unless-stopped"},
        "security_opt": ["no-new-privileges"],
        "init": True,
        "log_config": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
    }


def exec_argv(docker: str, container: str, argv: list[str], *, user: str | None = None,
              stdin: bool = False, tty: bool = False) -> list[str]:
    """`docker exec` of argv in the service container (no shell involved)."""
    out = [docker, "exec"]
    if stdin:
        out.append("-i")
    if tty:
        out.append("-t")
    if user:
        out += ["-u", user]
    return [*out, container, *argv]


def logs_argv(docker: str, container: str, *, tail: int, follow: bool) -> list[str]:
    return [docker, "logs", "--tail", str(tail), *(["--follow"] if follow else []), container]
