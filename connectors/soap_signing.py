"""zeep clients that sign every request with the contract's enveloped XML-DSig (DESIGN §2), built safely.

Shared by everything that speaks the contract as a client — the national portal simulator calling the
gateway's `MinistryExchange`, and the gateway calling the portal's `NationalExchange` — so both sign
exactly alike. Imports only `signing`, `zeep`, `lxml` and `requests` (zeep's HTTP library): nothing
of `gateway` or of `connectors.national_sim`.

- `SigningPlugin`: signs the Body's one request element on the way out, judges responses on the way in.
- `hardened_settings()`: strict parsing, no DTD, no entities, no huge trees.
- `SameOriginTransport`: loads the WSDL's documents from the WSDL's own origin only (a local WSDL:
  local files only), never follows an HTTP redirect on an operation, bounds every operation by a timeout.
- `build_client(wsdl_url)`: a client from a served WSDL (`…?wsdl`); `build_signed_client(wsdl)`: a
  signing client from a LOCAL WSDL file, bound to an endpoint taken from settings.

zeep's `forbid_external=True` would refuse a served WSDL's own `xsd:import` of `?xsd=…` (it blocks
every transitive http(s) fetch), so it stays off; the transport does that job instead.

Errors a call may raise, for the caller to classify: `zeep.exceptions.Fault` (a SOAP Fault: `.code`
e.g. "soap:Server.Unavailable"), `zeep.exceptions.TransportError` (HTTP status other than 200 without
a SOAP Fault — `.status_code`, e.g. 503 — or a redirect), `requests.exceptions.Timeout` /
`requests.exceptions.ConnectionError` (the network), `signing.SigningError` (the request could not
be signed).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.proxy import ServiceProxy
from zeep.transports import Transport

import signing

__all__ = [
    "DSIG_NAMESPACE",
    "SOAP_ENV",
    "ForeignImportRefused",
    "ResponseRecord",
    "SameOriginTransport",
    "SigningPlugin",
    "build_client",
    "build_signed_client",
    "hardened_settings",
]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
_BODY = f"{{{SOAP_ENV}}}Body"
_FAULT = f"{{{SOAP_ENV}}}Fault"
_SIGNATURE = f"{{{DSIG_NAMESPACE}}}Signature"


# --------------------------------------------------------------------------- signing plugin


@dataclass(frozen=True)
class ResponseRecord:
    """One response as the client saw it."""

    raw: bytes
    """The envelope, serialised again from zeep's parsed tree (comments are dropped by zeep)."""
    operation: str | None
    fault: bool
    verdict: str
    """"valid", "invalid:<SigningError code>", "absent" (no ds:Signature), or "unchecked" (no trust store)."""
    signer: str | None
    """The organisation id (mã định danh) of a valid signature's certificate."""


