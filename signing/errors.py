"""The signing component's exceptions: one tree, each class with a stable ``code``.

::

    SigningError                 code "SigningError"     - base; also raised when signing itself fails
    ├── KeyLoadError             code "KeyLoadError"     - key or certificate material unusable: unreadable
    │                                                      file, wrong password, key does not match the
    │                                                      certificate, unsupported key type, certificate
    │                                                      already expired at load, empty trust store
    ├── SignatureMissing         code "SignatureMissing" - the document carries no ds:Signature
    ├── SignatureInvalid         code "SignatureInvalid" - the signature is there but not acceptable: bad
    │                                                      digest or signature value, disallowed algorithm
    │                                                      or transform, more than one signature, signature
    │                                                      not a direct child of the root, Reference other
    │                                                      than URI="", DTD or entities, not well-formed
    ├── CertificateUntrusted     code "CertificateUntrusted" - the signer's chain does not reach the
    │                                                          trust store
    ├── CertificateExpired       code "CertificateExpired"   - the signer certificate is not valid at the
    │                                                         verification time (expired or not yet valid);
    │                                                         sign_pdf raises it too, at the signing time
    ├── PdfSigningError          code "PdfSigningError"  - a PDF cannot be signed: unreadable or encrypted
    │                                                     PDF, page or box out of range, unusable seal
    │                                                     image, the timestamp authority failed, or
    │                                                     pyHanko refused for another reason
    └── TimestampError           code "TimestampError"   - an RFC 3161 timestamp could not be obtained: the
                                                          authority is unreachable, answers with an error
                                                          status or with something that is not a token

verify_statement raises SignatureInvalid, CertificateUntrusted or CertificateExpired; verify_timestamp
raises SignatureInvalid (bad token, wrong imprint) or CertificateUntrusted (the authority is not trusted).

verify_pdf reports bad PDF signatures in its verdict rather than raising; it raises SignatureInvalid
only when the file is not a readable PDF at all.

Callers map ``code`` to a SOAP fault code or an HTTP error; the codes never change.
signxml, lxml, pyHanko and cryptography exceptions are translated here at the edge (``raise … from exc``),
so nothing outside ``signing`` needs to know those libraries.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CertificateExpired",
    "CertificateUntrusted",
    "KeyLoadError",
    "PdfSigningError",
    "SignatureInvalid",
    "SignatureMissing",
    "SigningError",
    "TimestampError",
]


class SigningError(Exception):
    """Base of every error the signing component raises."""

    code: ClassVar[str] = "SigningError"


class KeyLoadError(SigningError):
    """Key or certificate material cannot be used."""

    code: ClassVar[str] = "KeyLoadError"


class SignatureMissing(SigningError):
    """The document has no ds:Signature at all."""

    code: ClassVar[str] = "SignatureMissing"


class SignatureInvalid(SigningError):
    """A signature is present but fails a cryptographic or structural rule."""

    code: ClassVar[str] = "SignatureInvalid"


class CertificateUntrusted(SigningError):
    """The signer's certificate chain does not lead to a certificate in the trust store."""

    code: ClassVar[str] = "CertificateUntrusted"


class CertificateExpired(SigningError):
    """The signer's certificate is expired or not yet valid at the verification time."""

    code: ClassVar[str] = "CertificateExpired"


class PdfSigningError(SigningError):
    """A PDF could not be signed (bad input PDF, bad placement, seal image, timestamp authority, pyHanko)."""

    code: ClassVar[str] = "PdfSigningError"


class TimestampError(SigningError):
    """The timestamp authority could not give a token (unreachable, error status, malformed reply)."""

    code: ClassVar[str] = "TimestampError"
