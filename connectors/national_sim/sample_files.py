"""Small attachments that look like what citizens upload: a scanned letter (PDF), a photo (JPEG).

The bytes start and end like the real formats (so content sniffing and virus-scan stubs behave), the
middle is random; Size and Sha256 are computed from the bytes, as the portal sends them.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

PDF_NAMES: tuple[str, ...] = (
    "Đơn phản ánh.pdf",
    "Giấy xác nhận của UBND xã.pdf",
    "Bảng lương tháng {month}.pdf",
    "Hợp đồng lao động.pdf",
    "Quyết định nghỉ việc.pdf",
    "Sổ bảo hiểm xã hội.pdf",
)
JPEG_NAMES: tuple[str, ...] = (
    "Ảnh hiện trường.jpg",
    "Ảnh chụp sổ BHXH.jpg",
    "Ảnh CCCD mặt trước.jpg",
    "Ảnh nhà bị hư hỏng.jpg",
)

_JFIF_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
_JPEG_END = b"\xff\xd9"


def attachment(rng: random.Random) -> dict[str, Any]:
    """One zeep-ready `Attachment` dict (FileName, ContentType, Size, Sha256, Data as bytes)."""
    if rng.random() < 0.6:
        name = rng.choice(PDF_NAMES).format(month=rng.randint(1, 12))
        content_type, data = "application/pdf", pdf_bytes(rng)
    else:
        name = rng.choice(JPEG_NAMES)
        content_type, data = "image/jpeg", jpeg_bytes(rng)
    return {
        "FileName": name,
        "ContentType": content_type,
        "Size": len(data),
        "Sha256": hashlib.sha256(data).hexdigest(),
        "Data": data,
    }


def pdf_bytes(rng: random.Random) -> bytes:
    filler = rng.randbytes(rng.randint(400, 4000)).hex().encode("ascii")
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
        b"3 0 obj\n<< /Length "
        + str(len(filler)).encode("ascii")
        + b" >>\nstream\n"
        + filler
        + b"\nendstream\nendobj\n"
        b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def jpeg_bytes(rng: random.Random) -> bytes:
    body = rng.randbytes(rng.randint(600, 6000)).replace(b"\xff", b"\xfe")  # no stray markers
    return _JFIF_HEADER + body + _JPEG_END