class SigningPlugin(zeep.Plugin):
    """Sign requests with `key` (None: send them unsigned, for refusal tests); judge responses with `trust`.

    zeep builds the request element without a signature (the XSD ends each request with an optional
    `xs:any` in the ds namespace, which zeep leaves empty); `egress` replaces the Body's one child with
    `signing.sign_xml(child, key)`, which appends `ds:Signature` as the last child, signed as if the
    element were the root. zeep serialises the envelope after the plugins run and exclusive C14N
    ignores the envelope's namespaces, so the signature survives the trip.

    `ingress` keeps the last response (re-serialised from what zeep parsed) and a verdict on its
    signature. Responses may or may not be signed, so nothing fails here: callers read
    `last_response.verdict`. A response zeep cannot parse (an HTTP 503 page) never reaches a plugin.

    One plugin per client, and one client per thread: `last_request`/`last_response` are per client.
    """

    def __init__(
        self,
        key: signing.SigningKey | None,
        trust: signing.TrustStore | None = None,
        on_signed: Callable[[float], None] | None = None,  # seconds each request's signature took
    ) -> None:
        self._key = key
        self._trust = trust
        self._on_signed = on_signed
        self._lock = threading.Lock()
        self._last_request: bytes | None = None
        self._last_response: ResponseRecord | None = None

    @property
    def last_request(self) -> bytes | None:
        """The last envelope sent, as bytes, after signing."""
        with self._lock:
            return self._last_request

    @property
    def last_response(self) -> ResponseRecord | None:
        with self._lock:
            return self._last_response

    def reset(self) -> None:
        """Forget the last request and response, so that what is read after a call is that call's."""
        with self._lock:
            self._last_request = None
            self._last_response = None

    def egress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        body = envelope.find(_BODY)
        children = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        if body is None or len(children) != 1:
            raise signing.SigningError("the SOAP Body must hold exactly one request element to sign")
        if self._key is not None:
            started = time.perf_counter()
            body.replace(children[0], signing.sign_xml(children[0], self._key))
            if self._on_signed is not None:
                self._on_signed(time.perf_counter() - started)
        with self._lock:
            self._last_request = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        return envelope, http_headers

    def ingress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        body = envelope.find(_BODY)
        children = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        element = children[0] if len(children) == 1 else None
        fault = element is not None and element.tag == _FAULT
        verdict, signer = self._judge(element)
        record = ResponseRecord(
            raw=etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
            operation=getattr(operation, "name", None),
            fault=fault,
            verdict=verdict,
            signer=signer,
        )
        with self._lock:
            self._last_response = record
        return envelope, http_headers

    def _judge(self, element: etree._Element | None) -> tuple[str, str | None]:
        if element is None or element.find(_SIGNATURE) is None:
            return "absent", None
        if self._trust is None:
            return "unchecked", None
        try:
            verified = signing.verify_xml(element, self._trust)
        except signing.SigningError as exc:
            return f"invalid:{exc.code}", None
        return "valid", verified.organisation_id


