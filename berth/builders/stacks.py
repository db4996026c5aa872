"""Stack images, built locally from Debian packages (no registry needed).

    berth/base:bookworm           debootstrap --variant=minbase + the CA bundle + user `app`
    berth/stack-python:bookworm   FROM base, python3 python3-venv python3-pip
    berth/stack-node:bookworm     FROM base, nodejs npm (Debian's)
    berth/stack-static:bookworm   FROM base, busybox (``busybox httpd``)
    berth/stack-postgres:bookworm FROM base, postgresql        (the postgres add-on)
    berth/stack-mysql:bookworm    FROM base, mariadb-server    (the mysql add-on)
    berth/stack-redis:bookworm    FROM base, redis-server      (the redis add-on)
    berth/stack-php:bookworm      FROM base, apache2 + mod_php (PHP apps, e.g. WordPress)

The base is made by ``debootstrap`` into a temp dir and imported with ``docker import``;
each stack is a one-layer Dockerfile over it. Every image carries the label
``berth.stack.hash``: a hash of its recipe (Dockerfile text or base recipe) and the CA
bundle content (stacks: plus the base image id). ``build_stacks`` skips images whose label
matches, so re-running it is cheap. Each stack can instead point at a registry image
through ``stack_image(name, overrides)``.

The Debian mirror is read from the host's apt sources unless given explicitly.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from berth.errors import BuildError, EngineError, ValidationError

SUITE = "bookworm"
BASE_IMAGE = f"berth/base:{SUITE}"
HASH_LABEL = "berth.stack.hash"
CA_FILE = "/etc/ssl/certs/ca-certificates.crt"
EXTRA_CA_PATH = "usr/local/share/ca-certificates/berth-extra.crt"
APP_USER = "app"
APP_UID = 1000

#: stack name -> Debian packages (installed with --no-install-recommends).
STACKS: dict[str, tuple[str, ...]] = {
    "python": ("python3", "python3-venv", "python3-pip"),
    "node": ("nodejs", "npm"),
    "static": ("busybox",),
    # add-on services (berth/addons) and PHP apps such as WordPress
    "postgres": ("postgresql", "postgresql-client"),
    "mysql": ("mariadb-server", "mariadb-client"),
    "redis": ("redis-server", "redis-tools"),
    "php": ("apache2", "libapache2-mod-php", "php-cli", "php-mysql", "php-gd", "php-curl",
            "php-xml", "php-mbstring", "php-zip", "php-intl"),
}

#: Environment every image gets, so Python, pip, requests and node trust the baked-in CAs.
CA_ENV: dict[str, str] = {
    "SSL_CERT_FILE": CA_FILE,
    "REQUESTS_CA_BUNDLE": CA_FILE,
    "PIP_CERT": CA_FILE,
    "NODE_EXTRA_CA_CERTS": CA_FILE,
}
BASE_ENV: dict[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    **CA_ENV,
}

#: Written into the base: smaller installs, no prompts.
DPKG_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
"""
APT_CONF = """\
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
"""

Out = Callable[[str], None]


def _discard(line: str) -> None:
    """Default sink for output lines."""


# ---------------------------------------------------------------------------- names


def stack_names() -> list[str]:
    return list(STACKS)


def local_image(name: str) -> str:
    """The locally built image of a stack: ``berth/stack-NAME:bookworm``."""
    if name not in STACKS:
        raise ValidationError(f"unknown stack {name!r}: choose from {', '.join(STACKS)}")
    return f"berth/stack-{name}:{SUITE}"


def stack_image(name: str, overrides: Mapping[str, str] | None = None) -> str:
    """The image to build ``name`` apps on: the override if set, else the local stack."""
    override = (overrides or {}).get(name)
    return override if override else local_image(name)


# ---------------------------------------------------------------------------- mirror


