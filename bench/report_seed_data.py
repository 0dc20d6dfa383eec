"""Realistic cases for bench/report_scale.py, generated in batches as rows of the store's tables.

Over 2023-01-01 .. 2026-12-19 (more on weekdays and in office hours, a little more each year):
kinds, sender types and channels in plausible shares; the simulator's Vietnamese names, addresses
and petition texts; fields routed to their units as config/routing.yaml does (deputies and no field
to the office, VPB); provinces from the simulator's 17 (weighted), other old and current codes, or
no address. Each case is accepted on arrival (01 and 03 at once, as the gateway does), assigned a
few seconds later, sometimes moved to another unit, noted, claimed; then answered after a number
of working days drawn from a long-tailed mix (on the gateway's own calendar), transferred out,
withdrawn, or left open; answers sometimes twice; feedback on 40 % of answers. Due dates follow
config/deadlines.yaml (the portal's DueAt for the kinds without a limit). Nothing happens after
NOW: an event later than that has not happened yet, so recent cases are open.

Not seeded (the reports read none of them): national outbox rows of the status changes, the
message log, attachments; answer PDFs are a few bytes each instead of ~100 KB.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from connectors.national_sim.topics import TOPICS
from connectors.national_sim.vietnamese import (
    GIVEN_NAMES_FEMALE,
    GIVEN_NAMES_MALE,
    MIDDLE_NAMES_FEMALE,
    MIDDLE_NAMES_MALE,
    PROVINCES,
    SURNAMES,
)
from gateway.deadlines.config import load_policy
from gateway.domain.case import DESCRIPTIONS, Status
from gateway.domain.petition import Kind
from gateway.domain.search import normalise_phone
from gateway.domain.text import fold
from gateway.domain.working_days import VIETNAM

NOW = datetime(2026, 12, 20, 10, 0, tzinfo=VIETNAM)
FIRST_DAY, LAST_DAY = date(2023, 1, 1), date(2026, 12, 19)
FIELD_UNITS = {
    "VIEC_LAM": "CVL", "GIAO_DUC_NGHE_NGHIEP": "TCGDNN", "LAO_DONG_TIEN_LUONG": "VLDTL",
    "BAO_HIEM_XA_HOI": "VBHXH", "AN_TOAN_VE_SINH_LAO_DONG": "CATLD", "NGUOI_CO_CONG": "CNCC",
    "BAO_TRO_XA_HOI": "CBTXH", "TRE_EM": "CTE", "BINH_DANG_GIOI": "VBDG",
    "PHONG_CHONG_TE_NAN_XA_HOI": "CPCTNXH",
}
UNITS = tuple(sorted(set(FIELD_UNITS.values()) | {"VPB"}))
KINDS = (("PHAN_ANH", 35), ("KIEN_NGHI", 33), ("HOI_DAP", 22), ("CU_TRI", 7), ("DBQH", 3))
SENDERS = (("CA_NHAN", 85), ("DOANH_NGHIEP", 10), ("TO_CHUC", 5))
CHANNELS = (("WEB", 45), ("APP", 30), ("PHONE", 8), ("EMAIL", 7), ("POST", 5), ("DIRECT", 5))
RATINGS = ((1, 8), (2, 7), (3, 15), (4, 35), (5, 35))
YEAR_WEIGHT = {2023: 0.8, 2024: 0.95, 2025: 1.05, 2026: 1.2}
# other ProvinceCodes a portal sends: pre-2025 codes merged away, current ones, one without its zero
OTHER_PROVINCES = ("26", "35", "74", "77", "27", "24", "48", "52", "66", "92", "1", "79", "31", "38")
PDF = b"%PDF-1.7\n% bench placeholder for a signed letter\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()
CLOSING = {"02", "06", "07", "08"}

TABLES: dict[str, tuple[str, ...]] = {
    "cases": (
        "petition_id", "kind", "sender_type", "field_code", "unit_code", "status", "fingerprint", "title",
        "petition_json", "received_at", "created_at", "updated_at", "search_text", "sender_search",
        "sender_phone", "due_at", "due_source", "channel", "province_code", "publish_consent",
        "accepted_at", "first_answered_at", "closed_at",
    ),
    "case_status_history": (
        "petition_id", "seq", "status", "unit_code", "description", "changed_at", "moved_from"
    ),
    "answers": (
        "petition_id", "answer_id", "unit_code", "content", "answered_at", "signer_name", "signer_position",
        "publish", "document_name", "document", "document_sha256",
    ),
    "feedback": (
        "message_id", "petition_id", "answer_id", "rating", "comment", "at", "unit_code", "field_code"
    ),
}


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _sqlite(value: Any) -> Any:
    """As SQLAlchemy stores it on SQLite: instants as UTC text, booleans as 0/1."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass
