"""The postgres add-on: PostgreSQL from Debian's postgresql package (the `postgres` stack).

    DATABASE_URL   postgres://postgres:PASSWORD@postgres-NAME:5432/NAME (NAME's '-' as '_')
    export         pg_dump --format=custom (restore with import, or pg_restore)
    import         pg_restore --clean --if-exists --no-owner into the service's database
                   (a plain SQL dump goes through psql instead)
    connect        psql
"""

from __future__ import annotations

from berth.addons.base import AddonType, db_name
from berth.hooks import hookimpl
from berth.store.services import Service

CUSTOM_MAGIC = b"PGDMP"


class Postgres(AddonType):
    name = "postgres"
    stack = "postgres"
    port = 5432
    scheme = "postgres"
    default_alias = "DATABASE"
    data_path = "/var/lib/postgresql/data"
    exec_user = "postgres"
    summary = "PostgreSQL databases"

    def environment(self, svc: Service) -> dict[str, str]:
        return {"POSTGRES_PASSWORD": svc.password, "POSTGRES_USER": "postgres",
                "POSTGRES_DB": db_name(svc.name), "PGDATA": self.data_path}

    def url(self, svc: Service, host: str) -> str:
        return f"postgres://postgres:{svc.password}@{host}:{self.port}/{db_name(svc.name)}"

    def ready_argv(self, svc: Service) -> list[str]:
        return ["pg_isready", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", db_name(svc.name)]

    def connect_argv(self, svc: Service) -> list[str]:
        return ["psql", "-U", "postgres", db_name(svc.name)]

    def export_argv(self, svc: Service) -> list[str]:
        return ["pg_dump", "--format=custom", "--no-owner", "-U", "postgres", db_name(svc.name)]

    def import_argv(self, svc: Service, head: bytes) -> list[str]:
        if head.startswith(CUSTOM_MAGIC):
            return ["pg_restore", "--clean", "--if-exists", "--no-owner", "--exit-on-error",
                    "-U", "postgres", "-d", db_name(svc.name)]
        return ["psql", "--quiet", "--set", "ON_ERROR_STOP=1", "-U", "postgres",
                db_name(svc.name)]


@hookimpl
def addon_types() -> list[AddonType]:
    return [Postgres()]
