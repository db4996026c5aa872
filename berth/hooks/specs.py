"""Every hook berth calls, in one file. docs/plugins.md is generated from these signatures and
docstrings (berth/hooks/docs.py); a unit test fails when they drift apart.

Kinds of hook (the manager calls each kind its own way):

    pre_*       before a change; a Python plugin that raises, or a shell hook that exits
                non-zero, aborts the change with its message (PluginError) and nothing changes
    post_*      after a change was committed; a failure is reported and logged and never undoes
                or corrupts anything
    value       env_for_app, router_config: plugins add to or amend what berth computed
    registry    builders, routers, schedulers, addon_types, cli_commands: plugins contribute
                backends and commands (Python only)
    reconcile   called on every pass of `berth server`'s reconciler

Every hook may take ``ctx`` (berth.context.Ctx: ``ctx.conn`` the store, ``ctx.paths.root``,
``ctx.out`` for output lines, ``ctx.actor``); a plugin's function lists only the arguments it
uses, by name. Shell hooks get the other arguments as argv, in the order shown (None as "",
a list as one word per item, last).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from berth.hooks import hookspec

if TYPE_CHECKING:
    from berth.context import Ctx
    from berth.routers.base import Route


@hookspec
def post_create(ctx: Ctx, app: str) -> None:
    """An app was created (`apps:create`, or the first push to a new name) and committed."""


@hookspec
def pre_build(ctx: Ctx, app: str, sha: str, src: str) -> None:
    """Before an app's pushed commit ``sha`` is built. ``src`` is the checked-out tree, a
    directory the hook may read and change (the build sees the change). Abort to refuse the
    push: nothing is built and the app keeps serving its current release."""


@hookspec
def post_build(ctx: Ctx, app: str, sha: str, image: str) -> None:
    """An app's image was built: ``image`` is the image id, not yet released."""


@hookspec
def pre_deploy(ctx: Ctx, app: str, version: int, image: str) -> None:
    """Before release ``version`` runs its release command and starts any container. Abort to
    refuse the deploy: the release is marked failed and the previous one keeps serving. Also
    called for config changes, rollbacks and restarts that start a new release."""


@hookspec
def post_deploy(ctx: Ctx, app: str, version: int, url: str) -> None:
    """Release ``version`` serves traffic at ``url``; old containers are being retired."""


@hookspec
def pre_delete(ctx: Ctx, app: str) -> None:
    """Before `apps:destroy` removes anything of the app. Abort to refuse the destroy."""


@hookspec
def post_delete(ctx: Ctx, app: str) -> None:
    """The app, its containers, images, repository and state are gone."""


@hookspec
def post_config_update(ctx: Ctx, app: str, keys: list[str]) -> None:
    """Config vars ``keys`` were set or unset (values are never passed). ``app`` is "" for
    global config. Called before the app restarts with the new config."""


@hookspec
def post_domains_update(ctx: Ctx, app: str, domains: list[str]) -> None:
    """An app's domains changed (`domains:add/remove/set/clear/enable/disable`), the routes
    are applied; ``domains`` is every host the app now answers on."""


@hookspec
def router_config(ctx: Ctx, app: str, route: Route) -> Route | None:
    """Amend the route of an app before it goes to the router. Return a changed copy
    (``dataclasses.replace(route, ...)``) or None to keep it; plugins are chained, each gets
    the previous one's result. A shell hook gets the route as JSON in its last argument and
    may print a JSON object of the fields to change (``{"max_body": 1048576}``)."""


@hookspec
def env_for_app(ctx: Ctx, app: str) -> dict[str, str] | None:
    """Extra environment variables for an app's containers, fixed into each new release.
    The app's own config vars win over these. A shell hook prints ``KEY=VALUE`` lines."""


@hookspec
def addon_types() -> list[Any] | None:
    """Add-on service types (berth.addons.base.AddonType instances); each gets the commands
    ``TYPE:create``, ``TYPE:link`` ... The built-in postgres, mysql and redis use this hook.
    Python only."""


@hookspec
def builders() -> list[Any] | None:
    """Builders (berth.builders.base.BuilderInfo: name, factory, order, looked_for). Pushes
    walk them by ``order``, the first whose ``detect`` says yes builds. The built-in
    dockerfile and buildpack builders use this hook. Python only."""


@hookspec
def routers() -> dict[str, Any] | None:
    """Routers by name: a factory ``(ctx) -> berth.routers.base.Router``; `routing.router`
    builds the selected one (`berth router:set`) from them. The built-in caddy and nginx
    routers use this hook. Python only."""


@hookspec
def schedulers() -> dict[str, Any] | None:
    """Schedulers by name: a factory ``(ctx) -> berth.schedulers.base.Scheduler``;
    `berth.schedulers.selected` builds the one an app uses (`berth scheduler:set APP NAME`,
    else the `scheduler` setting) from them. The built-in docker-local scheduler uses this
    hook. berth's reconciler repairs only docker-local's apps: a plugin scheduler heals its
    own in its `reconcile` hook. Python only."""


@hookspec
def cli_commands() -> dict[str, Any] | None:
    """Commands to add: ``{"NAMESPACE:NAME": click.Command}``. They appear in `berth --help`,
    run like built-in ones, and over SSH for admins. A name berth already has is ignored with
    a warning. Every command needs help text with an ``Example:`` block. Python only."""


@hookspec
def reconcile(ctx: Ctx) -> None:
    """Called on every pass of `berth server`'s reconciler (every few seconds) after app
    containers were repaired: heal whatever the plugin owns. Must be quick and idempotent."""
