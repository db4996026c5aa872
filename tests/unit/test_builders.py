"""Builders without Docker: detection order, generated Dockerfiles, build contexts and the
streaming of build output (against a fake engine client)."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from berth.builders import buildpack, detect
from berth.builders.base import BuildContext, build_labels, container_limits, run_build
from berth.builders.buildpack import BuildpackBuilder, Plan, render_dockerfile
from berth.builders.dockerfile import DockerfileBuilder, context_tar, first_tcp_port
from berth.errors import BuildError, ValidationError

APPS = Path(__file__).resolve().parents[1] / "apps"


def make(tmp_path: Path, *files: str) -> Path:
    for f in files:
        p = tmp_path / f
        if f.endswith("/"):
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("x\n")
    return tmp_path


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize(("files", "lang"), [
    (["requirements.txt"], "python"),
    (["pyproject.toml"], "python"),
    (["package.json"], "node"),
    (["index.html"], "static"),
    (["public/"], "static"),
    (["requirements.txt", "package.json", "index.html"], "python"),
    (["package.json", "public/"], "node"),
    (["README.md"], None),
    (["public"], None),  # a file called public is not a directory
])
def test_detect_language(tmp_path: Path, files: list[str], lang: str | None) -> None:
    assert buildpack.detect_language(make(tmp_path, *files)) == lang


def test_builder_order(tmp_path: Path) -> None:
    assert detect.BUILDER_ORDER == ["dockerfile", "buildpack"]
    make(tmp_path, "requirements.txt")
    assert detect.select_builder(tmp_path).name == "buildpack"
    make(tmp_path, "Dockerfile")
    assert detect.select_builder(tmp_path).name == "dockerfile"
    assert detect.select_builder(tmp_path, "buildpack").name == "buildpack"


@pytest.mark.parametrize(("app", "builder"), [
    ("flask", "buildpack"), ("node", "buildpack"), ("static", "buildpack"),
    ("dockerfile", "dockerfile"),
])
def test_fixture_apps_detect(app: str, builder: str) -> None:
    assert detect.select_builder(APPS / app).name == builder


def test_no_builder_lists_what_was_looked_for(tmp_path: Path) -> None:
    make(tmp_path, "README.md")
    with pytest.raises(BuildError) as e:
        detect.select_builder(tmp_path)
    msg = str(e.value)
    for want in ("Dockerfile", "requirements.txt", "pyproject.toml", "package.json",
                 "index.html", "public/"):
        assert want in msg


def test_forced_builder(tmp_path: Path) -> None:
    make(tmp_path, "index.html")
    with pytest.raises(BuildError, match="looked for Dockerfile"):
        detect.select_builder(tmp_path, "dockerfile")
    with pytest.raises(ValidationError, match="unknown builder 'heroku'"):
        detect.select_builder(tmp_path, "heroku")


# ---------------------------------------------------------------- Dockerfiles


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_python_requirements_dockerfile() -> None:
    text = render_dockerfile(Plan("python", requirements=True, app_py=True),
                             "berth/stack-python:bookworm")
    ls = lines(text)
    assert ls[0] == "FROM berth/stack-python:bookworm"
    assert "RUN python3 -m venv /opt/venv" in ls
    assert "    PATH=/opt/venv/bin:$PATH \\" in ls
    # the dependency layer sees requirements.txt only, the code comes after
    order = [ls.index(x) for x in ("COPY requirements.txt /app/",
                                   "RUN pip install -r requirements.txt", "USER app",
                                   "EXPOSE 5000", 'CMD ["python", "app.py"]')]
    assert order == sorted(order)
    # the code comes last, so every step before it is cached on a code-only push
    assert ls[-1] == "COPY --chown=app:app . /app"


def test_python_without_app_py_has_no_cmd() -> None:
    text = render_dockerfile(Plan("python", requirements=True), "s")
    assert "CMD" not in text


def test_python_pyproject_dockerfile() -> None:
    text = render_dockerfile(Plan("python", requirements=False), "s")
    assert "COPY pyproject.toml /app/" in text
    assert "tomllib" in text
    assert "pip install -r /tmp/berth-requirements.txt" in text
    assert text.index("COPY pyproject.toml") < text.index("COPY --chown=app:app . /app")


def test_python_pyproject_snippet_reads_dependencies(tmp_path: Path) -> None:
    """Run the fixed shell snippet the Dockerfile uses, here, on a real pyproject.toml."""
    import subprocess

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["flask>=3", "gunicorn"]\n')
    snippet = buildpack._PYPROJECT_DEPS.replace("/tmp/", f"{tmp_path}/")
    snippet = snippet.replace("python3 ", f"{shutil.which('python3')} ", 1)
    subprocess.run(["sh", "-c", snippet], cwd=tmp_path, check=True)
    assert (tmp_path / "berth-requirements.txt").read_text() == "flask>=3\ngunicorn\n"


def test_node_dockerfile_with_lock() -> None:
    ls = lines(render_dockerfile(Plan("node", lockfile=True), "berth/stack-node:bookworm"))
    assert ls[0] == "FROM berth/stack-node:bookworm"
    i = ls.index("COPY --chown=app:app package.json package-lock.json /app/")
    assert ls[i + 1] == "RUN npm ci --omit=dev"
    assert ls.index("USER app") < i  # dependencies installed as app
    assert ls.index('CMD ["npm", "start"]') > i + 1
    assert ls[-1] == "COPY --chown=app:app . /app"
    assert "    NODE_ENV=production \\" in ls


def test_node_dockerfile_without_lock() -> None:
    text = render_dockerfile(Plan("node"), "s")
    assert "COPY --chown=app:app package.json /app/" in text
    assert "RUN npm install --omit=dev" in text
    assert "npm ci" not in text


@pytest.mark.parametrize(("public", "root"), [(True, "/app/public"), (False, "/app")])
def test_static_dockerfile(public: bool, root: str) -> None:
    ls = lines(render_dockerfile(Plan("static", public=public), "berth/stack-static:bookworm"))
    assert ls[0] == "FROM berth/stack-static:bookworm"
    assert ls[-2] == ('CMD ["sh", "-c", "exec busybox httpd -f -v -p \\"$PORT\\" -h '
                      f'{root}"]')
    assert ls[-1] == "COPY --chown=app:app . /app"
    assert "USER app" in ls


def test_plan_reads_tree(tmp_path: Path) -> None:
    make(tmp_path, "package.json", "package-lock.json", "public/")
    assert buildpack.plan(tmp_path) == Plan("node", lockfile=True, public=True)
    with pytest.raises(BuildError, match="no buildpack matches"):
        buildpack.plan(tmp_path / "public")


# ---------------------------------------------------------------- contexts


def names_in(tar: Any) -> dict[str, bytes]:
    out = {}
    with tarfile.open(fileobj=tar) as t:
        for m in t.getmembers():
            f = t.extractfile(m)
            out[m.name] = f.read() if f else b""
    return out


def test_context_tar_excludes_git_and_dockerignore(tmp_path: Path) -> None:
    make(tmp_path, "Dockerfile", "app.py", ".git/HEAD", "secret.env", "logs/a.log")
    (tmp_path / ".dockerignore").write_text("# comment\nsecret.env\nlogs\nDockerfile\n")
    with context_tar(tmp_path) as tar:
        names = names_in(tar)
    assert "app.py" in names and "Dockerfile" in names and ".dockerignore" in names
    assert not any(n.startswith((".git", "logs")) or n == "secret.env" for n in names)


def test_context_tar_extra_files_win(tmp_path: Path) -> None:
    make(tmp_path, "app.py", ".dockerignore")
    with context_tar(tmp_path, dockerfile=".berth.Dockerfile",
                     extra_files={".berth.Dockerfile": "FROM x\n", ".dockerignore": "a\n"},
                     exclude=[]) as tar:
        names = names_in(tar)
    assert names[".berth.Dockerfile"] == b"FROM x\n"
    assert names[".dockerignore"] == b"a\n"


# ---------------------------------------------------------------- running a build


class FakeAPI:
    def __init__(self, stream: list[dict[str, Any]], images: tuple[str, ...] = ()) -> None:
        self.stream = stream
        self.images = set(images)
        self.calls: list[dict[str, Any]] = []

    def inspect_image(self, ref: str) -> dict[str, Any]:
        if ref not in self.images:
            raise docker.errors.ImageNotFound(ref)
        return {"Id": "sha256:x", "Config": {"ExposedPorts": {"5000/tcp": {}}}}

    def build(self, **kw: Any) -> Any:
        kw["context"] = names_in(kw["fileobj"]) if kw.get("custom_context") else None
        self.calls.append(kw)
        return iter(self.stream)


OK = [{"stream": "Step 1/2 : FROM berth/stack-python:bookworm\n"},
      {"stream": " ---> abc\nStep 2/2 : RUN pip install -r requirements.txt\n"},
      {"stream": " ---> Using cache\n"},
      {"aux": {"ID": "sha256:" + "1" * 64}},
      {"stream": "Successfully built 111111111111\n"}]


def test_run_build_streams_lines() -> None:
    got: list[str] = []
    api = FakeAPI(OK)
    iid = run_build(api, out=got.append, tag="t:1", fileobj=io.BytesIO(), custom_context=False)
    assert iid == "sha256:" + "1" * 64
    assert got == ["Step 1/2 : FROM berth/stack-python:bookworm", " ---> abc",
                   "Step 2/2 : RUN pip install -r requirements.txt", " ---> Using cache",
                   "Successfully built 111111111111"]
    call = api.calls[0]
    assert call["pull"] is False and call["rm"] and call["forcerm"] and call["decode"]
    assert call["timeout"] is None


def test_run_build_error_keeps_last_lines() -> None:
    stream = [{"stream": f"line {i}\n"} for i in range(30)]
    stream.append({"errorDetail": {"message": "returned a non-zero code: 1"},
                   "error": "The command '/bin/sh -c false' returned a non-zero code: 1"})
    with pytest.raises(BuildError) as e:
        run_build(FakeAPI(stream), out=lambda s: None, tag="t", fileobj=io.BytesIO(),
                  custom_context=False)
    msg = str(e.value)
    assert "line 29" in msg and "non-zero code" in msg and "line 3\n" not in msg


def test_run_build_api_error() -> None:
    class Broken(FakeAPI):
        def build(self, **kw: Any) -> Any:
            raise docker.errors.APIError("boom", explanation="dockerfile parse error line 3")

    with pytest.raises(BuildError, match="parse error"):
        run_build(Broken([]), out=lambda s: None, tag="t", fileobj=io.BytesIO(),
                  custom_context=False)


def test_run_build_without_image() -> None:
    with pytest.raises(BuildError, match="no image"):
        run_build(FakeAPI([{"stream": "hm\n"}]), out=lambda s: None, tag="t",
                  fileobj=io.BytesIO(), custom_context=False)


def test_limits_and_labels(tmp_path: Path) -> None:
    assert container_limits(None, None) == {}
    assert container_limits(512 * 2**20, 0.5) == {"memory": 512 * 2**20,
                                                  "memswap": 512 * 2**20, "cpushares": 512}
    ctx = BuildContext(app="web", src=tmp_path, image_tag="berth/app-web:v3",
                       labels={"berth.git-sha": "abc"})
    assert build_labels(ctx, "buildpack", buildpack="python") == {
        "berth.app": "web", "berth.builder": "buildpack", "berth.buildpack": "python",
        "berth.git-sha": "abc"}


def test_first_tcp_port() -> None:
    assert first_tcp_port(None) is None
    assert first_tcp_port({}) is None
    assert first_tcp_port({"53/udp": {}}) is None
    assert first_tcp_port({"8080/tcp": {}, "5000/tcp": {}, "53/udp": {}}) == 5000
    assert first_tcp_port({"3000": {}}) == 3000


def test_exposed_port_with_fake_api() -> None:
    from berth.builders.dockerfile import exposed_port

    assert exposed_port("img", api=FakeAPI([], images=("img",))) == 5000
    assert exposed_port("missing", api=FakeAPI([])) is None


def test_buildpack_build_sends_generated_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(APPS / "flask", src)
    make(src, ".git/HEAD", ".venv/bin/python", "__pycache__/x.pyc")
    before = sorted(p.name for p in src.rglob("*"))
    api = FakeAPI(OK, images=("berth/stack-python:bookworm",))
    got: list[str] = []
    ctx = BuildContext(app="web", src=src, image_tag="berth/app-web:v1", out=got.append,
                       build_args={"A": "1"}, memory=2**30)
    BuildpackBuilder(api).build(ctx)
    call = api.calls[0]
    assert call["tag"] == "berth/app-web:v1" and call["dockerfile"] == ".berth.Dockerfile"
    assert call["buildargs"] == {"A": "1"}
    assert call["container_limits"]["memory"] == 2**30
    assert call["labels"] == {}  # all of them in one LABEL step of the Dockerfile
    ctxfiles = call["context"]
    assert ctxfiles[".berth.Dockerfile"].startswith(b"FROM berth/stack-python:bookworm\n")
    last = ctxfiles[".berth.Dockerfile"].decode().splitlines()[-1]
    assert last == ('LABEL "berth.app"="web" "berth.builder"="buildpack" '
                    '"berth.buildpack"="python"')
    assert ctxfiles[".dockerignore"] == b".berth.Dockerfile\n.dockerignore\n"
    assert {"app.py", "requirements.txt", "Procfile"} <= set(ctxfiles)
    assert not any(n.startswith((".git", ".venv", "__pycache__")) for n in ctxfiles)
    assert got[0].startswith("-----> python app detected")
    assert sorted(p.name for p in src.rglob("*")) == before  # src untouched


def test_buildpack_uses_stack_override(tmp_path: Path) -> None:
    make(tmp_path, "index.html")
    api = FakeAPI(OK, images=("registry.test/busybox-httpd:1",))
    ctx = BuildContext(app="s", src=tmp_path, image_tag="t",
                       stack_overrides={"static": "registry.test/busybox-httpd:1"})
    BuildpackBuilder(api).build(ctx)
    assert api.calls[0]["context"][".berth.Dockerfile"].startswith(
        b"FROM registry.test/busybox-httpd:1\n")


def test_buildpack_missing_stack(tmp_path: Path) -> None:
    make(tmp_path, "package.json")
    ctx = BuildContext(app="n", src=tmp_path, image_tag="t")
    with pytest.raises(BuildError, match="stacks:build node"):
        BuildpackBuilder(FakeAPI(OK)).build(ctx)


def test_dockerfile_build(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(APPS / "dockerfile", src)
    make(src, ".git/config", "notes.md")
    api = FakeAPI(OK)
    iid = DockerfileBuilder(api).build(BuildContext(app="d", src=src, image_tag="t:1"))
    assert iid.startswith("sha256:")
    call = api.calls[0]
    assert call["dockerfile"] == "Dockerfile" and call["labels"]["berth.builder"] == "dockerfile"
    assert set(call["context"]) == {"Dockerfile", "server.py", ".dockerignore"}


def test_label_line_quotes_every_pair() -> None:
    assert buildpack.label_line({}) == ""
    line = buildpack.label_line({"berth.git-sha": "ab12", "berth.app": 'a "b"'})
    assert line == 'LABEL "berth.app"="a \\"b\\"" "berth.git-sha"="ab12"\n'
