"""Render and PAdES-sign one answer letter N times: the per-letter cost of the answer path.

Run by hand: `.venv/bin/python bench/sign_letter.py --count 20`. Prints letters per second for
rendering alone and for signing alone, measured in the same run (the key is loaded once).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import signing
from gateway.outbound.letter import Letter, render_letter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20)
    count = parser.parse_args().count
    with tempfile.TemporaryDirectory() as directory:
        pki = signing.init_dev_pki(Path(directory))
        key = signing.load_pem_key(pki.ministry_cert, pki.ministry_key)
    letter = Letter(
        agency="Bộ Lao động - Thương binh và Xã hội",
        unit="Vụ Bảo hiểm xã hội",
        number="1/VBHXH-PAKN",
        place="Hà Nội",
        date=date(2026, 12, 1),
        subject="trả lời phản ánh, kiến nghị",
        recipient="Ông Nguyễn Văn A",
        body="Bộ trả lời như sau: chế độ được tính theo quy định hiện hành. " * 30,
        recipients=("Như trên;", "Lưu: VT, VBHXH."),
        signer_name="Nguyễn Văn An",
        signer_position="Vụ trưởng",
    )
    rendered = render_letter(letter)
    started = time.perf_counter()
    for _ in range(count):
        render_letter(letter)
    rendering = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(count):
        signing.sign_pdf(
            rendered.pdf,
            key,
            signer_name=letter.signer_name,
            organisation=letter.agency,
            location=letter.place,
            page=rendered.signature_page,
            box=rendered.signature_box,
        )
    signing_time = time.perf_counter() - started
    print(f"render {count / rendering:.1f}/s   PAdES B-B sign {count / signing_time:.1f}/s   ({count} each)")


if __name__ == "__main__":
    main()