# --------------------------------------------------------------------------- hardened loading


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

    A WSDL read from a local file may import local files only: nothing remote is fetched while loading.
    Operations (`post`) go to the bound address with `operation_timeout` as both the connect and the
    read timeout, and do not follow redirects: a 3xx answer reaches zeep as a `TransportError`, so a
    signed message (an answer letter with a citizen's data) is never re-sent to another origin.
    """

    def __init__(self, wsdl_url: str, *, timeout: float, operation_timeout: float) -> None:
        super().__init__(timeout=timeout, operation_timeout=operation_timeout)  # type: ignore[no-untyped-call]
        self._origin = _origin(wsdl_url)
        self._environment: dict[str, dict[str, Any]] = {}

    def load(self, url: str) -> bytes:
        origin = _origin(url)
        if origin != self._origin:
            where = "the local file system" if self._origin is None else f"the WSDL's origin {self._origin}"
            raise ForeignImportRefused(f"refusing to load {url}: not from {where}")  # type: ignore[no-untyped-call]
        content: bytes = super().load(url)  # type: ignore[no-untyped-call]
        return content

    def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> requests.Response:
        # What requests reads from the environment at every request (the proxies and NO_PROXY, the
        # CA bundle) is read once per address, at this client's first call: every status paid ~1 %
        # of the outbound CPU for it (BENCHMARKS.md, issue 7); the documents were loaded before.
        # Changing those variables later needs a restart. ~/.netrc is no longer consulted: the
        # portal trusts the request's signature, and no password from a file is sent to it.
        settings = self._environment.get(address)
        if settings is None:
            settings = self.session.merge_environment_settings(address, {}, None, None, None)
            self._environment[address] = settings
            self.session.trust_env = False
        response: requests.Response = self.session.post(
            address,
            data=message,
            headers=headers,
            timeout=self.operation_timeout,
            allow_redirects=False,
            proxies=settings["proxies"],
            verify=settings["verify"],
            cert=settings["cert"],
        )
        return response


def build_client(wsdl_url: str, *, plugins: Sequence[Any] = (), timeout: float = 30.0) -> zeep.Client:
    """Load a served WSDL (and its XSD) once; `timeout` bounds both the loading and every operation."""
    _check_timeout(timeout)
    transport = SameOriginTransport(wsdl_url, timeout=timeout, operation_timeout=timeout)
    return zeep.Client(  # type: ignore[no-untyped-call]
        wsdl_url, transport=transport, settings=hardened_settings(), plugins=list(plugins)
    )


def build_signed_client(
    wsdl: str | Path,
    *,
    key: signing.SigningKey | None,
    trust: signing.TrustStore | None,
    address: str | None = None,
    service: str | None = None,
    port: str | None = None,
    timeout: float = 30.0,
    on_signed: Callable[[float], None] | None = None,
) -> tuple[zeep.Client, ServiceProxy, SigningPlugin]:
    """A client of a LOCAL WSDL file whose every request is signed with `key` (None: unsigned).

    - `wsdl`: a path (or `file:` URL) on this machine; its imports are loaded from local files only.
    - `address`: the endpoint, from settings (e.g. "https://portal.example/soap/national"); the
      service proxy is then `client.create_service(<the port's binding QName>, address)` and the
      WSDL's `soap:address` is ignored. None: use the WSDL's address.
    - `service` / `port`: which `wsdl:service` / `wsdl:port` to take the binding from; None: the only
      one there is (a ValueError if the WSDL has several).
    - `timeout` (seconds): the connect timeout and the read timeout of every operation.
    - `trust`: judges response signatures, see `SigningPlugin`; None: verdict "unchecked".
    - `on_signed`: told how many seconds each request's signature took (metrics), on the calling thread.

    Returns (client, service proxy, plugin): call operations on the proxy, read the last request and
    response from the plugin.
    """
    _check_timeout(timeout)
    location = _local_wsdl(wsdl)
    if address is not None:
        _check_address(address)
    plugin = SigningPlugin(key, trust, on_signed)
    transport = SameOriginTransport(location, timeout=timeout, operation_timeout=timeout)
    client = zeep.Client(  # type: ignore[no-untyped-call]
        location, transport=transport, settings=hardened_settings(), plugins=[plugin]
    )
    chosen = _port(client, service, port)
    if address is None:
        proxy: ServiceProxy = client.bind(chosen[0], chosen[1])
    else:
        binding_qname = chosen[2]
        proxy = client.create_service(binding_qname, address)  # type: ignore[no-untyped-call]
    return client, proxy, plugin


# --------------------------------------------------------------------------- helpers


def _port(client: zeep.Client, service: str | None, port: str | None) -> tuple[str, str, str]:
    """(service name, port name, binding QName text) of the chosen port."""
    services = client.wsdl.services
    if service is None:
        if len(services) != 1:
            raise ValueError(f"the WSDL describes {list(services)}: name the service")
        service = next(iter(services))
    if service not in services:
        raise ValueError(f"the WSDL has no service {service!r}, only {list(services)}")
    ports = services[service].ports
    if port is None:
        if len(ports) != 1:
            raise ValueError(f"service {service} has ports {list(ports)}: name the port")
        port = next(iter(ports))
    if port not in ports:
        raise ValueError(f"service {service} has no port {port!r}, only {list(ports)}")
    return service, port, str(ports[port].binding.name.text)


def _local_wsdl(wsdl: str | Path) -> str:
    if isinstance(wsdl, str):
        scheme = urlsplit(wsdl).scheme
        if scheme == "file":
            wsdl = Path(unquote(urlsplit(wsdl).path))
        elif "://" in wsdl:
            raise ValueError(f"build_signed_client loads a local WSDL file, not {wsdl}")
    path = Path(wsdl).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no WSDL file at {path}")
    return str(path)


def _check_address(address: str) -> None:
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the endpoint address must be an http(s) URL, not {address!r}")


def _check_timeout(timeout: float) -> None:
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL; None for a local path or file: URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port