def parse_deb822(text: str) -> list[dict[str, str]]:
    """Stanzas of a deb822 ``.sources`` file, keys lower-cased (comments dropped)."""
    stanzas: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    last = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if cur:
                stanzas.append(cur)
            cur, last = {}, ""
            continue
        if raw[0] in " \t" and last:
            cur[last] += " " + raw.strip()
            continue
        key, sep, value = raw.partition(":")
        if sep:
            last = key.strip().lower()
            cur[last] = value.strip()
    if cur:
        stanzas.append(cur)
    return stanzas


def parse_one_line(text: str) -> list[tuple[str, str]]:
    """(uri, suite) of every ``deb`` line of a one-line-style sources.list."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        line = re.sub(r"\[[^\]]*\]", " ", line)  # drop [signed-by=...] options
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "deb":
            found.append((parts[1], parts[2]))
    return found


def _candidates(sources: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(u, s) for u, s in sources if u.startswith(("http://", "https://", "file:/"))]


def pick_mirror(sources: Iterable[tuple[str, str]], suite: str = SUITE) -> str | None:
    """Prefer a source for ``suite`` itself, then any non-security source."""
    cands = _candidates(sources)
    for uri, s in cands:
        if s == suite:
            return uri
    for uri, s in cands:
        if not s.endswith("-security") and "security" not in uri:
            return uri
    return None


def host_sources(
    sources_list: Path = Path("/etc/apt/sources.list"),
    sources_dir: Path = Path("/etc/apt/sources.list.d"),
) -> list[tuple[str, str]]:
    """(uri, suite) pairs from the host's apt configuration, in apt's reading order."""
    pairs: list[tuple[str, str]] = []
    if sources_list.is_file():
        pairs += parse_one_line(sources_list.read_text(errors="replace"))
    if sources_dir.is_dir():
        for path in sorted(sources_dir.iterdir()):
            text = path.read_text(errors="replace") if path.is_file() else ""
            if path.suffix == ".list":
                pairs += parse_one_line(text)
            elif path.suffix == ".sources":
                for st in parse_deb822(text):
                    if "deb" not in st.get("types", "").split():
                        continue
                    if st.get("enabled", "yes").lower() == "no":
                        continue
                    pairs += [(u, s) for u in st.get("uris", "").split()
                              for s in st.get("suites", "").split()]
    return pairs


def detect_mirror(mirror: str | None = None, *, suite: str = SUITE) -> str:
    """The explicit ``mirror`` if given, else the host's Debian mirror."""
    if mirror:
        return mirror
    found = pick_mirror(host_sources(), suite)
    if not found:
        raise BuildError("cannot find a Debian mirror in /etc/apt/sources.list(.d): "
                         "pass one explicitly (--mirror URL)")
    return found


# ---------------------------------------------------------------------------- recipes


def debootstrap_argv(target: Path, *, cache_dir: Path, mirror: str,
                     suite: str = SUITE) -> list[str]:
    return [
        "debootstrap", "--variant=minbase", "--include=ca-certificates",
        f"--cache-dir={cache_dir.resolve()}", suite, str(target), mirror,
    ]


def chroot_argv(root: Path, *argv: str) -> list[str]:
    return ["chroot", str(root), *argv]


def base_commands(root: Path) -> list[list[str]]:
    """What runs in the chroot after debootstrap and after the CA file is in place."""
    return [
        chroot_argv(root, "update-ca-certificates"),
        chroot_argv(root, "useradd", "--uid", str(APP_UID), "--user-group", "--create-home",
                    "--shell", "/bin/bash", APP_USER),
    ]


def base_changes(hash_: str) -> list[str]:
    """Dockerfile instructions applied by ``docker import``."""
    changes = [f"ENV {k}={v}" for k, v in BASE_ENV.items()]
    changes += [f"LABEL {HASH_LABEL}={hash_}", 'CMD ["bash"]']
    return changes


