"""Stack recipes as data: Dockerfile texts, argv lists, mirror parsing, hash/idempotence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from berth.builders import stacks
from berth.errors import BuildError, ValidationError

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""


def test_image_names() -> None:
    assert stacks.BASE_IMAGE == "berth/base:bookworm"
    assert stacks.local_image("python") == "berth/stack-python:bookworm"
    assert stacks.local_image("node") == "berth/stack-node:bookworm"
    assert stacks.local_image("static") == "berth/stack-static:bookworm"
    with pytest.raises(ValidationError, match="unknown stack 'ruby'"):
        stacks.local_image("ruby")


def test_stack_image_override() -> None:
    assert stacks.stack_image("python", {}) == "berth/stack-python:bookworm"
    assert stacks.stack_image("python", {"python": "python:3.12-slim"}) == "python:3.12-slim"
    assert stacks.stack_image("node", {"python": "x"}) == "berth/stack-node:bookworm"
    assert stacks.stack_image("node", {"node": ""}) == "berth/stack-node:bookworm"


@pytest.mark.parametrize(("name", "packages"), [
    ("python", "python3 python3-venv python3-pip"),
    ("node", "nodejs npm"),
    ("static", "busybox"),
])
def test_stack_dockerfile(name: str, packages: str) -> None:
    text = stacks.stack_dockerfile(name)
    lines = text.splitlines()
    assert lines[0] == "FROM berth/base:bookworm"
    assert text.count("RUN ") == 1  # one layer
    assert "apt-get install -y --no-install-recommends" in text
    assert f"    {packages} \\" in lines
    assert "rm -rf /var/lib/apt/lists/*" in text
    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "NODE_EXTRA_CA_CERTS"):
        assert f"{var}=/etc/ssl/certs/ca-certificates.crt" in text


def test_stack_dockerfile_unknown() -> None:
    with pytest.raises(ValidationError):
        stacks.stack_dockerfile("cobol")


def test_debootstrap_argv(tmp_path: Path) -> None:
    argv = stacks.debootstrap_argv(tmp_path / "root", cache_dir=tmp_path / "cache",
                                   mirror="http://mirror.test/debian")
    assert argv == [
        "debootstrap", "--variant=minbase", "--include=ca-certificates",
        f"--cache-dir={tmp_path / 'cache'}", "bookworm", str(tmp_path / "root"),
        "http://mirror.test/debian",
    ]


def test_debootstrap_cache_dir_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = stacks.debootstrap_argv(Path("r"), cache_dir=Path("cache"), mirror="http://m/")
    assert argv[3] == f"--cache-dir={tmp_path / 'cache'}"


def test_chroot_commands() -> None:
    root = Path("/tmp/rootfs")
    assert stacks.chroot_argv(root, "update-ca-certificates") == [
        "chroot", "/tmp/rootfs", "update-ca-certificates"]
    cmds = stacks.base_commands(root)
    assert cmds[0] == ["chroot", "/tmp/rootfs", "update-ca-certificates"]
    assert cmds[1] == ["chroot", "/tmp/rootfs", "useradd", "--uid", "1000", "--user-group",
                       "--create-home", "--shell", "/bin/bash", "app"]


def test_base_changes() -> None:
    changes = stacks.base_changes("abc")
    assert "LABEL berth.stack.hash=abc" in changes
    assert "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt" in changes
    assert any(c.startswith("ENV PATH=") for c in changes)


def test_prepare_and_clean_root(tmp_path: Path) -> None:
    (tmp_path / "var/lib/apt/lists").mkdir(parents=True)
    (tmp_path / "var/lib/apt/lists/deb.debian.org_dists").write_text("x")
    (tmp_path / "var/lib/apt/lists/partial").mkdir()
    stacks.prepare_root(tmp_path, b"PEM")
    assert (tmp_path / stacks.EXTRA_CA_PATH).read_bytes() == b"PEM"
    assert (tmp_path / "etc/dpkg/dpkg.cfg.d/berth-excludes").is_file()
    stacks.clean_root(tmp_path)
    assert list((tmp_path / "var/lib/apt/lists").iterdir()) == []


def test_prepare_root_without_ca(tmp_path: Path) -> None:
    stacks.prepare_root(tmp_path, None)
    assert not (tmp_path / stacks.EXTRA_CA_PATH).exists()


# ---------------------------------------------------------------- mirror


def test_parse_deb822() -> None:
    st = stacks.parse_deb822(DEB822)
    assert len(st) == 2
    assert st[0]["uris"] == "http://deb.debian.org/debian"
    assert st[0]["suites"] == "bookworm bookworm-updates"


def test_parse_one_line() -> None:
    text = ("# comment\n"
            "deb [signed-by=/usr/share/keyrings/x.gpg] http://ftp.test/debian bookworm main\n"
            "deb-src http://ftp.test/debian bookworm main\n"
            "deb http://security.test/debian-security bookworm-security main\n")
    assert stacks.parse_one_line(text) == [
        ("http://ftp.test/debian", "bookworm"),
        ("http://security.test/debian-security", "bookworm-security"),
    ]


def test_pick_mirror_prefers_the_suite() -> None:
    pairs = [("http://sec.test/debian-security", "bookworm-security"),
             ("http://a.test/debian", "bookworm-updates"),
             ("http://b.test/debian", "bookworm")]
    assert stacks.pick_mirror(pairs) == "http://b.test/debian"
    # another release on the host: any non-security source will do
    assert stacks.pick_mirror([("http://sec.test/x", "trixie-security"),
                               ("http://c.test/debian", "trixie")]) == "http://c.test/debian"
    assert stacks.pick_mirror([("cdrom:[Debian]/", "bookworm")]) is None


def test_host_sources(tmp_path: Path) -> None:
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "debian.sources").write_text(DEB822)
    (d / "off.sources").write_text("Types: deb\nURIs: http://off.test/\nSuites: bookworm\n"
                                   "Enabled: no\n")
    (d / "extra.list").write_text("deb http://extra.test/debian bookworm main\n")
    pairs = stacks.host_sources(tmp_path / "missing.list", d)
    assert ("http://deb.debian.org/debian", "bookworm") in pairs
    assert ("http://deb.debian.org/debian-security", "bookworm-security") in pairs
    assert ("http://extra.test/debian", "bookworm") in pairs
    assert not any(u.startswith("http://off.test") for u, _ in pairs)
    assert stacks.pick_mirror(pairs) == "http://deb.debian.org/debian"


def test_detect_mirror_override_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stacks, "host_sources", lambda: [])
    assert stacks.detect_mirror("http://override.test/debian") == "http://override.test/debian"
    with pytest.raises(BuildError, match="--mirror"):
        stacks.detect_mirror(None)


# ---------------------------------------------------------------- hash and idempotence


def test_recipe_hash() -> None:
    h = stacks.recipe_hash("FROM x\n", b"CA")
    assert h == stacks.recipe_hash("FROM x\n", b"CA")
    assert h != stacks.recipe_hash("FROM y\n", b"CA")
    assert h != stacks.recipe_hash("FROM x\n", b"CA2")
    assert h != stacks.recipe_hash("FROM x\n", None)
    assert h != stacks.recipe_hash("FROM x\n", b"CA", "sha256:base")
    # parts are length-prefixed: moving bytes between them changes the hash
    assert stacks.recipe_hash("ab", b"c") != stacks.recipe_hash("a", b"bc")


def test_base_recipe_ignores_mirror_and_paths() -> None:
    r = stacks.base_recipe()
    assert "debootstrap --variant=minbase --include=ca-certificates" in r
    assert "useradd" in r
    assert "MIRROR" in r and "deb.debian.org" not in r


def test_needs_build() -> None:
    assert stacks.needs_build(None, "h", force=False)
    assert stacks.needs_build({}, "h", force=False)
    assert stacks.needs_build({stacks.HASH_LABEL: "old"}, "h", force=False)
    assert not stacks.needs_build({stacks.HASH_LABEL: "h"}, "h", force=False)
    assert stacks.needs_build({stacks.HASH_LABEL: "h"}, "h", force=True)


class FakeAPI:
    """Just enough of docker.APIClient for build_stacks."""

    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}
        self.builds: list[str] = []

    def inspect_image(self, ref: str) -> dict[str, Any]:
        if ref not in self.images:
            raise docker.errors.ImageNotFound(ref)
        return self.images[ref]

    def build(self, **kw: Any) -> Any:
        tag = kw["tag"]
        self.builds.append(tag)
        iid = f"sha256:{len(self.builds):064d}"
        self.images[tag] = {"Id": iid, "Config": {"Labels": kw["labels"]}}
        return iter([{"stream": f"Step 1/1 : FROM {stacks.BASE_IMAGE}\n"}, {"aux": {"ID": iid}},
                     {"stream": "Successfully built x\n"}])


def _current(api: FakeAPI, ca: bytes) -> None:
    base_id = "sha256:" + "b" * 64
    api.images[stacks.BASE_IMAGE] = {"Id": base_id, "Config": {"Labels": {
        stacks.HASH_LABEL: stacks.recipe_hash(stacks.base_recipe(), ca)}}}
    for n in stacks.STACKS:
        h = stacks.recipe_hash(stacks.stack_dockerfile(n), ca, base_id)
        api.images[stacks.local_image(n)] = {"Id": f"sha256:{n}",
                                             "Config": {"Labels": {stacks.HASH_LABEL: h}}}


def test_build_stacks_skips_current_images(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"PEM")
    api = FakeAPI()
    _current(api, b"PEM")
    lines: list[str] = []
    t = time.monotonic()
    res = stacks.build_stacks(ca_bundle=ca, cache_dir=tmp_path, api=api, out=lines.append)
    assert time.monotonic() - t < 1
    assert [r.name for r in res] == ["base", *stacks.STACKS]
    assert not any(r.built for r in res)
    assert api.builds == []
    assert all("up to date" in ln for ln in lines)


def test_build_stacks_rebuilds_only_stale(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"PEM")
    api = FakeAPI()
    _current(api, b"PEM")
    api.images[stacks.local_image("node")]["Config"]["Labels"][stacks.HASH_LABEL] = "stale"
    del api.images[stacks.local_image("static")]
    res = stacks.build_stacks(ca_bundle=ca, cache_dir=tmp_path, api=api)
    assert api.builds == ["berth/stack-node:bookworm", "berth/stack-static:bookworm"]
    assert [r.name for r in res if r.built] == ["node", "static"]
    assert len(res) == 1 + len(stacks.STACKS)
    # the label written is the one checked next time
    again = stacks.build_stacks(ca_bundle=ca, cache_dir=tmp_path, api=api)
    assert not any(r.built for r in again)


def test_build_stacks_subset_and_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeAPI()
    _current(api, b"")
    monkeypatch.setattr(stacks, "build_base", lambda api_, **kw: "sha256:newbase")
    res = stacks.build_stacks(["python"], ca_bundle=None, cache_dir=tmp_path, api=api)
    assert [(r.name, r.built) for r in res] == [("base", False), ("python", False)]
    res = stacks.build_stacks(["python"], ca_bundle=None, cache_dir=tmp_path, api=api,
                              force=True, mirror="http://m/")
    assert [(r.name, r.built) for r in res] == [("base", True), ("python", True)]


def test_new_ca_bundle_rebuilds_base_then_stacks(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeAPI()
    _current(api, b"OLD")
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"NEW")
    seen: dict[str, Any] = {}

    def fake_base(api_: Any, **kw: Any) -> str:
        seen.update(kw)
        api.images[stacks.BASE_IMAGE] = {"Id": "sha256:newbase", "Config": {"Labels": {}}}
        return "sha256:newbase"

    monkeypatch.setattr(stacks, "build_base", fake_base)
    monkeypatch.setattr(stacks, "host_sources", lambda: [("http://host.test/debian", "bookworm")])
    res = stacks.build_stacks(["static"], ca_bundle=ca, cache_dir=tmp_path, api=api)
    assert [(r.name, r.built) for r in res] == [("base", True), ("static", True)]
    assert seen["ca_bundle"] == b"NEW"
    assert seen["mirror"] == "http://host.test/debian"
    assert seen["want_hash"] == stacks.recipe_hash(stacks.base_recipe(), b"NEW")


def test_build_stacks_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        stacks.build_stacks(["cobol"], ca_bundle=None, cache_dir=tmp_path, api=FakeAPI())


def test_list_stacks() -> None:
    api = FakeAPI()
    api.images[stacks.BASE_IMAGE] = {"Id": "sha256:b", "Config": {}}
    rows = stacks.list_stacks(api)
    assert rows[0] == {"name": "base", "image": "berth/base:bookworm", "id": "sha256:b"}
    assert [r["id"] for r in rows[1:]] == [None] * len(stacks.STACKS)
