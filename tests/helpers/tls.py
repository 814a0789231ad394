"""A throwaway TLS certificate for servers of tests on loopback."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context for 127.0.0.1 and the certificate a client must trust for it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x"]
    args += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        ["openssl", *args, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx, cert
