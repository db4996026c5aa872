"""Who may do what. Roles: `admin` (everything) and `user` (only apps granted to them, at
`deploy` or `manage` level). The local CLI (actor `root`) is an admin. Every refusal is the
same bare "permission denied", so it tells nothing about other apps.

`authorize(ctx, argv)` is called at the SSH and HTTP edges before any command runs; commands
not listed below are admin-only, so a new command is safe until someone decides otherwise."""

from __future__ import annotations

from berth.context import Ctx
from berth.errors import PermissionDenied
from berth.store import apps as store_apps
from berth.store import grants

LOCAL = "root"
LEVELS = {"read": 0, "deploy": 1, "manage": 2}

ANYONE = {"apps:list", "version", "--help", "help"}
READ = {"apps:report", "apps:exists", "config:show", "config:get", "config:export", "releases",
        "releases:info", "releases:output", "logs", "ps:report", "checks:report",
        "resource:report", "storage:list", "storage:report", "domains:report", "certs:report",
        "git:report", "cron:list", "ports:list", "events", "proxy:report", "maintenance:report",
        "redirect:report", "http-auth:report", "tls:report", "scheduler:report"}
DEPLOY = {"git:from-archive", "run", "run:detached", "enter", "ps:restart", "ps:rebuild",
          "releases:rollback", "cron:run"}
MANAGE = {"config:set", "config:unset", "config:import", "ps:scale", "ps:stop", "ps:start",
          "ps:set", "checks:set", "checks:enable", "checks:disable", "checks:skip",
          "domains:add", "domains:remove", "domains:set", "domains:clear", "domains:enable",
          "domains:disable", "ports:add", "ports:set", "ports:remove", "ports:clear",
          "certs:add", "certs:remove", "certs:generate", "tls:auto", "proxy:set",
          "proxy:enable", "proxy:disable", "http-auth:enable", "http-auth:disable",
          "redirect:set", "redirect:unset", "maintenance:on", "maintenance:off",
          "maintenance:set-page", "resource:limit", "resource:reserve",
          "resource:limit-clear", "resource:reserve-clear", "storage:mount",
          "storage:unmount", "git:set"}


def denied() -> PermissionDenied:
    return PermissionDenied("permission denied")


def is_admin(ctx: Ctx) -> bool:
    return ctx.actor == LOCAL or grants.role(ctx.conn, ctx.actor) == "admin"


def require_admin(ctx: Ctx) -> None:
    if not is_admin(ctx):
        raise denied()


def can(ctx: Ctx, app: str, need: str) -> bool:
    if is_admin(ctx):
        return True
    found = store_apps.find(ctx.conn, app)
    if found is None:
        return False
    have = grants.level(ctx.conn, found.id, ctx.actor)
    return have is not None and LEVELS[have] >= LEVELS[need]


def require_app(ctx: Ctx, app: str, need: str) -> None:
    if not can(ctx, app, need):
        raise denied()


def visible(ctx: Ctx, app_names: list[str]) -> list[str]:
    if is_admin(ctx):
        return app_names
    mine = grants.app_ids_for(ctx.conn, ctx.actor)
    ids = {a.name: a.id for a in store_apps.all_apps(ctx.conn)}
    return [n for n in app_names if ids.get(n) in mine]


def needed(command: str) -> str | None:
    """The level a command needs on its app, or None when it is admin-only."""
    for level, group in (("read", READ), ("deploy", DEPLOY), ("manage", MANAGE)):
        if command in group:
            return level
    return None


def app_argument(command: str, args: list[str]) -> str | None:
    """The app a command names, found by parsing its arguments the way the command will
    (so `logs -n 50 myapp` names myapp, not 50)."""
    import click

    from berth.cli.main import cli

    cmd = cli.get_command(click.Context(cli), command)
    if cmd is None:
        return None
    try:
        parsed = cmd.make_context(command, list(args), resilient_parsing=True)
    except click.ClickException:
        return None
    value = parsed.params.get("app", parsed.params.get("name"))
    return value if isinstance(value, str) else None


def authorize(ctx: Ctx, argv: list[str]) -> None:
    """Refuse a berth command (argv[0] is its name) this actor may not run."""
    if grants.role(ctx.conn, ctx.actor) is None and ctx.actor != LOCAL:
        raise denied()
    if is_admin(ctx) or argv[0] in ANYONE:
        return
    need = needed(argv[0])
    rest = argv[1:]
    if need is None or "--global" in rest or any(a.startswith("--allow-host") for a in rest):
        raise denied()
    app = app_argument(argv[0], rest)
    if app is None:
        raise denied()
    require_app(ctx, app, need)
