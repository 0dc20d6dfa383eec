"""zeep clients for the two services, built once from a served WSDL with hostile-XML defaults.

zeep's `forbid_external=True` would refuse the WSDL's own `xsd:import` of `?xsd=pakn-exchange-1.xsd`
(it blocks every transitive http(s) fetch), so it stays off; instead the transport refuses to load
anything from another origin than the WSDL's. DTDs and entities are refused, huge trees too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import zeep
import zeep.exceptions
from zeep.transports import Transport

__all__ = ["ForeignImportRefused", "SameOriginTransport", "build_client", "hardened_settings"]


class ForeignImportRefused(zeep.exceptions.Error):
    """The WSDL tried to make the client fetch a document from another origin (SSRF guard)."""


def hardened_settings() -> zeep.Settings:
    """strict parsing (no recover mode), no DTD, no entities, no huge trees."""
    return zeep.Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=False,  # see the module docstring: SameOriginTransport does this job
        xml_huge_tree=False,
    )


class SameOriginTransport(Transport):
    """A zeep transport that loads documents only from the origin (scheme, host, port) of the WSDL.

    A WSDL read from a local file may import local files only.
    """

    def __init__(self, wsdl_url: str, *, timeout: float, operation_timeout: float) -> None:
        super().__init__(timeout=timeout, operation_timeout=operation_timeout)  # type: ignore[no-untyped-call]
        self._origin = _origin(wsdl_url)

    def load(self, url: str) -> bytes:
        origin = _origin(url)
        if origin != self._origin:
            message = f"refusing to load {url}: not from the WSDL's origin {self._origin}"
            raise ForeignImportRefused(message)  # type: ignore[no-untyped-call]
        content: bytes = super().load(url)  # type: ignore[no-untyped-call]
        return content


def build_client(wsdl_url: str, *, plugins: Sequence[Any] = (), timeout: float = 30.0) -> zeep.Client:
    """Load the WSDL (and its XSD) once; `timeout` bounds both the loading and every operation."""
    transport = SameOriginTransport(wsdl_url, timeout=timeout, operation_timeout=timeout)
    return zeep.Client(  # type: ignore[no-untyped-call]
        wsdl_url, transport=transport, settings=hardened_settings(), plugins=list(plugins)
    )


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL; None for a local path or file: URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port
