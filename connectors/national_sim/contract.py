"""The `NationalExchange` contract as the simulator serves and enforces it.

- The WSDL is served with its `soap:address` and the XSD's `schemaLocation` rewritten to the
  request's base URL, so a zeep client built from `GET /soap/national?wsdl` calls this server.
- Requests are validated against the XSD on their own (detached from the envelope).
- Petitions for `PetitionList` are rendered by zeep from the generator's dicts: the same mapping
  the portal's clients use, so what the generator produces and what ListPetitions returns agree.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import zeep
from lxml import etree

import schemas
from connectors.soap_signing import hardened_settings

__all__ = ["PLACEHOLDER_ADDRESS", "SERVICE_PATH", "NationalContract"]

SERVICE_PATH = "/soap/national"
PLACEHOLDER_ADDRESS = "http://localhost:8090/soap/national"
"""The development address written in `schemas/national-exchange.wsdl`."""

_SCHEMA_BUILDING = threading.Lock()
"""libxml2 sets up its XSD built-in types at the first schema it parses, and two threads doing that
at once can leave them broken for the whole process ("the given type is not a built-in type" at
every parse after). The benchmark's simulator hit it: every request refused from then on."""

REQUESTS: dict[str, schemas.Operation] = {op.request: op for op in schemas.NATIONAL_OPERATIONS}
"""Request element local name -> operation (AnswerMessage -> ReceiveAnswer…)."""


class NationalContract:
    """Loaded once per app; validation uses one XMLSchema per thread (lxml validators keep state)."""

    def __init__(self) -> None:
        self._wsdl = schemas.national_wsdl_path().read_text(encoding="utf-8")
        if PLACEHOLDER_ADDRESS not in self._wsdl:
            raise RuntimeError(f"national-exchange.wsdl no longer has the address {PLACEHOLDER_ADDRESS}")
        self._xsd = schemas.xsd_path().read_bytes()
        self._local = threading.local()
        self._local.schema = _parse_schema()  # this thread's, and libxml2's types set up before any race
        self._zeep = zeep.Client(  # type: ignore[no-untyped-call]
            str(schemas.national_wsdl_path()), settings=hardened_settings()
        )
        self._petition_list: Any = self._zeep.get_element(  # type: ignore[no-untyped-call]
            f"{{{schemas.NAMESPACE}}}PetitionList"
        )

    def wsdl(self, base_url: str) -> str:
        base = base_url.rstrip("/")
        location = f'schemaLocation="{schemas.XSD_FILE}"'
        return self._wsdl.replace(PLACEHOLDER_ADDRESS, f"{base}{SERVICE_PATH}").replace(
            location, f'schemaLocation="{base}{SERVICE_PATH}?xsd={schemas.XSD_FILE}"'
        )

    def xsd(self, name: str) -> bytes | None:
        return self._xsd if name == schemas.XSD_FILE else None

    def schema_errors(self, detached: etree._Element) -> list[str]:
        """XSD errors ("line N: message") of a request element parsed as a document of its own."""
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:
            schema = _parse_schema()
            self._local.schema = schema
        if schema.validate(detached):
            return []
        entries: Iterable[Any] = schema.error_log  # type: ignore[assignment]  # lxml-stubs omit __iter__
        return [f"line {entry.line}: {entry.message}" for entry in entries]

    def petition_list(self, petitions: list[dict[str, Any]], next_cursor: str | None) -> etree._Element:
        holder = etree.Element("holder")
        value = self._petition_list(Petition=petitions, NextCursor=next_cursor)
        self._petition_list.render(holder, value)
        element: etree._Element = holder[0]
        holder.remove(element)
        return element


def _parse_schema() -> etree.XMLSchema:
    """A validator of the contract's XSD, one thread at a time (see `_SCHEMA_BUILDING`)."""
    with _SCHEMA_BUILDING:
        return etree.XMLSchema(etree.parse(str(schemas.xsd_path())))
