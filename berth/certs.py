"""TLS certificates of apps: add (files or a tar), generate (self-signed), report, remove.

The PEM text lives in the database (mode 0600); routers read files written from it under
``ROOT/tls/APP/{cert,key}.pem`` (directory 0700, files 0600) by :func:`materialize`, which
routing calls on every apply, so a lost file is rewritten and a removed cert's files go.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

from berth.context import Ctx
from berth.errors import NotFound, ValidationError
from berth.files import write_atomic
from berth.models import App
from berth.store import certs as store

MAX_PEM = 256 * 1024
CERT_NAMES = (".crt", ".pem", ".cert")
KEY_NAMES = (".key",)


def tls_dir(ctx: Ctx) -> Path:
    return ctx.paths.root / "tls"


def _x509() -> Any:
    from cryptography import x509

    return x509


def check_pair(cert_pem: str, key_pem: str) -> None:
    """Both parse, the key is private and belongs to the (first) certificate."""
    from cryptography.hazmat.primitives import serialization

    if len(cert_pem) > MAX_PEM or len(key_pem) > MAX_PEM:
        raise ValidationError(f"certificate or key larger than {MAX_PEM // 1024} KiB")
    try:
        chain = _x509().load_pem_x509_certificates(cert_pem.encode())
    except ValueError:
        raise ValidationError("the certificate is not a PEM X.509 certificate "
                              "(-----BEGIN CERTIFICATE-----)") from None
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValidationError("the key is not an unencrypted PEM private key "
                              "(-----BEGIN PRIVATE KEY-----)") from None
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if key.public_key().public_bytes(enc, pub) != chain[0].public_key().public_bytes(enc, pub):
        raise ValidationError("the key does not belong to the certificate")


def from_tar(data: bytes) -> tuple[str, str]:
    """The certificate (*.crt/*.pem) and key (*.key) of a tar (like Dokku's server.crt and
    server.key); members are read in memory, never extracted."""
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    except tarfile.TarError:
        raise ValidationError("stdin is not a tar archive with a .crt and a .key file") from None
    found: dict[str, str] = {}
    with tar:
        for member in tar.getmembers():
            if not member.isfile() or member.size > MAX_PEM:
                continue
            name = os.path.basename(member.name)
            kind = ("key" if name.endswith(KEY_NAMES) else
                    "cert" if name.endswith(CERT_NAMES) else None)
            if kind is None:
                continue
            if kind in found:
                raise ValidationError(f"the tar holds more than one {kind} file")
            f = tar.extractfile(member)
            if f is not None:
                found[kind] = f.read().decode(errors="replace")
    if set(found) != {"cert", "key"}:
        raise ValidationError("the tar must hold one certificate (.crt) and one key (.key)")
    return found["cert"], found["key"]


def generate(hosts: list[str], *, days: int = 365) -> tuple[str, str]:
    """A self-signed certificate for ``hosts`` (SANs, wildcards kept) and its key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    x509 = _x509()
    if not hosts:
        raise ValidationError("the app has no domain to put in a certificate; add one with "
                              "domains:add or enable its default vhost")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0][:64])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert_pem, key_pem


def describe(cert_pem: str) -> dict[str, Any]:
    """Subject, issuer, SANs, validity and fingerprint of the first certificate."""
    from cryptography.hazmat.primitives import hashes

    x509 = _x509()
    cert = x509.load_pem_x509_certificates(cert_pem.encode())[0]
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = sans.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    expires = cert.not_valid_after_utc
    now = datetime.datetime.now(datetime.UTC)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": names,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "expires": expires.isoformat(),
        "expires_in_days": (expires - now).days,
        "self_signed": cert.issuer == cert.subject,
        "fingerprint_sha256": cert.fingerprint(hashes.SHA256()).hex(":"),
    }


def report(ctx: Ctx, app: App) -> dict[str, Any]:
    from berth import routing

    row = store.get(ctx.conn, app.id)
    auto = routing.tls_mode(ctx, app.id) == "auto" or (
        ctx.conn.execute("SELECT 1 FROM app_settings WHERE app_id = ? AND key = 'tls.auto' "
                         "AND value = 'on'", (app.id,)).fetchone() is not None)
    data: dict[str, Any] = {"app": app.name, "enabled": row is not None, "tls_auto": auto}
    if row is not None:
        data.update(source=row.source, **describe(row.cert_pem))
    return data


def add(ctx: Ctx, app: App, cert_pem: str, key_pem: str, *, source: str = "custom") -> None:
    check_pair(cert_pem, key_pem)
    store.put(ctx.conn, app.id, cert_pem, key_pem, source)


def remove(ctx: Ctx, app: App) -> None:
    if not store.remove(ctx.conn, app.id):
        raise NotFound(f"app {app.name!r} has no certificate")


def _write(path: Path, text: str) -> None:
    write_atomic(path, text, mode=0o600, if_changed=True)


def materialize(ctx: Ctx, app: App) -> tuple[Path, Path]:
    """Write the app's certificate and key files from the store; their paths."""
    row = store.get(ctx.conn, app.id)
    if row is None:
        raise NotFound(f"app {app.name!r} has no certificate")
    base = tls_dir(ctx)
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    # A new certificate gets a new directory, so the router's config changes with it and the
    # router reloads it (same paths would look like the same config).
    version = hashlib.sha256((row.cert_pem + row.key_pem).encode()).hexdigest()[:16]
    app_dir = base / app.name
    d = app_dir / version
    d.mkdir(parents=True, exist_ok=True)
    for x in (app_dir, d):
        os.chmod(x, 0o700)
    for old in app_dir.iterdir():
        if old.name != version:
            shutil.rmtree(old, ignore_errors=True)
    cert, key = d / "cert.pem", d / "key.pem"
    _write(cert, row.cert_pem if row.cert_pem.endswith("\n") else row.cert_pem + "\n")
    _write(key, row.key_pem if row.key_pem.endswith("\n") else row.key_pem + "\n")
    return cert, key


def prune(ctx: Ctx, keep: set[str]) -> None:
    """Remove certificate files of apps not in ``keep``."""
    base = tls_dir(ctx)
    if not base.is_dir():
        return
    for d in base.iterdir():
        if d.is_dir() and d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
