"""The simulator as a FastAPI app: `NationalExchange` at `POST /soap/national`, its contract, a summary.

- `GET /soap/national?wsdl` — the WSDL, addressed to this server; `?xsd=pakn-exchange-1.xsd` — the XSD.
- `POST /soap/national` — one SOAP 1.1 message; see `portal.py` for what happens to it.
- `GET /sim/received` — JSON summary of everything received (for humans and tests);
  `GET /sim/health` — liveness.
- `GET /sim/control` — the failure modes in force (`failure_modes.SimFaults`, also `app.state.faults`);
  `POST /sim/control` with a JSON object of the modes to change (422 on an unknown field or a bad
  value, nothing changed then); `DELETE /sim/control` — every mode off. Each answers the modes in force.
- `GET /sim/answers` — JSON list of the answer letters received;
  `GET /sim/answers/{PetitionId}/{AnswerId}.pdf` — an accepted letter's bytes.

The simulator has no authentication of its own: it is a development tool, served on 127.0.0.1 by default.

The body is read with a cap, so an oversized message never reaches the parser and memory stays
bounded; the checks run in a worker thread so a large signed answer does not stall the event loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

import signing
from connectors.national_sim.contract import SERVICE_PATH, NationalContract
from connectors.national_sim.failure_modes import SimFaults
from connectors.national_sim.ministry_client import GOVERNMENT_OFFICE, MOLISA
from connectors.national_sim.portal import NationalPortal, PortalPolicy
from connectors.national_sim.recorder import ReceivedAnswer, SimRecorder, answer_file_name

__all__ = ["DEFAULT_MAX_BODY_BYTES", "DEFAULT_MAX_DEPTH", "create_sim_app"]

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
"""An answer carries its signed PDF letter inline; 20 MiB covers a scanned letter with appendices."""
DEFAULT_MAX_DEPTH = 40
"""The deepest contract path (Envelope/Body/…/ds:X509Certificate) is under 10 levels."""
UNAVAILABLE_BODY = "503 Service Unavailable\n"
"""What the `down` failure mode answers: a load balancer's plain text, no SOAP envelope."""


class ControlUpdate(BaseModel):
    """`POST /sim/control`: the failure modes to change; absent or null fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    down: bool | None = None
    slow_seconds: float | None = None
    slow_commits: bool | None = None
    fault_next: int | None = None
    fault_code: str | None = None
    fault_for_petition: dict[str, str] | None = None


def create_sim_app(
    *,
    trust: signing.TrustStore | None,
    ministry_id: str = MOLISA,
    national_id: str = GOVERNMENT_OFFICE,
    record_dir: Path | None = None,
    signer: signing.SigningKey | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    faults: SimFaults | None = None,
) -> FastAPI:
    """`trust` None records messages without judging signatures (verdict "unverified"/"absent").

    `faults`: the failure modes to start with (None: all off); the app keeps it as `app.state.faults`.
    """
    recorder = SimRecorder(record_dir)
    faults = faults if faults is not None else SimFaults()
    contract = NationalContract()
    policy = PortalPolicy(ministry_id, national_id, max_body_bytes, max_depth)
    portal = NationalPortal(
        policy=policy, contract=contract, recorder=recorder, trust=trust, signer=signer, faults=faults
    )

    app = FastAPI(
        title="PAKN national portal simulator",
        description="Mô phỏng Hệ thống thông tin phản ánh, kiến nghị quốc gia — NationalExchange.",
        version="1.0.0",
    )
    app.state.recorder = recorder
    app.state.portal = portal
    app.state.faults = faults

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
        delay = faults.slow_seconds
        if delay > 0:
            await asyncio.sleep(delay)
            if not faults.slow_commits and await request.is_disconnected():
                await asyncio.to_thread(portal.record_refusal, raw, outcome="slow", oversized=oversized)
                return Response(UNAVAILABLE_BODY, status_code=503, media_type="text/plain; charset=utf-8")
        if faults.down:
            await asyncio.to_thread(portal.record_refusal, raw, outcome="down", oversized=oversized)
            return Response(UNAVAILABLE_BODY, status_code=503, media_type="text/plain; charset=utf-8")
        status, body = await asyncio.to_thread(portal.handle, raw, oversized=oversized)
        return Response(body, status_code=status, media_type=SOAP_CONTENT_TYPE)

    @app.get("/sim/control", tags=["simulator"])
    async def control_state() -> dict[str, Any]:
        return faults.snapshot()

    @app.post("/sim/control", tags=["simulator"], response_model=None)
    async def control_update(update: ControlUpdate) -> dict[str, Any] | JSONResponse:
        try:
            faults.update(**update.model_dump(exclude_none=True))
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return faults.snapshot()

    @app.delete("/sim/control", tags=["simulator"])
    async def control_reset() -> dict[str, Any]:
        faults.reset()
        return faults.snapshot()

    @app.get("/sim/answers", tags=["simulator"])
    async def answers() -> list[dict[str, Any]]:
        return [_answer_entry(answer) for answer in recorder.answers()]

    @app.get("/sim/answers/{name:path}", tags=["simulator"], response_model=None)
    async def answer_pdf(name: str) -> Response:
        """`{PetitionId}/{AnswerId}.pdf`, matched against the ids received (never a file-system path)."""
        for answer in reversed(recorder.answers()):
            if answer.sha256_ok and name == f"{answer.petition_id}/{answer.answer_id}.pdf":
                filename = answer_file_name(answer.petition_id, answer.answer_id)
                return Response(
                    answer.pdf,
                    media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'},
                )
        return JSONResponse({"detail": "no accepted answer letter with these ids"}, status_code=404)

    @app.get("/sim/received", tags=["simulator"])
    async def received() -> JSONResponse:
        return JSONResponse(recorder.summary())

    @app.get("/sim/health", tags=["simulator"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _answer_entry(answer: ReceivedAnswer) -> dict[str, Any]:
    url = None
    if answer.sha256_ok:
        url = f"/sim/answers/{quote(answer.petition_id, safe='')}/{quote(answer.answer_id, safe='')}.pdf"
    return answer.summary() | {"url": url}


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
