"""The built-in `addons` plugin: what makes add-on types work, through ordinary hooks.

    cli_commands   TYPE:create, TYPE:link ... for every type the addon_types hook returns
    pre_deploy     linked services run and sit on the app's network before its containers
                   start (also after `apps:rename`); networks of apps that no longer exist
                   are left
    pre_delete     services leave the app's network, so `apps:destroy` can remove it
    reconcile      restart killed service containers, repair network links (reconcile.py)
"""

from __future__ import annotations

from typing import Any

from berth.context import Ctx
from berth.hooks import hookimpl


@hookimpl
def cli_commands() -> dict[str, Any]:
    from berth.addons.cli import commands_for
    from berth.hooks import manager

    out: dict[str, Any] = {}
    for t in manager.addon_types().values():
        out.update(commands_for(t))
    return out


def _linked(ctx: Ctx, app: str) -> list[tuple[Any, Any]]:
    """(AddonType, Service) of every service linked to ``app``."""
    from berth.hooks import manager
    from berth.store import apps as store_apps
    from berth.store import services as store

    found = store_apps.find(ctx.conn, app)
    if found is None:
        return []
    types = manager.addon_types(ctx.paths.root)
    return [(types[lk.type], store.get(ctx.conn, lk.type, lk.service))
            for lk in store.links_of_app(ctx.conn, found.id) if lk.type in types]


@hookimpl
def pre_deploy(ctx: Ctx, app: str) -> None:
    from berth.addons import services
    from berth.schedulers import specs
    from berth.store import apps as store_apps

    current = {specs.network_name(a.name) for a in store_apps.all_apps(ctx.conn)}
    for t, svc in _linked(ctx, app):
        container = services.start(ctx, t, svc)
        for net in services.networks_of(container):
            if net.startswith(specs.network_name("")) and net != \
                    services.base.network_name(t.name, svc.name) and net not in current:
                services.disconnect(container, net)


@hookimpl
def pre_delete(ctx: Ctx, app: str) -> None:
    from berth.addons import services
    from berth.schedulers import specs

    for t, svc in _linked(ctx, app):
        container = services.find_container(t, svc.name)
        if container is not None:
            services.disconnect(container, specs.network_name(app))


@hookimpl
def reconcile(ctx: Ctx) -> None:
    from berth.addons import reconcile as services_reconcile

    services_reconcile.reconcile(ctx)
