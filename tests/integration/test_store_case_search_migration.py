"""Migration 0005 on a store that already holds cases and logged messages: search keys and
message_log.petition_id are backfilled, and the hash chain still verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.db.case_search_store import SqlCaseReads
from connectors.db.column_types import UtcDateTime
from connectors.db.engine import make_sessions
from connectors.db.log_chain import GENESIS, ChainFields, link_hash, raw_digest
from connectors.db.message_log_store import verify_chain
from connectors.db.migrate import upgrade
from connectors.db.petition_codec import petition_to_json
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.operators import Principal, Role
from gateway.ops.case_search import CaseSearch
from gateway.routing_config import load_config
from tests.support.case_samples import NOW, SPECS, T0, petition_of

pytestmark = pytest.mark.integration

BEFORE = "0004_operators"
Instant = UtcDateTime()
OLD_CASES = sa.table(
    "cases", *(sa.column(c) for c in (
        "petition_id", "kind", "sender_type", "field_code", "unit_code", "status", "fingerprint", "title",
        "petition_json",
    )), sa.column("received_at", Instant), sa.column("created_at", Instant), sa.column("updated_at", Instant),
)
OLD_LOG = sa.table(
    "message_log", *(sa.column(c) for c in (
        "direction", "peer", "operation", "message_id", "signature_verdict", "signer", "outcome", "raw",
        "raw_sha256", "prev_hash", "entry_hash",
    )), sa.column("created_at", Instant),
)
SEEN = sa.table(
    "seen_messages",
    *(sa.column(c) for c in ("message_id", "operation", "petition_id", "receipt_id", "accepted")),
    sa.column("created_at", Instant),
)
UPDATES = sa.table(
    "petition_updates", *(sa.column(c) for c in ("message_id", "petition_id", "action", "content")),
    sa.column("at", Instant),
)


async def _store_as_of_0004(engine: AsyncEngine) -> None:
    await upgrade(engine, BEFORE)
    async with engine.begin() as c:
        for spec in SPECS[:4]:
            p = petition_of(spec)
            await c.execute(OLD_CASES.insert().values(
                petition_id=p.petition_id, kind=p.kind.value, sender_type=p.sender.type.value,
                field_code=p.field_code, unit_code=spec.unit, status="04", fingerprint=p.fingerprint(),
                title=p.title, petition_json=petition_to_json(p), received_at=p.received_at,
                created_at=p.received_at, updated_at=p.received_at,
            ))
        await c.execute(UPDATES.insert().values(
            message_id="u1", petition_id=SPECS[1].petition_id, action="SUPPLEMENT",
            content="Bổ sung giấy tờ về Điện Biên Phủ", at=T0,
        ))
        await c.execute(SEEN.insert().values(
            message_id="m-in", operation="SubmitPetition", petition_id=SPECS[0].petition_id, receipt_id="r1",
            accepted=True, created_at=T0,
        ))
        prev = GENESIS
        for n, (direction, message_id) in enumerate((("in", "m-in"), ("out", "m-in"), ("in", "m-unknown"))):
            raw = f"<m n='{n}'/>".encode()
            at = T0 + timedelta(seconds=n)
            fields = ChainFields(direction, "peer", "SubmitPetition", message_id, "valid", None, "ok", at)
            entry = link_hash(prev, fields, raw_digest(raw))
            await c.execute(OLD_LOG.insert().values(
                direction=direction, peer="peer", operation="SubmitPetition", message_id=message_id,
                signature_verdict="valid", signer=None, outcome="ok", raw=raw, raw_sha256=raw_digest(raw),
                prev_hash=prev, entry_hash=entry, created_at=at,
            ))
            prev = entry


async def test_existing_cases_become_searchable_and_the_log_learns_their_ids(db_engine: AsyncEngine) -> None:
    await _store_as_of_0004(db_engine)
    await upgrade(db_engine)
    search = CaseSearch(SqlCaseReads(db_engine), load_config().routing, lambda: NOW)
    viewer = Principal("v", Role.VIEWER)

    async def found(**criteria: object) -> list[str]:
        page = await search.search(viewer, search.query(**criteria))  # type: ignore[arg-type]
        return [i.hit.petition_id for i in page.items]

    assert await found(q="nguoi co cong") == ["PAKN-2026-000004", "PAKN-2026-000003", "PAKN-2026-000001"]
    assert await found(sender="tran van duc") == ["PAKN-2026-000002"]
    assert await found(phone="0987 654 321") == ["PAKN-2026-000002"]
    assert await found(q="dien bien phu") == ["PAKN-2026-000002"]  # its supplement
    assert await found(overdue=True) == ["PAKN-2026-000003", "PAKN-2026-000001"]  # DueAt from the JSON
    async with db_engine.connect() as c:
        rows = (await c.execute(sa.text("SELECT message_id, petition_id FROM message_log ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [
        ("m-in", SPECS[0].petition_id), ("m-in", SPECS[0].petition_id), ("m-unknown", None),
    ]
    async with SqlUnitOfWorkFactory(make_sessions(db_engine))() as uow:
        assert await verify_chain(uow) == (True, None)
