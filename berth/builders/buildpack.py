"""The ``buildpack`` builder: detects the language, writes a Dockerfile over a stack image.

Detection, first match wins (a Python app with a package.json for its assets is Python):

    1. python   requirements.txt or pyproject.toml
    2. node     package.json
    3. static   index.html or a public/ directory

Dependencies are their own cached layer: only the dependency manifest is copied before
they are installed, so a push that changes only code reuses that layer.

    python  venv in /opt/venv (on PATH); ``pip install -r requirements.txt``, or for a
            pyproject.toml, its [project].dependencies (the project itself is not
            pip-installed: it runs from /app). Default command: ``python app.py`` when
            app.py exists, else none (the Procfile's ``web`` gives it).
    node    ``npm ci --omit=dev`` when package-lock.json exists, else ``npm install``;
            NODE_ENV=production. Default command: ``npm start``.
    static  ``busybox httpd`` serving public/ when present, else the root, on $PORT.

Code lives in /app, owned by user ``app`` (uid 1000), which the container runs as. PORT
defaults to 5000 and is EXPOSEd. The generated Dockerfile and .dockerignore are added to the
build context only (``.berth.Dockerfile``); the source tree is not written to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from berth.builders.base import (
    BuildContext,
    api_client,
    build_labels,
    container_limits,
    run_build,
)
from berth.builders.dockerfile import context_excludes, context_tar
from berth.builders.stacks import APP_USER, stack_image
from berth.errors import BuildError, EngineError

DOCKERFILE_NAME = ".berth.Dockerfile"
LANGUAGES = ("python", "node", "static")
DEFAULT_PORT = 5000

#: Never copied into a buildpack image (local environments would shadow the installed ones).
EXCLUDE = (".venv", "node_modules", "__pycache__", "*.pyc", DOCKERFILE_NAME)

#: Reads [project].dependencies out of pyproject.toml inside the build (fixed text).
_PYPROJECT_DEPS = (
    "python3 -c 'import tomllib; "
    'd = tomllib.load(open("pyproject.toml", "rb")); '
    'print("\\n".join(d.get("project", {}).get("dependencies", [])))'
    "' > /tmp/berth-requirements.txt"
)


@dataclass(frozen=True)
class Plan:
    """What the Dockerfile depends on, read from the source tree."""

    language: str
    requirements: bool = False  # python: requirements.txt (else pyproject.toml)
    app_py: bool = False  # python: app.py exists
    lockfile: bool = False  # node: package-lock.json exists
    public: bool = False  # static: public/ exists


def detect_language(src: Path) -> str | None:
    if (src / "requirements.txt").is_file() or (src / "pyproject.toml").is_file():
        return "python"
    if (src / "package.json").is_file():
        return "node"
    if (src / "index.html").is_file() or (src / "public").is_dir():
        return "static"
    return None


def plan(src: Path) -> Plan:
    lang = detect_language(src)
    if lang is None:
        raise BuildError(
            f"no buildpack matches {src.name or src}: looked for requirements.txt or "
            "pyproject.toml (python), package.json (node), index.html or public/ (static)")
    return Plan(
        language=lang,
        requirements=(src / "requirements.txt").is_file(),
        app_py=(src / "app.py").is_file(),
        lockfile=(src / "package-lock.json").is_file(),
        public=(src / "public").is_dir(),
    )


def _head(stack: str, *env: str) -> list[str]:
    return [f"FROM {stack}", "ENV " + " \\\n    ".join([f"PORT={DEFAULT_PORT}", *env])]


def _tail(cmd: str | None) -> list[str]:
    # The code is copied last: every step before it stays cached on a code-only push (the
    # classic builder runs a container for each metadata step it cannot take from cache).
    lines = [f"USER {APP_USER}", f"EXPOSE {DEFAULT_PORT}"]
    if cmd:
        lines.append(f"CMD {cmd}")
    return [*lines, f"COPY --chown={APP_USER}:{APP_USER} . /app"]


def label_line(labels: dict[str, str]) -> str:
    """All labels in one LABEL step (the engine's ``labels`` build option adds one step per
    label); keys and values are JSON-quoted, which the Dockerfile syntax reads back as is."""
    pairs = " ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in sorted(labels.items()))
    return f"LABEL {pairs}\n" if labels else ""


def python_dockerfile(p: Plan, stack: str) -> list[str]:
    lines = _head(stack, "VIRTUAL_ENV=/opt/venv", "PATH=/opt/venv/bin:$PATH",
                  "PYTHONUNBUFFERED=1", "PIP_DISABLE_PIP_VERSION_CHECK=1",
                  "PIP_NO_CACHE_DIR=1")
    lines += ["RUN python3 -m venv /opt/venv", "WORKDIR /app",
              f"RUN chown {APP_USER}:{APP_USER} /app"]
    if p.requirements:
        lines += ["COPY requirements.txt /app/", "RUN pip install -r requirements.txt"]
    else:
        lines += ["COPY pyproject.toml /app/",
                  f"RUN {_PYPROJECT_DEPS} \\\n && pip install -r /tmp/berth-requirements.txt"]
    return lines + _tail('["python", "app.py"]' if p.app_py else None)


def node_dockerfile(p: Plan, stack: str) -> list[str]:
    lines = _head(stack, "NODE_ENV=production", "NPM_CONFIG_UPDATE_NOTIFIER=false",
                  "NPM_CONFIG_FUND=false", "NPM_CONFIG_AUDIT=false")
    lines += ["WORKDIR /app", f"RUN chown {APP_USER}:{APP_USER} /app", f"USER {APP_USER}"]
    own = f"--chown={APP_USER}:{APP_USER}"
    if p.lockfile:
        lines += [f"COPY {own} package.json package-lock.json /app/", "RUN npm ci --omit=dev"]
    else:
        lines += [f"COPY {own} package.json /app/", "RUN npm install --omit=dev"]
    return lines + _tail('["npm", "start"]')


def static_dockerfile(p: Plan, stack: str) -> list[str]:
    root = "/app/public" if p.public else "/app"
    cmd = f'["sh", "-c", "exec busybox httpd -f -v -p \\"$PORT\\" -h {root}"]'
    return [*_head(stack), "WORKDIR /app", *_tail(cmd)]


RENDERERS = {"python": python_dockerfile, "node": node_dockerfile, "static": static_dockerfile}


def render_dockerfile(p: Plan, stack: str) -> str:
    """The Dockerfile text for a plan, built over the ``stack`` image."""
    return "\n".join(RENDERERS[p.language](p, stack)) + "\n"


def dockerignore_text() -> str:
    """Sent with the context so the engine drops the generated files from ``COPY .``."""
    return f"{DOCKERFILE_NAME}\n.dockerignore\n"


def _has_web_process(src: Path) -> bool:
    pf = src / "Procfile"
    if not pf.is_file():
        return False
    return any(ln.strip().startswith("web:") for ln in pf.read_text(errors="replace").splitlines())


def _require_image(api: Any, image: str, lang: str) -> None:
    import docker.errors

    try:
        api.inspect_image(image)
    except docker.errors.ImageNotFound:
        raise BuildError(f"stack image {image} for {lang} apps is missing: run "
                         f"`berth stacks:build {lang}` (or set stack.{lang} to an image)") from None
    except docker.errors.DockerException as e:
        raise EngineError(f"inspecting image {image}: {e}") from None


class BuildpackBuilder:
    name = "buildpack"

    def __init__(self, api: Any = None) -> None:
        self._api = api

    def detect(self, src: Path) -> bool:
        return detect_language(src) is not None

    def build(self, ctx: BuildContext) -> str:
        p = plan(ctx.src)
        stack = stack_image(p.language, ctx.stack_overrides)
        api = self._api or api_client()
        _require_image(api, stack, p.language)
        ctx.out(f"-----> {p.language} app detected, building on {stack}")
        if p.language == "python" and not p.app_py and not _has_web_process(ctx.src):
            ctx.out("       warning: no app.py and no `web:` line in a Procfile: "
                    "the image has no default command")
        labels = build_labels(ctx, self.name, buildpack=p.language)
        text = render_dockerfile(p, stack) + label_line(labels)
        extra = {DOCKERFILE_NAME: text, ".dockerignore": dockerignore_text()}
        exclude = context_excludes(ctx.src, EXCLUDE)
        with context_tar(ctx.src, dockerfile=DOCKERFILE_NAME, extra_files=extra,
                         exclude=exclude) as tar:
            return run_build(
                api, out=ctx.out, tag=ctx.image_tag, fileobj=tar, dockerfile=DOCKERFILE_NAME,
                labels={},  # in the Dockerfile's one LABEL step
                buildargs=ctx.build_args, limits=container_limits(ctx.memory, ctx.cpus),
                nocache=ctx.no_cache, what=ctx.image_tag,
            )
