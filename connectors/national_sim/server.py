"""The simulator as a FastAPI app: `NationalExchange` at `POST /soap/national`, its contract, a summary.

- `GET /soap/national?wsdl` — the WSDL, addressed to this server; `?xsd=pakn-exchange-1.xsd` — the XSD.
- `POST /soap/national` — one SOAP 1.1 message; see `portal.py` for what happens to it.
- `GET /sim/received` — JSON summary of everything received (for humans and tests);
  `GET /sim/health` — liveness.

The body is read with a cap, so an oversized message never reaches the parser and memory stays
bounded; the checks run in a worker thread so a large signed answer does not stall the event loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

import signing
from connectors.national_sim.contract import SERVICE_PATH, NationalContract
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA
from connectors.national_sim.portal import NationalPortal, PortalPolicy
from connectors.national_sim.recorder import SimRecorder

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_DEPTH", "create_sim_app"]

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
"""An answer carries its signed PDF letter inline; 20 MiB covers a scanned letter with appendices."""
DEFAULT_MAX_DEPTH = 40
"""The deepest contract path (Envelope/Body/…/ds:X509Certificate) is under 10 levels."""


def create_sim_app(
    *,
    trust: signing.TrustStore | None,
    ministry_id: str = MOLISA,
    national_id: str = GOVERNMENT_OFFICE,
    record_dir: Path | None = None,
    signer: signing.SigningKey | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> FastAPI:
    """`trust` None records messages without judging signatures (verdict "unverified"/"absent")."""
    recorder = SimRecorder(record_dir)
    contract = NationalContract()
    policy = PortalPolicy(ministry_id, national_id, max_body_bytes, max_depth)
    portal = NationalPortal(policy=policy, contract=contract, recorder=recorder, trust=trust, signer=signer)

    app = FastAPI(
        title="PAKN national portal simulator",
        description="Mô phỏng Hệ thống thông tin phản ánh, kiến nghị quốc gia — NationalExchange.",
        version="1.0.0",
    )
    app.state.recorder = recorder
    app.state.portal = portal

    @app.get(SERVICE_PATH, include_in_schema=False)
    async def describe(request: Request) -> Response:
        params = request.query_params
        if "wsdl" in params:
            return Response(contract.wsdl(str(request.base_url)), media_type=SOAP_CONTENT_TYPE)
        name = params.get("xsd")
        document = contract.xsd(name) if name is not None else None
        if document is not None:
            return Response(document, media_type=SOAP_CONTENT_TYPE)
        return Response("use ?wsdl", status_code=404, media_type="text/plain; charset=utf-8")

    @app.post(SERVICE_PATH, include_in_schema=False)
    async def exchange(request: Request) -> Response:
        raw, oversized = await _read_capped(request, max_body_bytes)
        status, body = await asyncio.to_thread(portal.handle, raw, oversized=oversized)
        return Response(body, status_code=status, media_type=SOAP_CONTENT_TYPE)

    @app.get("/sim/received", tags=["simulator"])
    async def received() -> JSONResponse:
        return JSONResponse(recorder.summary())

    @app.get("/sim/health", tags=["simulator"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _read_capped(request: Request, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes; past it only a prefix is kept (for the record) and the body is flagged."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:4096], True
        chunks.append(chunk)
    return b"".join(chunks), False
