"""Certificates: generation, checks of a cert/key pair, tar input, report, files on disk."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import pytest

from berth import certs
from berth.context import Ctx
from berth.errors import NotFound, ValidationError
from berth.paths import Paths
from berth.store import apps as store_apps


def test_generated_certificate_covers_the_hosts() -> None:
    cert, key = certs.generate(["app.example.com", "*.example.org"], days=30)
    certs.check_pair(cert, key)
    info = certs.describe(cert)
    assert info["subject"] == "CN=app.example.com"
    assert info["sans"] == ["app.example.com", "*.example.org"]
    assert info["self_signed"] is True
    assert 28 <= info["expires_in_days"] <= 30
    assert len(info["fingerprint_sha256"].split(":")) == 32


def test_generate_needs_a_host() -> None:
    with pytest.raises(ValidationError, match="no domain"):
        certs.generate([])


def test_pairs_are_checked() -> None:
    cert, key = certs.generate(["a.example.com"])
    _, other_key = certs.generate(["b.example.com"])
    with pytest.raises(ValidationError, match="does not belong"):
        certs.check_pair(cert, other_key)
    with pytest.raises(ValidationError, match="not a PEM X.509 certificate"):
        certs.check_pair("garbage", key)
    with pytest.raises(ValidationError, match="not an unencrypted PEM private key"):
        certs.check_pair(cert, cert)
    with pytest.raises(ValidationError, match="larger than"):
        certs.check_pair(cert + "x" * certs.MAX_PEM, key)


def _tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_tar_gives_the_cert_and_the_key() -> None:
    cert, key = certs.generate(["a.example.com"])
    assert certs.from_tar(_tar({"server.crt": cert, "server.key": key})) == (cert, key)
    assert certs.from_tar(_tar({"x/../tls/server.crt": cert, "README": "hi",
                                "server.key": key})) == (cert, key)
    with pytest.raises(ValidationError, match="one certificate"):
        certs.from_tar(_tar({"server.crt": cert}))
    with pytest.raises(ValidationError, match="more than one key"):
        certs.from_tar(_tar({"a.key": key, "b.key": key, "c.crt": cert}))
    with pytest.raises(ValidationError, match="not a tar"):
        certs.from_tar(b"not a tar at all")


def test_files_are_written_private_and_pruned(tmp_path: Path) -> None:
    ctx = Ctx(paths=Paths(tmp_path / "root"))
    app = store_apps.create(ctx.conn, "web")
    with pytest.raises(NotFound):
        certs.materialize(ctx, app)
    cert, key = certs.generate(["web.localhost"])
    certs.add(ctx, app, cert, key)
    cert_path, key_path = certs.materialize(ctx, app)
    assert cert_path.read_text() == cert and key_path.read_text() == key
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    # a new certificate: new paths (the router sees a new config), the old files go
    cert2, key2 = certs.generate(["web.localhost"])
    certs.add(ctx, app, cert2, key2)
    new_cert, _ = certs.materialize(ctx, app)
    assert new_cert != cert_path and new_cert.read_text() == cert2
    assert not cert_path.exists()
    cert_path = new_cert
    report = certs.report(ctx, app)
    assert report["enabled"] and report["source"] == "custom"
    assert report["sans"] == ["web.localhost"]
    certs.prune(ctx, set())
    assert not cert_path.parent.parent.exists()
    certs.remove(ctx, app)
    with pytest.raises(NotFound):
        certs.remove(ctx, app)
    assert certs.report(ctx, app)["enabled"] is False
