"""The mysql add-on: MariaDB from Debian's mariadb-server package (the `mysql` stack).

    DATABASE_URL   mysql://berth:PASSWORD@mysql-NAME:3306/NAME (NAME's '-' as '_')
    export         mariadb-dump --single-transaction (plain SQL)
    import         the SQL, through the mariadb client, into the service's database
    connect        mariadb

Inside the container, root connects through the unix socket without a password (what the
commands above use); over the network, root and the app user `berth` need the password.
"""

from __future__ import annotations

from berth.addons.base import AddonType, db_name
from berth.hooks import hookimpl
from berth.store.services import Service

USER = "berth"


class MySQL(AddonType):
    name = "mysql"
    stack = "mysql"
    port = 3306
    scheme = "mysql"
    default_alias = "DATABASE"
    data_path = "/var/lib/mysql"
    summary = "MySQL-compatible databases (MariaDB)"

    def environment(self, svc: Service) -> dict[str, str]:
        return {"MARIADB_ROOT_PASSWORD": svc.password, "MARIADB_DATABASE": db_name(svc.name),
                "MARIADB_USER": USER, "MARIADB_PASSWORD": svc.password}

    def url(self, svc: Service, host: str) -> str:
        return f"mysql://{USER}:{svc.password}@{host}:{self.port}/{db_name(svc.name)}"

    def ready_argv(self, svc: Service) -> list[str]:
        return ["mariadb-admin", "--protocol=socket", "ping", "--silent"]

    def connect_argv(self, svc: Service) -> list[str]:
        return ["mariadb", db_name(svc.name)]

    def export_argv(self, svc: Service) -> list[str]:
        return ["mariadb-dump", "--single-transaction", "--routines", "--triggers",
                "--hex-blob", db_name(svc.name)]

    def import_argv(self, svc: Service, head: bytes) -> list[str]:
        return ["mariadb", db_name(svc.name)]


@hookimpl
def addon_types() -> list[AddonType]:
    return [MySQL()]