def base_recipe(suite: str = SUITE) -> str:
    """Everything that decides the base image's content except the CA bundle and mirror."""
    parts = [
        "berth-base v1",
        " ".join(debootstrap_argv(Path("/ROOT"), cache_dir=Path("/CACHE"), mirror="MIRROR",
                                  suite=suite)),
        *(" ".join(a) for a in base_commands(Path("/ROOT"))),
        DPKG_EXCLUDES, APT_CONF, " ".join(base_changes("HASH")),
    ]
    return "\n".join(parts)


def stack_dockerfile(name: str, base: str = BASE_IMAGE) -> str:
    packages = STACKS.get(name)
    if packages is None:
        raise ValidationError(f"unknown stack {name!r}: choose from {', '.join(STACKS)}")
    env = " \\\n    ".join(f"{k}={v}" for k, v in CA_ENV.items())
    return (
        f"FROM {base}\n"
        f"ENV {env}\n"
        "RUN apt-get update \\\n"
        " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\\n"
        f"    {' '.join(packages)} \\\n"
        " && apt-get clean \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
        f'LABEL berth.stack="{name}"\n'
    )


def recipe_hash(recipe: str, ca_bundle: bytes | None, *extra: str) -> str:
    h = hashlib.sha256()
    for part in (recipe.encode(), ca_bundle or b"", *(e.encode() for e in extra)):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def needs_build(labels: Mapping[str, str] | None, want_hash: str, *, force: bool) -> bool:
    """Build unless the existing image's hash label matches (or ``force``)."""
    if force or labels is None:
        return True
    return labels.get(HASH_LABEL) != want_hash


# ---------------------------------------------------------------------------- running


@dataclass(frozen=True)
class StackResult:
    name: str  # "base" or a stack name
    image: str
    image_id: str
    built: bool  # False when the existing image was up to date


def _run(argv: list[str], out: Out, *, env: Mapping[str, str] | None = None) -> None:
    """Run argv, streaming its output lines; a non-zero exit -> BuildError with the tail."""
    tail: list[str] = []
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, text=True,
                                errors="replace")
    except FileNotFoundError:
        raise BuildError(f"{argv[0]} is not installed (apt-get install {argv[0]})") from None
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        out(line)
        tail = (tail + [line])[-15:]
    if proc.wait() != 0:
        raise BuildError(f"{' '.join(argv[:3])} ... failed (exit {proc.returncode}):\n"
                         + "\n".join(tail))


def _image_labels(api: Any, ref: str) -> tuple[str, dict[str, str]] | None:
    import docker.errors

    try:
        attrs = api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.DockerException as e:
        raise EngineError(f"inspecting image {ref}: {e}") from None
    return str(attrs["Id"]), dict((attrs.get("Config") or {}).get("Labels") or {})


def _tar_stream(root: Path) -> Iterator[bytes]:
    argv = ["tar", "--numeric-owner", "-C", str(root), "-c", "."]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        while chunk := proc.stdout.read(1 << 20):
            yield chunk
    finally:
        proc.stdout.close()
        if proc.wait() != 0:
            raise BuildError(f"tar of {root} failed (exit {proc.returncode})")


def prepare_root(root: Path, ca_bundle: bytes | None) -> None:
    """Files berth adds to the debootstrapped tree before running ``base_commands``."""
    (root / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/dpkg/dpkg.cfg.d/berth-excludes").write_text(DPKG_EXCLUDES)
    (root / "etc/apt/apt.conf.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/apt/apt.conf.d/90berth").write_text(APT_CONF)
    if ca_bundle:
        dest = root / EXTRA_CA_PATH
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(ca_bundle)


def clean_root(root: Path) -> None:
    for pattern in ("var/lib/apt/lists/*", "var/cache/apt/*.bin",
                    "var/cache/apt/archives/*.deb", "var/log/*.log", "tmp/*"):
        for p in root.glob(pattern):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)


