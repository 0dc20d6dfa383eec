"""Published answers end to end: petitions pushed as the national portal does, answered by their
units over REST, then read by anyone over real HTTP (SQLite and PostgreSQL): only answers both the
citizen (PublishConsent) and the unit (publish) agreed to appear; the raw HTML and JSON never hold
a seeded citizen's name, phone, id number or email; an unaccented search finds an accented title;
the letter downloads as a PDF that pdfsig accepts as signed by the ministry's trusted certificate.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

import signing
from connectors.db.tables import PublicLetterRow
from connectors.national_sim.generator import generate_petitions
from gateway.domain.search import normalise_phone
from tests.e2e.unit_side import SIGNER, issue_token, problem
from tests.support import verifiers
from tests.support.gateway import WAIT, LiveGateway, eventually

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Seeded:
    name: str  # role in the test
    petition: dict[str, Any]
    answer: bool  # the unit answers
    publish: bool  # the unit allows publication

    @property
    def pid(self) -> str:
        return str(self.petition["PetitionId"])

    @property
    def sender(self) -> dict[str, Any]:
        sender: dict[str, Any] = self.petition["Sender"]
        return sender


def individuals(count: int) -> list[dict[str, Any]]:
    """Citizens with a phone, an email and an id number (the generator is deterministic)."""
    found = [
        p
        for p in generate_petitions(80, seed=606, field_codes=["BAO_HIEM_XA_HOI"], attachment_ratio=0)
        if p["Sender"]["Type"] == "CA_NHAN" and {"Phone", "Email", "IdNumber", "Address"} <= set(p["Sender"])
    ]
    assert len(found) >= count
    return found[:count]


def seeded() -> list[Seeded]:
    plan = [
        # name, consent, answered, publish, title
        ("published", True, True, True, "Đề nghị hướng dẫn chế độ thai sản khi sinh đôi"),
        ("also-published", True, True, True, "Hỏi về lương hưu của người nghỉ việc trước tuổi"),
        ("unit-refused", True, True, False, "Kiến nghị về trợ cấp thất nghiệp bị chậm chi trả"),
        ("no-consent", False, True, True, "Phản ánh việc chậm cấp sổ bảo hiểm xã hội"),
        ("unanswered", True, False, True, "Hỏi về điều kiện hưởng bảo hiểm xã hội một lần"),
    ]
    out = []
    for petition, (name, consent, answered, publish, title) in zip(individuals(len(plan)), plan, strict=True):
        sender = petition["Sender"]
        petition["Title"] = title
        petition["PublishConsent"] = consent
        # what citizens do: their own contact data typed into the petition's text
        petition["Content"] += (
            f" Số điện thoại liên hệ: {sender['Phone']}, thư điện tử {sender['Email']},"
            f" số CCCD {sender['IdNumber']}."
        )
        out.append(Seeded(name, petition, answered, publish))
    return out


def personal_data(cases: list[Seeded]) -> list[str]:
    """Every form of every seeded citizen's personal data that must never be public."""
    values = []
    for case in cases:
        s = case.sender
        phone = normalise_phone(s["Phone"])
        assert phone is not None
        values += [s["FullName"], s["Email"], s["Email"].lower(), s["IdNumber"], s["Phone"], phone]
        values += [phone[1:], s["Address"]["Line"]]  # +84 form without its prefix; the address line
    return values


def assert_no_personal_data(raw: str, forbidden: list[str], where: str) -> None:
    leaked = [value for value in forbidden if value in raw]
    assert not leaked, f"{where} shows {leaked}"


async def answered(gw: LiveGateway, http: httpx.AsyncClient, case: Seeded) -> str:
    unit = (await gw.wait_status(case.pid, "04")).unit_code
    token = await asyncio.to_thread(issue_token, gw, unit)
    s = case.sender
    # the unit addresses the citizen by name and repeats the number they gave: both must go
    content = (
        f"Trả lời ông/bà {s['FullName']} (điện thoại {s['Phone']}):\n\n"
        "Bộ Lao động - Thương binh và Xã hội hướng dẫn: chế độ đối với người có công và người lao động "
        f"được thực hiện theo quy định hiện hành. Về nội dung «{case.petition['Title']}», đề nghị liên hệ "
        "cơ quan bảo hiểm xã hội nơi cư trú."
    )
    reply = await http.post(
        f"/api/units/{unit}/cases/{case.pid}/answer",
        headers={"Authorization": f"Bearer {token}"},
        json={"content": content, "publish": case.publish, **SIGNER},
    )
    assert reply.status_code == 200, reply.text
    await gw.wait_status(case.pid, "06")
    return str(reply.json()["answer_id"])


