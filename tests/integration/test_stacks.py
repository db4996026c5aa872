"""Real builds on the local engine: the base and stack images from Debian packages, then each
fixture app built, run and answering HTTP; and the dependency layer cached on a code-only push.

The debootstrap cache lives in $BERTH_TEST_CACHE (default /var/tmp/berth-test-cache), so
re-runs are quick; images already current are not rebuilt.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from berth.builders import detect, stacks
from berth.builders.base import BuildContext
from berth.builders.dockerfile import exposed_port

SOCKET = Path("/var/run/docker.sock")
APPS = Path(__file__).resolve().parents[1] / "apps"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CACHE = Path(os.environ.get("BERTH_TEST_CACHE", "/var/tmp/berth-test-cache"))
TEST_REPO = "berth-test/builders"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not SOCKET.exists() and not os.environ.get("DOCKER_HOST"),
                       reason=f"no Docker engine: {SOCKET} is missing"),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    docker = pytest.importorskip("docker")
    try:
        c = docker.from_env(timeout=300)
        c.ping()
    except docker.errors.DockerException as e:
        pytest.skip(f"Docker engine not reachable: {e}")
    yield c
    for img in c.images.list(name=TEST_REPO):
        for tag in img.tags:
            c.images.remove(tag, force=True)
    c.close()


@pytest.fixture(scope="module")
def built_stacks(client: Any) -> list[stacks.StackResult]:
    if os.geteuid() != 0 and not client.images.list(name=stacks.BASE_IMAGE):
        pytest.skip("building berth/base:bookworm needs root (debootstrap)")
    lines: list[str] = []
    t = time.monotonic()
    res = stacks.build_stacks(ca_bundle=HOST_CA if HOST_CA.is_file() else None,
                              cache_dir=CACHE / "debootstrap", out=lines.append)
    print(f"build_stacks: {time.monotonic() - t:.1f} s, built "
          f"{[r.name for r in res if r.built]}")
    return res


@pytest.fixture
def run(client: Any) -> Iterator[Any]:
    """Start a container (removed afterwards) and return it."""
    started: list[Any] = []

    def _run(image: str, **kw: Any) -> Any:
        c = client.containers.run(image, detach=True, labels={"berth.test": "builders"}, **kw)
        started.append(c)
        return c

    yield _run
    for c in started:
        c.remove(force=True)


def http_get(container: Any, port: int, path: str = "/", timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        container.reload()
        if container.status == "exited":
            raise AssertionError(f"container exited:\n{container.logs().decode()}")
        ip = container.attrs["NetworkSettings"]["IPAddress"]
        try:
            with urllib.request.urlopen(f"http://{ip}:{port}{path}", timeout=2) as r:
                return str(r.read().decode())
        except OSError as e:
            last = e
            time.sleep(0.3)
    raise AssertionError(f"no answer on port {port}: {last}\n{container.logs().decode()}")


def build_app(src: Path, tag: str, lines: list[str] | None = None) -> str:
    builder = detect.select_builder(src)
    out = lines.append if lines is not None else (lambda s: None)
    ctx = BuildContext(app=src.name, src=src, image_tag=f"{TEST_REPO}:{tag}", out=out,
                       labels={"berth.test": "builders"})
    return builder.build(ctx)


def test_stacks_exist_and_are_idempotent(client: Any,
                                         built_stacks: list[stacks.StackResult]) -> None:
    assert [r.name for r in built_stacks] == ["base", *stacks.stack_names()]
    t = time.monotonic()
    again = stacks.build_stacks(ca_bundle=HOST_CA if HOST_CA.is_file() else None,
                                cache_dir=CACHE / "debootstrap")
    print(f"second build_stacks: {time.monotonic() - t:.2f} s")
    assert not any(r.built for r in again)
    assert [r.image_id for r in again] == [r.image_id for r in built_stacks]
    base = client.images.get(stacks.BASE_IMAGE)
    assert base.labels[stacks.HASH_LABEL]


def test_base_has_app_user_and_ca(client: Any, built_stacks: Any) -> None:
    out = client.containers.run(
        stacks.BASE_IMAGE, ["sh", "-c", "id app && ls /usr/local/share/ca-certificates && "
                            "ls /var/lib/apt/lists | wc -l"], remove=True).decode()
    assert "uid=1000(app)" in out
    assert "berth-extra.crt" in out or not HOST_CA.is_file()
    assert out.strip().endswith("0")  # apt lists cleaned


def test_static_stack_has_busybox_httpd(client: Any, built_stacks: Any) -> None:
    out = client.containers.run(stacks.local_image("static"), ["busybox", "--list"],
                                remove=True).decode()
    assert "httpd" in out.split()


@pytest.mark.parametrize(("app", "answer"), [
    ("flask", "hello from flask"),
    ("node", "hello from node"),
    ("static", "hello from static"),
    ("dockerfile", "hello from dockerfile"),
])
def test_fixture_app_builds_and_answers(built_stacks: Any, run: Any, app: str,
                                        answer: str) -> None:
    lines: list[str] = []
    image = build_app(APPS / app, app, lines)
    assert image.startswith("sha256:")
    port = exposed_port(image)
    assert port == 5000
    c = run(image, environment={"PORT": "5000", "GREETING": "hi there"})
    assert answer in http_get(c, 5000)
    if app in ("flask", "node"):
        assert http_get(c, 5000, "/env/GREETING") == "hi there"


def test_app_runs_on_another_port_as_app_user(built_stacks: Any, run: Any,
                                             client: Any) -> None:
    image = build_app(APPS / "static", "static")
    c = run(image, environment={"PORT": "8123"})
    assert "hello from static" in http_get(c, 8123)
    assert client.images.get(image).attrs["Config"]["User"] == "app"


def test_flask_release_command(built_stacks: Any, client: Any) -> None:
    image = build_app(APPS / "flask", "flask")
    out = client.containers.run(image, ["sh", "-c", "python -c \"print('release ok')\""],
                                remove=True)
    assert out.decode().strip() == "release ok"


def test_code_only_change_reuses_dependency_layer(built_stacks: Any, run: Any,
                                                  tmp_path: Path) -> None:
    src = tmp_path / "flask"
    shutil.copytree(APPS / "flask", src)
    build_app(src, "cache-v1")
    app_py = src / "app.py"
    app_py.write_text(app_py.read_text().replace("hello from flask", "hello again"))
    lines: list[str] = []
    image = build_app(src, "cache-v2", lines)

    def after(step: str) -> str:
        i = next(i for i, ln in enumerate(lines) if ln.startswith("Step ") and step in ln)
        return lines[i + 1]

    assert after("RUN pip install -r requirements.txt") == " ---> Using cache"
    assert after("COPY --chown=app:app . /app") != " ---> Using cache"
    c = run(image, environment={"PORT": "5000"})
    assert "hello again" in http_get(c, 5000)


def test_broken_dockerfile_raises_build_error(built_stacks: Any, tmp_path: Path) -> None:
    from berth.errors import BuildError

    (tmp_path / "Dockerfile").write_text(
        f"FROM {stacks.BASE_IMAGE}\nRUN echo about to fail && false\n")
    lines: list[str] = []
    with pytest.raises(BuildError) as e:
        build_app(tmp_path, "broken", lines)
    assert "about to fail" in str(e.value)
    assert "non-zero code" in str(e.value)