class Tally:
    """What the generator made, to check the reports' figures against (not through them)."""

    received: array[float] = field(default_factory=lambda: array("d"))
    closed: array[float] = field(default_factory=lambda: array("d"))  # -1: still open at NOW
    first_answers: array[float] = field(default_factory=lambda: array("d"))

    def expected(self, start: datetime, end: datetime, as_of: datetime) -> tuple[int, int, int]:
        s, e, a = start.timestamp(), end.timestamp(), as_of.timestamp()
        received = sum(1 for t in self.received if s <= t < e)
        answered = sum(1 for t in self.first_answers if s <= t < e)
        still_open = sum(
            1 for r, c in zip(self.received, self.closed, strict=True) if r < a and (c < 0 or c >= a)
        )
        return received, answered, still_open


@dataclass
class Template:
    doc: dict[str, Any]
    title: str
    search_text: str
    sender_search: str
    phone: str | None
    field_code: str | None
    province_code: str | None
    content: str


class Generated:
    def __init__(self, count: int, seed: int) -> None:
        self.count = count
        self.rng = random.Random(seed)  # noqa: S311 (test data, not cryptography)
        self.policy = load_policy(None)
        self.calendar = self.policy.calendar
        self.templates = [self._template(n) for n in range(4000)]
        self.tally = Tally()
        self.rows: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._done = 0
        self._last_print = 0.0

    # --- the petitions -------------------------------------------------------------------------

    def _template(self, n: int) -> Template:
        rng = self.rng
        field_code = None if rng.random() < 0.03 else rng.choice(tuple(TOPICS))
        topic = rng.choice(TOPICS[field_code or rng.choice(tuple(TOPICS))])
        female = rng.random() < 0.5
        name = " ".join((
            rng.choice(SURNAMES),
            rng.choice(MIDDLE_NAMES_FEMALE if female else MIDDLE_NAMES_MALE),
            rng.choice(GIVEN_NAMES_FEMALE if female else GIVEN_NAMES_MALE),
        ))
        where = rng.random()
        address: dict[str, Any] | None = None
        if where < 0.85:
            weights = [6 if p.code in ("01", "79") else 1 for p in PROVINCES]  # Hà Nội, Hồ Chí Minh
            province = rng.choices(PROVINCES, weights=weights)[0]
            ward = rng.choice(province.wards)
            line = f"Số {rng.randint(1, 300)} {rng.choice(province.streets)}, {ward.name}"
            address = {"line": line, "ward_code": ward.code, "province_code": province.code}
            place = province.full_name
        elif where < 0.95:
            code = rng.choice(OTHER_PROVINCES)
            address = {"line": "Số 8 đường Trần Phú", "ward_code": None, "province_code": code}
            place = "địa phương"
        else:
            place = "địa phương"
        facts = topic.facts.format(
            company=f"Công ty TNHH {rng.choice(SURNAMES)} Phát", province=place, ward="phường",
            day=rng.randint(1, 28), month=rng.randint(1, 12), months=rng.randint(2, 18),
            years=rng.randint(1, 25), amount=rng.randint(5, 900), year=rng.randint(2015, 2025),
            count=rng.randint(2, 60),
        )
        content = f"{facts} {topic.proposal}"
        phone = f"09{rng.randint(0, 10**8 - 1):08d}" if rng.random() < 0.8 else None
        title = f"Kiến nghị về {topic.subject}"
        doc = {
            "petition_id": "", "kind": "", "title": title, "content": content, "channel": "",
            "received_at": "", "priority": rng.randint(0, 4), "publish_consent": False,
            "field_code": field_code, "procedure_code": topic.procedure_code, "due_at": None,
            "attachments": [],
            "sender": {
                "type": "", "full_name": name, "id_number": f"0{rng.randint(10**10, 10**11 - 1)}",
                "tax_code": None, "organization_name": None, "phone": phone,
                "email": f"nguoidan{n}@example.vn", "address": address,
            },
        }
        return Template(
            doc=doc,
            title=title,
            search_text=fold(" ".join((title, content, name, address["line"] if address else ""))),
            sender_search=fold(name),
            phone=normalise_phone(phone),
            field_code=field_code,
            province_code=address["province_code"] if address else None,
            content=content,
        )

    def _received_instants(self) -> list[datetime]:
        days, weights = [], []
        day = FIRST_DAY
        while day <= LAST_DAY:
            base = 1.0 if self.calendar.is_working_day(day) else (0.35 if day.weekday() == 5 else 0.25)
            days.append(day)
            weights.append(base * YEAR_WEIGHT[day.year])
            day += timedelta(days=1)
        rng = self.rng
        chosen = rng.choices(days, weights=weights, k=self.count)
        instants = []
        for d in chosen:
            seconds = rng.uniform(7 * 3600, 17.5 * 3600) if rng.random() < 0.75 else rng.uniform(0, 86400)
            instants.append(datetime.combine(d, clock(0), tzinfo=VIETNAM) + timedelta(seconds=seconds))
        instants.sort()
        return instants

    # --- one case ------------------------------------------------------------------------------

    def _working_instant(self, after: datetime, days: int) -> datetime:
        """An office-hours moment of the `days`-th working day after `after`'s receipt day."""
        day = self.calendar.working_day_after(self.calendar.receipt_day(after), days)
        moment = datetime.combine(day, clock(8), tzinfo=VIETNAM)
        return moment + timedelta(seconds=self.rng.uniform(0, 9 * 3600))

    def _handling_days(self) -> int:
        """Working days to an answer: most within the usual 10, a long tail to 90."""
        r = self.rng.random()
        low, high = (1, 10) if r < 0.55 else (11, 20) if r < 0.85 else (21, 45) if r < 0.97 else (46, 90)
        return self.rng.randint(low, high)

    def _case(self, n: int, received: datetime) -> dict[str, list[tuple[Any, ...]]]:
        rng = self.rng
        t = self.templates[n % len(self.templates)]
        kind = _weighted(rng, KINDS)
        sender = "CU_TRI" if kind == "CU_TRI" else "DAI_BIEU" if kind == "DBQH" else _weighted(rng, SENDERS)
        channel = _weighted(rng, CHANNELS)
        unit = "VPB" if kind == "DBQH" or t.field_code is None else FIELD_UNITS[t.field_code]
        pid = f"PAKN-{received.year}-{n:07d}"
        delay = rng.uniform(2, 600) if rng.random() < 0.8 else rng.uniform(600, 10800)  # the portal's push
        arrived = received + timedelta(seconds=delay)
        limit = self.policy.limits[Kind(kind)].working_days
        if limit is not None:
            due, source = self.calendar.add_working_days(arrived, limit), "calendar"
        elif rng.random() < 0.7:
            due, source = received + timedelta(days=30), "portal"
        else:
            due, source = None, "none"
        events: list[tuple[str, str, datetime]] = [("01", unit, arrived), ("03", unit, arrived)]
        assigned = arrived + timedelta(seconds=rng.uniform(1, 20))
        events.append(("04", unit, assigned))
        holder, at = unit, assigned
        if rng.random() < 0.06:  # moved to another unit
            holder = rng.choice([u for u in UNITS if u != unit])
            at = assigned + timedelta(hours=rng.uniform(4, 72))
            events.append(("04", holder, at))
        days = self._handling_days()
        outcome = rng.random()
        answers: list[datetime] = []
        if outcome < 0.03:  # withdrawn
            events.append(("08", holder, at + timedelta(days=rng.uniform(0.5, 20))))
        elif outcome < 0.07:  # outside the ministry's competence
            events.append(("07", holder, at + timedelta(days=rng.uniform(0.5, 8))))
        elif outcome < 0.09:  # forgotten: open for good
            events.append(("05", holder, at + timedelta(hours=rng.uniform(1, 48))))
        else:
            answered = max(self._working_instant(arrived, days), at + timedelta(hours=1))
            claim = at + (answered - at) * rng.uniform(0.05, 0.5)
            events.append(("05", holder, claim))
            if rng.random() < 0.08:
                events.append(("05", holder, claim + (answered - claim) / 2))  # a progress note
            events.append(("06", holder, answered + timedelta(seconds=30)))
            answers.append(answered)
            if rng.random() < 0.04:
                answers.append(answered + timedelta(days=rng.uniform(2, 10)))
        events = [e for e in events if e[2] <= NOW]
        answers = [a for a in answers if a <= NOW]
        if len(answers) and events[-1][0] != "06":  # answered just before NOW, 06 just after it
            answers = []
        status, current = events[-1][0], events[-1][1]
        first: dict[str, datetime] = {}
        for s, _, when in events:
            key = "accepted" if s == "03" else "closed" if s in CLOSING else ""
            if key:
                first.setdefault(key, when)
        doc = dict(t.doc)
        doc.update(
            petition_id=pid, kind=kind, channel=channel, received_at=received.isoformat(),
            publish_consent=rng.random() < 0.4,
            due_at=due.isoformat() if source == "portal" and due is not None else None,
        )
        doc["sender"] = dict(t.doc["sender"], type=sender)
        rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
        rows["cases"].append((
            pid, kind, sender, t.field_code, current, status, hashlib.sha256(pid.encode()).hexdigest(),
            t.title, json.dumps(doc, ensure_ascii=False, sort_keys=True), received, arrived, events[-1][2],
            f"{pid.lower()} {t.search_text}", t.sender_search, t.phone, due, source, channel,
            t.province_code, doc["publish_consent"], first.get("accepted"),
            answers[0] if answers else None, first.get("closed"),
        ))
        before: str | None = None
        for seq, (s, u, when) in enumerate(events, 1):
            moved = before if s == "04" and before is not None and before != u else None
            rows["case_status_history"].append((pid, seq, s, u, DESCRIPTIONS[Status(s)], when, moved))
            before = u
        for number, when in enumerate(answers, 1):
            rows["answers"].append((
                pid, f"TL-{pid}-{number}", current, f"Trả lời: {t.content[:400]}", when, "Nguyễn Văn An",
                "Vụ trưởng", doc["publish_consent"], "tra-loi.pdf", PDF, PDF_SHA,
            ))
        if answers and rng.random() < 0.4:
            at_ = answers[0] + timedelta(days=rng.uniform(0, 20))
            if at_ <= NOW:
                comment = "Cảm ơn Bộ đã trả lời." if rng.random() < 0.3 else None
                rating = _weighted(rng, RATINGS)
                rows["feedback"].append(
                    (f"FB-{pid}", pid, f"TL-{pid}-1", rating, comment, at_, current, t.field_code)
                )
        self.tally.received.append(received.timestamp())
        closed = first.get("closed")
        self.tally.closed.append(closed.timestamp() if closed else -1.0)
        if answers:
            self.tally.first_answers.append(answers[0].timestamp())
        return rows

    # --- batches -------------------------------------------------------------------------------

    def chunks(self, batch: int, *, sqlite: bool) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
        instants = self._received_instants()
        for start in range(0, self.count, batch):
            chunk: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
            for n in range(start, min(self.count, start + batch)):
                for table, rows in self._case(n, instants[n]).items():
                    chunk[table].extend(tuple(map(_sqlite, r)) if sqlite else r for r in rows)
            for table, rows in chunk.items():
                self.rows[table] += len(rows)
            self._done = min(self.count, start + batch)
            yield chunk

    def progress(self, started: float) -> None:
        now = time.perf_counter()
        if now - self._last_print >= 30 or self._done == self.count:
            self._last_print = now
            rate = self._done / max(now - started, 1e-9)
            print(f"  {self._done:>9,} cases ({now - started:6.1f} s, {rate:,.0f}/s)", flush=True)


def generate(count: int, seed: int) -> Generated:
    return Generated(count, seed)


__all__ = ["NOW", "TABLES", "Generated", "Tally", "generate"]
