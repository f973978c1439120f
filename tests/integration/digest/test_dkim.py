"""DKIM: with a key configured, digests leave DKIM-signed and the signature verifies against
the published public key (dkimpy, the DNS lookup answered by the test)."""

from __future__ import annotations

import base64
import subprocess
from datetime import date
from pathlib import Path

import dkim

from tests.integration.digest.support import ScriptedSink, add_confirmed, make_services, sender


def test_a_configured_key_signs_digests_verifiably(
    tmp_path: Path, store_url: str, sink: ScriptedSink
) -> None:
    key = tmp_path / "dkim.pem"
    subprocess.run(
        [
            "openssl",
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            str(key),
        ],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "pkey", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    services = make_services(
        tmp_path,
        store_url,
        sink,
        dkim_private_key_file=key,
        dkim_selector="s1",
        mail_from="Papers <digest@papers.example.org>",
    )
    try:
        add_confirmed(services, "signed@example.org")
        assert sender(services).run("weekly", date(2026, 11, 2)).sent == 1
    finally:
        services.close()
    raw = sink.raw[-1]
    assert raw.startswith(b"DKIM-Signature:") and b"d=papers.example.org" in raw[:600]
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.papers.example.org."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"Why: ", b"Why? ", 1), dnsfunc=dns)
