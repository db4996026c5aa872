import pytest

from berth import permissions
from berth.cli.main import COMMANDS
from berth.context import Ctx
from berth.errors import PermissionDenied
from berth.paths import Paths
from berth.store import apps, grants, keys


@pytest.fixture
def ctx(tmp_path):
    c = Ctx(paths=Paths(tmp_path), actor="root")
    for name in ("mine", "theirs"):
        apps.create(c.conn, name)
    keys.ensure_user(c.conn, "bob", "user")
    keys.ensure_user(c.conn, "ann", "admin")
    grants.grant(c.conn, apps.get(c.conn, "mine").id, "bob", "deploy")
    return c


def as_(ctx, user):
    return Ctx(paths=ctx.paths, actor=user, _conn=ctx.conn)


def test_local_and_admins_may_do_anything(ctx):
    for user in ("root", "ann"):
        permissions.authorize(as_(ctx, user), ["apps:destroy", "theirs"])


@pytest.mark.parametrize("argv", [["releases", "mine"], ["run", "mine", "ls"],
                                  ["apps:list"], ["config:get", "mine", "X"]])
def test_deploy_grant_allows(ctx, argv):
    permissions.authorize(as_(ctx, "bob"), argv)


@pytest.mark.parametrize("argv", [["releases", "theirs"], ["config:set", "mine", "A=1"],
                                  ["config:set", "--global", "A=1"], ["apps:destroy", "mine"],
                                  ["settings:show"], ["storage:mount", "mine", "--allow-host-path",
                                                      "/etc:/x"],
                                  ["some:future-command", "mine"], ["releases"]])
def test_everything_else_denied_plainly(ctx, argv):
    with pytest.raises(PermissionDenied, match="^permission denied$"):
        permissions.authorize(as_(ctx, "bob"), argv)


def test_unknown_actor_denied(ctx):
    with pytest.raises(PermissionDenied):
        permissions.authorize(as_(ctx, "mallory"), ["apps:list"])


def test_visible(ctx):
    assert permissions.visible(as_(ctx, "bob"), ["mine", "theirs"]) == ["mine"]


def test_rule_tables_name_only_real_or_planned_commands():
    groups = permissions.READ | permissions.DEPLOY | permissions.MANAGE
    assert not groups & permissions.ANYONE
    assert len(groups) == len(permissions.READ) + len(permissions.DEPLOY) + \
        len(permissions.MANAGE)
    assert {"config:set", "releases", "apps:report"} <= set(COMMANDS) & groups


@pytest.mark.parametrize("argv", [["logs", "-n", "50", "mine"], ["logs", "mine", "-n", "5"],
                                  ["apps:report", "--format", "json", "mine"]])
def test_app_found_after_options_with_values(ctx, argv):
    permissions.authorize(as_(ctx, "bob"), argv)


def test_option_value_naming_an_app_does_not_grant(ctx):
    with pytest.raises(PermissionDenied):
        permissions.authorize(as_(ctx, "bob"), ["logs", "-n", "mine", "theirs"])
