"""WordPress end to end, following docs/wordpress.md: Debian's wordpress package (downloaded
and unpacked at test time, never kept in the repo) on berth's php stack, a mysql service,
storage for uploads, a git push; then the install over HTTP, a post and an upload through
XML-RPC, a redeploy, and the post and the upload still there."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.parse
import xmlrpc.client
import zlib
from pathlib import Path

import pytest

from tests.integration.conftest import REPO, Env, commit, push

pytestmark = pytest.mark.integration

APP = "blog"
HOST = f"{APP}.localhost"
ADMIN, PASSWORD = "admin", "correct-horse-battery-staple-42"


class Conn(http.client.HTTPConnection):
    """HTTP to the router on 127.0.0.1, with Host: blog.localhost (as a browser would send)."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        super().__init__(HOST, port, timeout=timeout)
        self.router_port = port

    def connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.router_port), self.timeout)


class Transport(xmlrpc.client.Transport):
    def __init__(self, port: int) -> None:
        super().__init__()
        self.router_port = port

    def make_connection(self, host: object) -> http.client.HTTPConnection:
        return Conn(self.router_port)


def http_request(env: Env, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = Conn(env.router_port)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def png() -> bytes:
    """A real 2x2 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes([255, 0, 0, 0, 255, 0]) for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def wait_http(env: Env, path: str, want: bytes, timeout: float = 90) -> bytes:
    deadline = time.monotonic() + timeout
    last = b""
    while time.monotonic() < deadline:
        try:
            status, body = http_request(env, "GET", path)
            last = f"{status} ".encode() + body[:300]
            if status == 200 and want in body:
                return body
        except OSError as e:
            last = repr(e).encode()
        time.sleep(1)
    raise AssertionError(f"GET {path} never showed {want!r}; last: {last!r}")


def test_wordpress_with_mysql_and_uploads_survives_a_redeploy(berth_env: Env, tmp_path: Path):
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        pytest.skip("needs apt-get and dpkg-deb (Debian) to fetch the wordpress package")
    env = berth_env
    src = tmp_path / "blog"
    prepared = subprocess.run([str(REPO / "examples" / "wordpress" / "prepare.sh"), str(src)],
                              capture_output=True, text=True, timeout=600)
    assert prepared.returncode == 0, prepared.stderr
    assert (src / "wp-includes" / "version.php").is_file()
    assert not [p for p in src.rglob("*") if p.is_symlink()]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=src, check=True)
    commit(src, "WordPress from Debian")

    # the steps of docs/wordpress.md
    env.berth("stacks:build", "php", "mysql", timeout=1800)
    env.berth("apps:create", APP)
    env.berth("mysql:create", "blog-db")
    env.berth("mysql:link", "blog-db", APP)
    env.berth("config:set", APP, "WP_SALT=" + os.urandom(24).hex())
    env.berth("storage:ensure-directory", "blog-uploads")
    uploads = env.root / "storage" / "blog-uploads"
    env.berth("storage:mount", APP, f"{uploads}:/usr/share/wordpress/wp-content/uploads")
    res = push(env, src, env.ssh_remote(APP), timeout=1800)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "with the dockerfile builder" in res.stderr

    # not installed yet: WordPress sends us to its installer
    status, _ = http_request(env, "GET", "/")
    assert status == 302
    wait_http(env, "/wp-admin/install.php", b"WordPress")
    form = urllib.parse.urlencode({
        "weblog_title": "Berth Blog", "user_name": ADMIN, "admin_password": PASSWORD,
        "admin_password2": PASSWORD, "pw_weak": "on", "admin_email": "admin@example.com",
        "blog_public": "0", "language": "", "Submit": "Install WordPress"}).encode()
    status, body = http_request(env, "POST", "/wp-admin/install.php?step=2", form,
                                {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and b"Success!" in body, body[-2000:]

    # a post and an upload, through XML-RPC with the admin's credentials
    rpc = xmlrpc.client.ServerProxy(f"http://{HOST}/xmlrpc.php",
                                    transport=Transport(env.router_port))
    post_id = int(rpc.wp.newPost(0, ADMIN, PASSWORD, {
        "post_title": "Shipped with berth", "post_status": "publish",
        "post_content": "A post that must outlive a redeploy."}))
    image = png()
    upload = rpc.wp.uploadFile(0, ADMIN, PASSWORD, {
        "name": "berth-logo.png", "type": "image/png", "bits": xmlrpc.client.Binary(image)})
    upload_path = urllib.parse.urlparse(upload["url"]).path
    assert upload_path.startswith("/wp-content/uploads/") and upload_path.endswith(".png")
    on_disk = uploads / upload_path.removeprefix("/wp-content/uploads/")
    assert on_disk.read_bytes() == image  # on the mounted storage, on the host

    wait_http(env, f"/?p={post_id}", b"Shipped with berth")
    assert http_request(env, "GET", upload_path) == (200, image)
    # WordPress's scheduled tasks run from app.json cron, not from page views
    assert "wp-cron.php" in env.berth("cron:list", APP).stdout
    res = env.berth("run", APP, "php", "/usr/share/wordpress/wp-cron.php", check=False)
    assert res.returncode == 0, res.stdout + res.stderr

    # redeploy: new image, new containers; the post (mysql) and the upload (storage) stay
    (src / "berth-deploy.txt").write_text("second deploy\n")
    commit(src, "redeploy")
    res = push(env, src, env.ssh_remote(APP), timeout=1800)
    assert res.returncode == 0, res.stdout + res.stderr
    rels = json.loads(env.berth("releases", APP, "--format", "json").stdout)
    assert rels[0]["current"] and rels[0]["description"].startswith("Deploy ")
    wait_http(env, f"/?p={post_id}", b"A post that must outlive a redeploy.")
    assert http_request(env, "GET", upload_path) == (200, image)
    assert http_request(env, "GET", "/berth-deploy.txt") == (200, b"second deploy\n")
    got = rpc.wp.getPost(0, ADMIN, PASSWORD, post_id)
    assert got["post_title"] == "Shipped with berth"
    # the upload directory is data: PHP never runs there
    (uploads / "evil.php").write_text("<?php echo 'ran';")
    assert b"ran" != http_request(env, "GET", "/wp-content/uploads/evil.php")[1]

    env.berth("apps:destroy", APP, "--force")
    env.berth("mysql:destroy", "blog-db", "--force")