def build_base(api: Any, *, ca_bundle: bytes | None, cache_dir: Path, mirror: str,
               want_hash: str, out: Out, work_dir: Path | None = None) -> str:
    """debootstrap + CA + user ``app`` -> ``docker import``; returns the image id."""
    if os.geteuid() != 0:
        raise BuildError("building the base image needs root (debootstrap and chroot)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="berth-base-", dir=work_dir))
    env = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C",
           "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    try:
        out(f"-----> debootstrap {SUITE} from {mirror}")
        _run(debootstrap_argv(root, cache_dir=cache_dir, mirror=mirror), out, env=env)
        prepare_root(root, ca_bundle)
        for argv in base_commands(root):
            _run(argv, out, env=env)
        clean_root(root)
        out(f"-----> Importing {BASE_IMAGE}")
        repo, _, tag = BASE_IMAGE.partition(":")
        try:
            api.import_image(src=_tar_stream(root), repository=repo, tag=tag,
                             changes=base_changes(want_hash), stream_src=True)
        except Exception as e:  # docker and requests raise many types here
            raise EngineError(f"importing {BASE_IMAGE}: {e}") from None
    finally:
        shutil.rmtree(root, ignore_errors=True)
    found = _image_labels(api, BASE_IMAGE)
    if found is None:
        raise BuildError(f"docker import did not produce {BASE_IMAGE}")
    return found[0]


def build_stack(api: Any, name: str, *, want_hash: str, out: Out) -> str:
    from berth.builders.base import run_build

    text = stack_dockerfile(name)
    return run_build(api, out=out, tag=local_image(name),
                     fileobj=io.BytesIO(text.encode()), custom_context=False,
                     labels={HASH_LABEL: want_hash, "berth.stack": name},
                     what=local_image(name))


def build_stacks(
    names: Iterable[str] | None = None,
    *,
    ca_bundle: Path | None,
    cache_dir: Path,
    mirror: str | None = None,
    force: bool = False,
    out: Out = _discard,
    api: Any = None,
) -> list[StackResult]:
    """Make sure the base and the named stacks (default: all) exist and are current.
    Idempotent: up-to-date images are only inspected. ``force`` rebuilds them all."""
    wanted = list(names) if names is not None else stack_names()
    for n in wanted:
        local_image(n)  # validates the name
    ca = ca_bundle.read_bytes() if ca_bundle else None
    if api is None:
        from berth.builders.base import api_client

        api = api_client()

    results: list[StackResult] = []
    base_hash = recipe_hash(base_recipe(), ca)
    found = _image_labels(api, BASE_IMAGE)
    if needs_build(found[1] if found else None, base_hash, force=force):
        base_id = build_base(api, ca_bundle=ca, cache_dir=cache_dir,
                             mirror=detect_mirror(mirror), want_hash=base_hash, out=out)
        results.append(StackResult("base", BASE_IMAGE, base_id, True))
    else:
        assert found is not None
        base_id = found[0]
        out(f"-----> {BASE_IMAGE} is up to date")
        results.append(StackResult("base", BASE_IMAGE, base_id, False))

    for n in wanted:
        image = local_image(n)
        want = recipe_hash(stack_dockerfile(n), ca, base_id)
        found = _image_labels(api, image)
        if needs_build(found[1] if found else None, want, force=force):
            out(f"-----> Building stack {n} ({image})")
            results.append(StackResult(n, image, build_stack(api, n, want_hash=want, out=out),
                                       True))
        else:
            assert found is not None
            out(f"-----> {image} is up to date")
            results.append(StackResult(n, image, found[0], False))
    return results


def list_stacks(api: Any = None) -> list[dict[str, str | None]]:
    """Each image (base first) with its id, or None when it was never built."""
    if api is None:
        from berth.builders.base import api_client

        api = api_client()
    rows: list[dict[str, str | None]] = []
    for name, image in [("base", BASE_IMAGE), *((n, local_image(n)) for n in STACKS)]:
        found = _image_labels(api, image)
        rows.append({"name": name, "image": image, "id": found[0] if found else None})
    return rows
