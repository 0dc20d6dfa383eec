"""TLS when the gateway terminates it itself (no reverse proxy in front): uvicorn's options.

With `tls_client_ca` set it is mutual TLS on the one port the gateway serves: every client — the
national portal, the units' systems, operators' browsers — presents a certificate from those CAs
(the national peer is still authenticated by its message signature as well; TLS guards the pipe).
"""

from __future__ import annotations

import ssl
from typing import Any

from gateway.settings import Settings
from gateway.startup_errors import StartupError


def uvicorn_tls_options(settings: Settings) -> dict[str, Any]:
    if settings.tls_cert is None or settings.tls_key is None:
        return {}
    for path in (settings.tls_cert, settings.tls_key, settings.tls_client_ca):
        if path is not None and not path.is_file():
            raise StartupError(f"TLS file not found: {path}")
    # Loaded once here so that a wrong file stops the start with its name, not a uvicorn trace.
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
        if settings.tls_client_ca is not None:
            context.load_verify_locations(settings.tls_client_ca)
    except (ssl.SSLError, ValueError) as exc:
        raise StartupError(f"TLS certificate, key or client CA unusable: {exc}") from exc
    options: dict[str, Any] = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    if settings.tls_client_ca is not None:
        options["ssl_ca_certs"] = str(settings.tls_client_ca)
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
    return options
