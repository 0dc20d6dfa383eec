"""The independent verifiers, as tests call them: tools we did not write, from Debian packages.

- `xmlsec1` (package xmlsec1) checks an XML-DSig on the detached request element: exit 0 good,
  1 tampered or untrusted;
- `pdfsig` (poppler-utils) reads a PDF's signatures; it exits 0 even on a digest mismatch, so its
  report is read, not its exit code; an NSS database (libnss3-tools' certutil) makes it trust a CA;
- `pdftotext` (poppler-utils) extracts a PDF's text, to check Vietnamese survives rendering.

A missing tool fails the test (CI installs them all): a signature nobody checked is not a result.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

from lxml import etree

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XMLSEC1_STRICT = ["--enabled-reference-uris", "empty", "--enabled-key-data", "x509"]
"""Only `Reference URI=""` and a certificate in KeyInfo: what DESIGN §2 allows, nothing else."""


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed (Debian package {package}); CI installs it")
    return path


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


def xmlsec1_verify(document: Path, trusted_pem: Path) -> subprocess.CompletedProcess[str]:
    xmlsec1 = tool("xmlsec1", "xmlsec1")
    return run(xmlsec1, "--verify", *XMLSEC1_STRICT, "--trusted-pem", str(trusted_pem), str(document))


def request_element(envelope: bytes) -> etree._Element:
    """The one child of a SOAP envelope's Body: the signed request element."""
    body = etree.fromstring(envelope).find(f"{{{SOAP}}}Body")
    assert body is not None, "not a SOAP envelope"
    [request] = body
    return request


def write_detached(envelope: bytes, path: Path) -> Path:
    """The request element on its own, as a document: what a verifier checks (DESIGN §2)."""
    path.write_bytes(etree.tostring(request_element(envelope), xml_declaration=True, encoding="UTF-8"))
    return path


def nss_db(directory: Path, ca_pem: Path) -> Path:
    """An NSS database trusting `ca_pem` only, for pdfsig."""
    certutil = tool("certutil", "libnss3-tools")
    directory.mkdir(parents=True, exist_ok=True)
    for args in (
        ["-N", "-d", f"sql:{directory}", "--empty-password"],
        ["-A", "-d", f"sql:{directory}", "-n", "pakn-dev-root", "-t", "C,C,C", "-i", str(ca_pem)],
    ):
        done = run(certutil, *args)
        assert done.returncode == 0, done.stderr
    return directory


def pdfsig(pdf: bytes, db: Path, tmp_path: Path) -> str:
    source = tmp_path / "signed.pdf"
    source.write_bytes(pdf)
    done = run(tool("pdfsig", "poppler-utils"), "-nssdir", f"sql:{db}", str(source))
    return done.stdout + done.stderr


def pdfsig_blocks(report: str) -> list[str]:
    """pdfsig's report cut into one text block per signature."""
    return re.split(r"^Signature #\d+:", report, flags=re.MULTILINE)[1:]


def assert_pdfsig_accepts(report: str, count: int) -> None:
    """`count` signatures, each valid, by a trusted certificate, PAdES; the last covers the file."""
    blocks = pdfsig_blocks(report)
    assert len(blocks) == count, report
    for block in blocks:
        assert "Signature Validation: Signature is Valid." in block, report
        assert "Certificate Validation: Certificate is Trusted." in block, report
        assert "ETSI.CAdES.detached" in block, report  # PAdES, not adbe.pkcs7.detached
    assert "Total document signed" in blocks[-1], report


def pdftotext(pdf: bytes, tmp_path: Path, *extra: str) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    done = run(tool("pdftotext", "poppler-utils"), *extra, str(source), "-")
    return unicodedata.normalize("NFC", done.stdout + done.stderr)
