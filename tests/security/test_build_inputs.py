"""Hostile build inputs, pushed for real: each gets a clear refusal or a safe result, and a
refused push leaves the previous release serving."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.integration.conftest import APPS, Env, commit, make_repo, push

pytestmark = pytest.mark.integration


@pytest.fixture
def served(berth_env: Env, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, Path]:
    app = "hb-" + request.node.name.split("[")[0].removeprefix("test_")[:20].replace("_", "-")
    app = app.rstrip("-")
    repo = make_repo(APPS / "static", tmp_path / app)
    assert push(berth_env, repo, berth_env.ssh_remote(app)).returncode == 0
    return app, repo


def still_serving(env: Env, app: str) -> None:
    assert "hello from static" in env.get(app)[1]


def test_symlink_out_of_the_tree_is_refused(berth_env: Env, served):
    app, repo = served
    os.symlink("/etc/shadow", repo / "secret.txt")
    commit(repo, "link out")
    res = push(berth_env, repo, berth_env.ssh_remote(app))
    assert res.returncode != 0
    assert "refusing symlink 'secret.txt' -> '/etc/shadow'" in res.stderr
    still_serving(berth_env, app)


def test_relative_symlink_escaping_is_refused(berth_env: Env, served):
    app, repo = served
    (repo / "sub").mkdir()
    os.symlink("../../../../etc/passwd", repo / "sub" / "p")
    commit(repo, "link up")
    res = push(berth_env, repo, berth_env.ssh_remote(app))
    assert res.returncode != 0 and "points outside the tree" in res.stderr
    still_serving(berth_env, app)


def test_file_over_the_size_limit_is_refused(berth_env: Env, served):
    app, repo = served
    berth_env.berth("settings:set", "max-file-size", "1000")
    try:
        (repo / "big.bin").write_bytes(b"x" * 5000)
        commit(repo, "big")
        res = push(berth_env, repo, berth_env.ssh_remote(app))
    finally:
        berth_env.berth("settings:set", "max-file-size")
    assert res.returncode != 0 and "over the limit of 1000" in res.stderr
    still_serving(berth_env, app)


def test_non_utf8_file_names_build(berth_env: Env, served):
    app, repo = served
    name = b"caf\xe9-\xff.txt"
    with open(os.path.join(os.fsencode(repo), name), "wb") as f:
        f.write(b"latin-1 name")
    (repo / "index.html").write_text("<p>hello from static, odd names</p>")
    commit(repo, "odd name")
    res = push(berth_env, repo, berth_env.ssh_remote(app))
    assert res.returncode == 0, res.stderr
    berth_env.wait_for(app, "odd names")


def test_tampered_submodule_url_runs_nothing(berth_env: Env, served):
    app, repo = served
    marker = Path("/tmp/berth-submodule-pwned")
    marker.unlink(missing_ok=True)
    (repo / ".gitmodules").write_text(
        f'[submodule "evil"]\n\tpath = evil\n\turl = ext::sh -c touch% {marker}\n')
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                         text=True).stdout.strip()
    subprocess.run(["git", "update-index", "--add", "--cacheinfo", f"160000,{sha},evil"],
                   cwd=repo, check=True)
    commit(repo, "submodule")
    res = push(berth_env, repo, berth_env.ssh_remote(app))
    assert not marker.exists()
    if res.returncode == 0:  # the gitlink is ignored; the app still builds from its tree
        still_serving(berth_env, app)
    else:
        assert "gitmodules" in res.stderr.lower() or "fsck" in res.stderr.lower()


def test_empty_tree_is_a_clear_error(berth_env: Env, served):
    app, repo = served
    for p in repo.iterdir():
        if p.name != ".git":
            p.unlink()
    commit(repo, "empty")
    res = push(berth_env, repo, berth_env.ssh_remote(app))
    assert res.returncode != 0 and "no builder" in res.stderr.lower()
    still_serving(berth_env, app)


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_from_archive_deploys_a_tar_with_one_top_dir(berth_env: Env):
    data = _tar([_file("site/index.html", b"<p>hello from an archive</p>")])
    res = berth_env.berth("git:from-archive", "arch", check=False, stdin_bytes=data)
    assert res.returncode == 0, res.stderr
    berth_env.wait_for("arch", "hello from an archive")
    rels = json.loads(berth_env.berth("releases", "arch", "--format", "json").stdout)
    assert rels[0]["status"] == "succeeded"


@pytest.mark.parametrize("member", ["../evil.html", "/etc/evil", "a/../../evil"])
def test_from_archive_refuses_traversal(berth_env: Env, member: str):
    data = _tar([_file("index.html", b"<p>x</p>"), _file(member, b"evil")])
    res = berth_env.berth("git:from-archive", "arch-bad", check=False, stdin_bytes=data)
    assert res.returncode != 0 and "leaves the tree" in res.stderr
    assert not Path("/etc/evil").exists()


def test_from_archive_refuses_links_out(berth_env: Env):
    link = tarfile.TarInfo("index.html")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    res = berth_env.berth("git:from-archive", "arch-link", check=False,
                          stdin_bytes=_tar([(link, None)]))
    assert res.returncode != 0 and "points outside the tree" in res.stderr


def test_from_archive_zip_and_zip_traversal(berth_env: Env):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.html", "<p>hello from a zip</p>")
    res = berth_env.berth("git:from-archive", "arch-zip", check=False,
                          stdin_bytes=buf.getvalue())
    assert res.returncode == 0, res.stderr
    berth_env.wait_for("arch-zip", "hello from a zip")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../zip-evil", "x")
    res = berth_env.berth("git:from-archive", "arch-zip", check=False,
                          stdin_bytes=buf.getvalue())
    assert res.returncode != 0 and "leaves the tree" in res.stderr
    berth_env.wait_for("arch-zip", "hello from a zip")
