"""The floor for deploys: what a person does by hand with the same image definition. The
Dockerfile is the one berth's buildpack builder writes for the tree (so both build the same
layers, with the engine's classic builder as berth uses), then `docker build`, `docker run`
and polling the container's own address until it answers 200 with the new content."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from bench.env import get_direct, wait_until

LABEL = "berth.bench=floor"


class ByHand:
    def __init__(self, tag_prefix: str) -> None:
        self.tag_prefix = tag_prefix  # e.g. "berthbench-1234"
        self.containers: list[str] = []
        self.tags: list[str] = []

    def prepare(self, src: Path, dest: Path) -> Path:
        """A copy of ``src`` with berth's generated Dockerfile and .dockerignore beside it."""
        from berth.builders import buildpack
        from berth.builders.stacks import stack_image

        shutil.copytree(src, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".git", "node_modules", "__pycache__"))
        plan = buildpack.plan(dest)
        text = buildpack.render_dockerfile(plan, stack_image(plan.language, {}))
        (dest / buildpack.DOCKERFILE_NAME).write_text(text)
        (dest / ".dockerignore").write_text(buildpack.dockerignore_text())
        return dest

    def build(self, ctx_dir: Path, name: str, *, nocache: bool = False) -> str:
        from berth.builders import buildpack

        tag = f"{self.tag_prefix}/{name}:latest"
        argv = ["docker", "build", "-q", "-f", str(ctx_dir / buildpack.DOCKERFILE_NAME),
                "-t", tag, *(["--no-cache"] if nocache else []), str(ctx_dir)]
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"docker build failed:\n{proc.stderr[-2000:]}")
        if tag not in self.tags:
            self.tags.append(tag)
        return tag

    def run(self, tag: str, name: str) -> str:
        """`docker run -d` then the container's address (IP:5000)."""
        cname = f"{self.tag_prefix}-{name}"
        subprocess.run(["docker", "rm", "-f", cname], capture_output=True)
        proc = subprocess.run(["docker", "run", "-d", "--pull", "never", "--name", cname,
                               "--label", LABEL, tag], capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"docker run failed: {proc.stderr.strip()}")
        self.containers.append(cname)
        ip = subprocess.run(["docker", "inspect", "-f",
                             "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", cname],
                            capture_output=True, text=True).stdout.strip()
        return f"{ip}:5000"

    def deploy(self, ctx_dir: Path, name: str, text: str, *, nocache: bool = False,
               timeout: float = 600) -> float:
        """Seconds from `docker build` start to the first 200 carrying ``text``."""
        start = time.monotonic()
        tag = self.build(ctx_dir, name, nocache=nocache)
        address = self.run(tag, name)
        done = wait_until(lambda: get_direct(address, timeout=2), text, timeout=timeout)
        return done - start

    def stop(self, name: str) -> None:
        cname = f"{self.tag_prefix}-{name}"
        subprocess.run(["docker", "rm", "-f", cname], capture_output=True)

    def cleanup(self) -> None:
        if self.containers:
            subprocess.run(["docker", "rm", "-f", *set(self.containers)], capture_output=True)
        if self.tags:
            subprocess.run(["docker", "rmi", "-f", *self.tags], capture_output=True)
        self.containers, self.tags = [], []
