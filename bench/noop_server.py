"""The gateway's server stack with nothing behind it: uvicorn + uvloop + httptools, one worker, a
FastAPI route that reads the body and answers a few bytes (as `gateway/cli/serve.py` serves).

    .venv/bin/python bench/noop_server.py --port 8099

`POST /noop` reads and answers; `POST /xsd` also parses the body with the gateway's hardened parser
and validates it against the contract's XSD (the body must be a bare `PetitionMessage`);
`POST /soap/receipt` reads the body and answers a fixed, unsigned SOAP `Receipt` (Accepted), built
once: what a zeep client call costs on the client's side, the portal's own work left out.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI, Request, Response
from lxml import etree

import schemas
from connectors.national_sim import wire
from gateway.bootstrap import load_schema
from gateway.inbound.xml_guard import parse_untrusted


def noop_app() -> FastAPI:
    app = FastAPI()
    schema = load_schema()

    @app.post("/noop")
    async def noop(request: Request) -> Response:
        await request.body()
        return Response(b"ok", media_type="text/plain")

    @app.post("/xsd")
    async def xsd(request: Request) -> Response:
        element = parse_untrusted(await request.body(), max_bytes=20 * 1024 * 1024, max_depth=64)
        return Response(b"ok" if schema.validate(element) else b"invalid", media_type="text/plain")

    receipt = _receipt()

    @app.post("/soap/receipt")
    async def soap_receipt(request: Request) -> Response:
        await request.body()
        return Response(receipt, media_type="text/xml; charset=utf-8")

    return app


def _receipt() -> bytes:
    ns = schemas.NAMESPACE
    element = etree.Element(f"{{{ns}}}Receipt", nsmap={"p": ns})
    values = ("00000000-0000-4000-8000-000000000000", "R-1", "true", "false")
    for name, value in zip(("MessageId", "ReceiptId", "Accepted", "Duplicate"), values, strict=True):
        etree.SubElement(element, f"{{{ns}}}{name}").text = value
    return wire.envelope(element)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        noop_app(),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
