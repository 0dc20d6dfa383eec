import pytest
from lxml import etree

from gateway.inbound.faults import CATALOGUE, SoapFault
from gateway.inbound.soap_envelope import SOAP_ENV, fault_bytes, request_element
from gateway.inbound.xml_guard import parse_untrusted

pytestmark = pytest.mark.unit

LIMIT = 64 * 1024


def fault_code(raw: bytes, *, max_bytes: int = LIMIT, max_depth: int = 64) -> str:
    with pytest.raises(SoapFault) as info:
        request_element(parse_untrusted(raw, max_bytes=max_bytes, max_depth=max_depth))
    return info.value.code


def envelope(inner: str) -> bytes:
    return (f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>{inner}</soap:Body></soap:Envelope>').encode()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol2;</soap:Body></soap:Envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&xxe;</soap:Body></soap:Envelope>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>"""


@pytest.mark.parametrize(
    "raw", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype")]
)
def test_dtds_and_entities_are_refused(raw: bytes) -> None:
    assert fault_code(raw) == "Client.ForbiddenDtd"


def test_too_large_is_refused_before_parsing() -> None:
    assert fault_code(envelope("<x/>" * 100), max_bytes=100) == "Client.TooLarge"


def test_excessive_depth_is_refused() -> None:
    deep = "<a xmlns='urn:pakn:exchange:1'>" * 80 + "</a>" * 80
    assert fault_code(envelope(deep)) == "Client.TooDeep"


def test_malformed_xml() -> None:
    assert fault_code(b"<soap:Envelope") == "Client.MalformedXml"


def test_non_utf8_encodings_are_refused() -> None:
    raw = '<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")
    assert fault_code(raw) == "Client.MalformedXml"
    assert fault_code(b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>') == "Client.MalformedXml"


def test_not_a_soap_envelope() -> None:
    assert fault_code(b"<Envelope><Body/></Envelope>") == "Client.NotSoap"
    soap12 = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>'
    assert fault_code(soap12) == "Client.NotSoap"


def test_body_must_hold_exactly_one_element() -> None:
    two = "<PetitionMessage xmlns='urn:pakn:exchange:1'/><StatusQuery xmlns='urn:pakn:exchange:1'/>"
    assert fault_code(envelope(two)) == "Client.NotSoap"
    assert fault_code(envelope("")) == "Client.NotSoap"


def test_wrong_namespace() -> None:
    assert fault_code(envelope("<PetitionMessage xmlns='urn:pakn:exchange:2'/>")) == "Client.WrongNamespace"


def test_valid_envelope_yields_the_request_element() -> None:
    root = parse_untrusted(
        envelope("<StatusQuery xmlns='urn:pakn:exchange:1'/>"), max_bytes=LIMIT, max_depth=64
    )
    assert request_element(root).tag == "{urn:pakn:exchange:1}StatusQuery"


def test_every_fault_has_vietnamese_and_english_text_and_a_stable_code_in_the_body() -> None:
    for code, text in CATALOGUE.items():
        assert code.split(".")[0] in {"Client", "Server"}
        assert text.vi and text.en and text.vi != text.en
    body = etree.fromstring(fault_bytes(SoapFault("Client.SchemaInvalid", "line 3: Priority")))
    ns = {"s": SOAP_ENV, "p": "urn:pakn:exchange:1"}
    assert body.findtext("s:Body/s:Fault/faultcode", namespaces=ns) == "soap:Client.SchemaInvalid"
    text = body.findtext("s:Body/s:Fault/faultstring", namespaces=ns)
    assert text is not None and "lược đồ" in text and "schema" in text and "Priority" in text
    assert body.findtext("s:Body/s:Fault/detail/p:ErrorCode", namespaces=ns) == "Client.SchemaInvalid"


def test_unknown_fault_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        SoapFault("Client.Whatever")