async def feed_pages(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    url: str | None = "/public/answers.json"
    for _ in range(20):
        assert url is not None
        got = await http.get(url, params=params if url == "/public/answers.json" else None)
        assert got.status_code == 200, got.text
        body = got.json()
        items += body["items"]
        url = body["next"]
        if url is None:
            return items
    raise AssertionError("the feed never ended")


async def test_only_consented_published_answers_are_public_without_personal_data(
    gw: LiveGateway, tmp_path: Path
) -> None:
    cases = seeded()
    by_name = {case.name: case for case in cases}
    client = await asyncio.to_thread(gw.client)
    for case in cases:
        receipt = await asyncio.to_thread(client.submit_petition, case.petition)
        assert receipt.Accepted
    forbidden = personal_data(cases)

    async with httpx.AsyncClient(base_url=gw.base_url, timeout=60) as http:
        # before any answer: nothing is public
        empty = await http.get("/public/answers.json")
        assert empty.status_code == 200 and empty.json()["items"] == []
        answer_ids = {}
        for case in cases:  # answered one after another: the later, the newer
            if case.answer:
                answer_ids[case.name] = await answered(gw, http, case)

        # the feed: exactly the two both sides agreed to, newest first, paged by cursor
        published, also = by_name["published"], by_name["also-published"]
        items = await feed_pages(http)
        assert [i["petition_id"] for i in items] == [also.pid, published.pid]
        assert [i["petition_id"] for i in await feed_pages(http, limit=1)] == [also.pid, published.pid]
        first = next(i for i in items if i["petition_id"] == published.pid)
        unit_code = first["unit"]["code"]
        assert first["unit"]["name"] == "Vụ Bảo hiểm xã hội"  # config/units.yaml, diacritics kept
        assert first["title"] == published.petition["Title"]
        assert first["kind"] == published.petition["Kind"] and first["answer_id"] == answer_ids["published"]
        assert "người có công" in first["answer"] and "[đã ẩn]" in first["answer"]
        assert "[đã ẩn]" in first["question"]
        assert unit_code == gw.units["VBHXH"]

        # the pages: list, search, each petition; none shows the others, none shows personal data
        listing = await http.get("/public/answers")
        assert listing.status_code == 200 and listing.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in listing.headers["content-security-policy"]
        html = listing.text
        assert published.petition["Title"] in html and also.petition["Title"] in html
        for hidden in ("unit-refused", "no-consent", "unanswered"):
            assert by_name[hidden].pid not in html and by_name[hidden].petition["Title"] not in html
        assert "<script" not in html and "http://" not in html and "https://" not in html  # no CDN
        pages = {"list": html, "feed": (await http.get("/public/answers.json")).text}
        for case in (published, also):
            page = await http.get(f"/public/answers/{case.pid}")
            assert page.status_code == 200, page.text
            assert case.petition["Title"] in page.text and "Vụ Bảo hiểm xã hội" in page.text
            pages[case.name] = page.text

        # search: unaccented, upper case, words in any order: finds the accented title, nothing else
        found = await http.get("/public/answers.json", params={"q": "CHE DO THAI SAN"})
        assert [i["petition_id"] for i in found.json()["items"]] == [published.pid]
        page = await http.get("/public/answers", params={"q": "nguoi nghi viec, luong huu"})
        assert also.pid in page.text and published.pid not in page.text
        pages["search"] = page.text
        # a citizen's name or phone finds nothing, though every stored petition holds them
        for private in (published.sender["FullName"], normalise_phone(published.sender["Phone"])):
            none = await http.get("/public/answers.json", params={"q": private})
            assert none.json()["items"] == [], private  # (the page echoes only what was typed)
        for where, raw in pages.items():
            assert_no_personal_data(raw, forbidden, where)

        # not public, whatever the reason: the same 404 for all
        for hidden in ("unit-refused", "no-consent", "unanswered"):
            gone = await http.get(f"/public/answers/{by_name[hidden].pid}")
            assert gone.status_code == 404 and "Không có câu trả lời công khai" in gone.text
        refused = by_name["unit-refused"]
        problem(
            await http.get(f"/public/answers/{refused.pid}/{answer_ids['unit-refused']}.pdf"),
            404,
            "PublicAnswer.Unknown",
        )
        bad = problem(await http.get("/public/answers.json", params={"cursor": "!!"}), 400, "InvalidQuery")
        assert bad["detail_vi"] == "Con trỏ trang không hợp lệ."
        problem(await http.get("/public/answers.json", params={"limit": 0}), 400, "InvalidQuery")

        # the letter: a PDF signed by the ministry, trusted by pdfsig and pyhanko, no personal data
        letter = await http.get(first["letter_url"])
        assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
        assert "attachment" in letter.headers["content-disposition"]
        pdf = letter.content
        assert (await http.get(first["letter_url"])).content == pdf  # the same copy each time
        # signed once and kept: a public download never makes the ministry's key sign again
        async with gw.engine.connect() as c:
            kept = (await c.execute(sa.select(PublicLetterRow.petition_id, PublicLetterRow.pdf))).all()
        assert [(pid, body) for pid, body in kept] == [(published.pid, pdf)]
    db = verifiers.nss_db(tmp_path / "nss", gw.pki.ca_cert)
    verifiers.assert_pdfsig_accepts(verifiers.pdfsig(pdf, db, tmp_path), count=1)
    verdict = await signing.async_verify_pdf(pdf, gw.pki.trust_store())
    [signature] = verdict.signatures
    assert (signature.intact, signature.valid, signature.trusted) == (True, True, True)
    text = " ".join(verifiers.pdftotext(pdf, tmp_path).split())
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "người có công", "Nguyễn Văn An", published.pid):
        assert expected in text, expected
    assert_no_personal_data(text, forbidden, "the public letter")
    # the original the citizen received does name them: that is why the public gets a copy
    # 06 in the store is the commit; the answer reaches the portal after it, through the sender
    async def delivered() -> bytes | None:
        return gw.portal.recorder.answer_pdf(published.pid, answer_ids["published"])

    original = await eventually(delivered, WAIT, "the answer never reached the portal")
    assert original != pdf
    assert published.sender["FullName"] in " ".join(verifiers.pdftotext(original, tmp_path).split())
