"""Serves the contract files of schemas/ with the endpoint address peers must use."""

from __future__ import annotations

from pathlib import Path

import schemas

PLACEHOLDER_ADDRESS = "http://localhost:8080/soap/pakn"
XSD_NAME = "pakn-exchange-1.xsd"


class ServedContract:
    def __init__(self, public_url: str | None) -> None:
        self._public_url = public_url.rstrip("/") if public_url else None
        self._wsdl = Path(schemas.ministry_wsdl_path()).read_text(encoding="utf-8")
        self._xsd = Path(schemas.xsd_path()).read_bytes()

    def wsdl(self, request_base_url: str) -> str:
        # A configured public URL wins over the Host header (behind a proxy the header is internal).
        base = self._public_url or request_base_url.rstrip("/")
        return self._wsdl.replace(PLACEHOLDER_ADDRESS, f"{base}/soap/pakn").replace(
            f'schemaLocation="{XSD_NAME}"', f'schemaLocation="{base}/soap/pakn?xsd={XSD_NAME}"'
        )

    def xsd(self, name: str) -> bytes | None:
        return self._xsd if name == XSD_NAME else None
