"""The gateway terminating TLS itself, with mutual TLS: `pakn-gateway serve` as a real process on
https, a client certificate from the configured CA let in, no certificate or a foreign one refused
in the handshake, and a broken TLS setting stopping the start with its name."""

from __future__ import annotations

import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.amqp import own_vhost
from tests.support.databases import sqlite_url
from tests.support.gateway_process import EXE, GatewayProcess, free_port
from tests.support.tls import Issued, ScratchCa

pytestmark = pytest.mark.e2e

READY = 60.0


def client(ca: Path, cert: Issued | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(cert.cert, cert.key)
    return httpx.Client(verify=context, timeout=5)


def wait_live(url: str, ca: Path, cert: Issued, gateway: GatewayProcess) -> None:
    deadline = time.monotonic() + READY
    while True:
        assert gateway.process is not None and gateway.process.poll() is None, gateway.tail()
        try:
            with client(ca, cert) as c:
                if c.get(f"{url}/health/ready").json().get("broker") == "connected":
                    return
        except (httpx.TransportError, ValueError):
            pass
        assert time.monotonic() < deadline, f"the gateway did not come up on https\n{gateway.tail()}"
        time.sleep(0.3)


async def test_mutual_tls_lets_in_only_clients_with_a_certificate_from_the_configured_ca(
    tmp_path: Path,
) -> None:
    ministry_ca = ScratchCa(tmp_path / "tls", "PAKN TLS CA")
    server = ministry_ca.issue("gateway-tls", "127.0.0.1", server=True)
    portal = ministry_ca.issue("portal-client", "Cổng Dịch vụ công quốc gia", server=False)
    stranger = ScratchCa(tmp_path / "other", "Other CA").issue("stranger", "kẻ lạ", server=False)
    port = free_port()
    async with own_vhost() as amqp_url:
        gateway = GatewayProcess(
            {
                "PAKN_ENVIRONMENT": "test",
                "PAKN_DATABASE_URL": sqlite_url(tmp_path),
                "PAKN_AMQP_URL": amqp_url,
                "PAKN_PKI_DIR": str(tmp_path / "pki"),
                "PAKN_HTTP_PORT": str(port),
                "PAKN_RECONCILE_AT": "off",
                "PAKN_TLS_CERT": str(server.cert),
                "PAKN_TLS_KEY": str(server.key),
                "PAKN_TLS_CLIENT_CA": str(ministry_ca.issued.cert),
            },
            tmp_path,
        )
        gateway.start()
        try:
            url = f"https://127.0.0.1:{port}"
            wait_live(url, ministry_ca.issued.cert, portal, gateway)
            with client(ministry_ca.issued.cert, portal) as c:
                wsdl = c.get(f"{url}/soap/pakn?wsdl")
                assert wsdl.status_code == 200
                assert f'location="{url}/soap/pakn"' in wsdl.text  # peers are told the https address
            for who in (None, stranger):
                with client(ministry_ca.issued.cert, who) as c, pytest.raises(httpx.TransportError):
                    c.get(f"{url}/health/live")
            with pytest.raises(httpx.TransportError):
                # no plain http beside it (blocking on purpose: nothing else runs on this loop)
                httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=5)  # noqa: ASYNC210
        finally:
            gateway.stop()


def test_a_tls_setting_that_does_not_hold_stops_the_start(tmp_path: Path) -> None:
    ca = ScratchCa(tmp_path / "tls", "PAKN TLS CA")
    server = ca.issue("gateway-tls", "127.0.0.1", server=True)
    base = {
        "PATH": "/usr/bin:/bin",
        "PAKN_DATABASE_URL": sqlite_url(tmp_path),
        "PAKN_PKI_DIR": str(tmp_path / "pki"),
        "PAKN_HTTP_PORT": str(free_port()),
    }
    cases = [
        ({"PAKN_TLS_CERT": str(server.cert)}, "PAKN_TLS_CERT and PAKN_TLS_KEY go together"),
        (
            {"PAKN_TLS_CERT": str(server.cert), "PAKN_TLS_KEY": str(ca.issued.key)},
            "TLS certificate, key or client CA unusable",
        ),
        (
            {"PAKN_TLS_CERT": str(server.cert), "PAKN_TLS_KEY": str(tmp_path / "nowhere.key")},
            "TLS file not found",
        ),
    ]
    for extra, message in cases:
        done = subprocess.run([EXE, "serve"], env=base | extra, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (extra, done.stdout, done.stderr)
        assert message in done.stderr, done.stderr
