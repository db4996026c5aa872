import os

import pytest

from berth import storage
from berth.context import Ctx
from berth.errors import NotFound, PermissionDenied, ValidationError
from berth.paths import Paths


@pytest.fixture
def ctx(tmp_path):
    from berth import apps

    c = Ctx(paths=Paths(tmp_path / "root"), actor="root", out=lambda line: None)
    apps.create(c, "myapp")
    return c


@pytest.mark.parametrize("spec, parsed", [
    ("/a/b:/data", ("/a/b", "/data", False)),
    ("/a/b/:/data/:ro", ("/a/b", "/data", True)),
    ("/a//b:/srv/x:rw", ("/a/b", "/srv/x", False)),
])
def test_mount_specs(spec, parsed):
    assert storage.parse_spec(spec) == parsed


@pytest.mark.parametrize("spec, why", [
    ("relative:/data", "absolute"), ("/a:data", "absolute"), ("/a/../etc:/data", ".."),
    ("/a:/b:/c", "optionally :ro"), ("/a", "optionally :ro"), ("/a:/b:rx", "optionally :ro"),
    ("/a:/", "system"), ("/a:/proc/x", "system"), ("/a:/etc", "system"), ("/a:/usr", "system"),
    ("/a b:/data", "absolute"), ("/a:/data;rm", "absolute"), ("/a:/da\nta", "absolute"),
])
def test_bad_mount_specs_say_the_rule(spec, why):
    with pytest.raises(ValidationError) as e:
        storage.parse_spec(spec)
    assert why in str(e.value)


@pytest.mark.parametrize("bad", ["", "..", "a/b", "A", "-x", "x" * 64, "a..b"])
def test_directory_names(bad):
    with pytest.raises(ValidationError, match="storage directory name"):
        storage.directory_name(bad)


def test_ensure_mount_list_unmount(ctx, tmp_path):
    from berth.store import apps as store_apps
    from berth.store import events

    path = storage.ensure_directory(ctx, "data", chown="false")
    assert path == ctx.paths.root / "storage" / "data" and path.is_dir()
    assert oct(path.stat().st_mode & 0o777) == "0o750"
    m = storage.mount(ctx, "myapp", f"{path}:/data")
    assert (m.host, m.container, m.read_only) == (str(path), "/data", False)
    app = store_apps.get(ctx.conn, "myapp")
    assert storage.mounts(ctx, app) == (m,)
    with pytest.raises(ValidationError, match="already mounts"):
        storage.mount(ctx, "myapp", f"{path}:/data")
    rep = storage.report(ctx, "myapp")
    assert rep["mounts"] == [{"host": str(path), "container": "/data", "read_only": False,
                              "exists": True}]
    assert storage.report(ctx, None)["directories"] == ["data"]
    with pytest.raises(NotFound):
        storage.unmount(ctx, "myapp", "/other")
    storage.unmount(ctx, "myapp", f"{path}:/data")
    assert storage.mounts(ctx, app) == ()
    actions = [e.action for e in events.recent(ctx.conn)]
    assert actions[:3] == ["storage.unmount", "storage.mount", "storage.ensure-directory"]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_ensure_directory_owned_by_the_app_user(ctx):
    path = storage.ensure_directory(ctx, "owned")
    assert (path.stat().st_uid, path.stat().st_gid) == (1000, 1000)


def test_host_paths_outside_storage_need_the_flag(ctx, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(ValidationError, match="--allow-host-path"):
        storage.mount(ctx, "myapp", f"{outside}:/data")
    storage.mount(ctx, "myapp", f"{outside}:/data", allow_host_path=True)
    with pytest.raises(ValidationError, match="does not exist"):
        storage.mount(ctx, "myapp", f"{tmp_path}/missing:/x")
    for bad in (ctx.paths.root, ctx.paths.root / "repos", "/"):
        with pytest.raises(ValidationError, match="cannot be mounted|storage root"):
            storage.mount(ctx, "myapp", f"{bad}:/x", allow_host_path=True)
    # a link inside the storage root that leads out of it is judged by its target
    storage.ensure_directory(ctx, "d", chown="false")
    link = ctx.paths.root / "storage" / "link"
    link.symlink_to(outside)
    with pytest.raises(ValidationError, match="--allow-host-path"):
        storage.mount(ctx, "myapp", f"{link}:/y")


def test_allow_host_path_is_for_admins_only(ctx, tmp_path, monkeypatch):
    from berth import permissions

    outside = tmp_path / "o"
    outside.mkdir()
    monkeypatch.setattr(permissions, "is_admin", lambda c: False)
    with pytest.raises(PermissionDenied):
        storage.mount(ctx, "myapp", f"{outside}:/data", allow_host_path=True)
