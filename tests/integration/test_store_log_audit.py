"""The message-log audit on SQLite and PostgreSQL: signed checkpoints, tampering found and named,
rows cut off the end caught, untrusted checkpoints refused, timestamps, exported segments."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

import signing
from connectors.db.log_audit import AuditReport
from connectors.db.log_audit_store import audit_store
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.log_checkpointer import LogCheckpointer
from connectors.db.log_export import audit_segment, export_segment
from connectors.db.message_log_store import verify_chain
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from signing.testing import EphemeralCa
from tests.integration.test_store_message_log import append, entry
from tests.support.tsa import LocalTsa, running_tsa

pytestmark = pytest.mark.integration

MINISTRY = "000.00.00.G07"


@pytest.fixture(scope="module")
def ca() -> EphemeralCa:
    return EphemeralCa.create()


@pytest.fixture(scope="module")
def ministry(ca: EphemeralCa) -> signing.SigningKey:
    return ca.issue(MINISTRY, "Bộ Lao động - Thương binh và Xã hội")


@pytest.fixture(scope="module")
def tsa(ca: EphemeralCa) -> Iterator[LocalTsa]:
    with running_tsa(ca.certificate, ca.key) as local:
        yield local


def clock() -> datetime:
    return datetime.now(UTC)


def checkpointer(
    db_uow: SqlUnitOfWorkFactory, key: signing.SigningKey, tsa_url: str | None = None
) -> LogCheckpointer:
    return LogCheckpointer(db_uow, key, ministry_id=MINISTRY, tsa_url=tsa_url, clock=clock)


async def append_more(db_uow: SqlUnitOfWorkFactory, start: int, how_many: int) -> list[int]:
    ids = []
    for n in range(start, start + how_many):
        async with db_uow() as uow:
            ids.append(await uow.message_log.append(entry(n)))
            await uow.commit()
    return ids


async def audit(db_uow: SqlUnitOfWorkFactory, trust: signing.TrustStore) -> AuditReport:
    async with db_uow() as uow:
        return await audit_store(uow, trust)


async def execute(db_uow: SqlUnitOfWorkFactory, sql: str, **params: object) -> None:
    async with db_uow() as uow:
        await uow.session.execute(text(sql), params)
        await uow.commit()


async def test_a_clean_log_with_checkpoints_verifies(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey
) -> None:
    ids = await append(db_uow, 3)
    first = await checkpointer(db_uow, ministry).checkpoint()
    assert first is not None and (first.last_entry_id, first.entry_count) == (ids[-1], 3)
    assert await checkpointer(db_uow, ministry).checkpoint() is None  # nothing new: no second one
    ids += await append_more(db_uow, 3, 2)
    second = await checkpointer(db_uow, ministry).checkpoint()
    assert second is not None and (second.last_entry_id, second.entry_count) == (ids[-1], 5)
    async with db_uow() as uow:
        report = await audit_store(uow, ca.trust_store())
    assert report.ok, report.breaks
    assert (report.rows, report.checkpoints, report.first_id, report.last_id) == (5, 2, ids[0], ids[-1])


TAMPERING = {
    "raw bytes": ("UPDATE message_log SET raw = :forged WHERE id = :id", "Log.RawDigest"),
    "outcome": ("UPDATE message_log SET outcome = 'Client.SignatureInvalid' WHERE id = :id", "Log.EntryHash"),
    "deleted row": ("DELETE FROM message_log WHERE id = :id", "Log.Link"),
}


@pytest.mark.parametrize("what", sorted(TAMPERING))
async def test_tampering_is_found_and_the_first_broken_entry_named(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, what: str
) -> None:
    ids = await append(db_uow, 5)
    assert await checkpointer(db_uow, ministry).checkpoint() is not None
    sql, code = TAMPERING[what]
    params = {"id": ids[2], "forged": b"<PetitionMessage>forged</PetitionMessage>"}
    await execute(db_uow, sql, **{k: v for k, v in params.items() if f":{k}" in sql})
    async with db_uow() as uow:
        report = await audit_store(uow, ca.trust_store())
        links = await verify_chain(uow)
    broken_at = ids[3] if what == "deleted row" else ids[2]  # a deletion shows at the next row's link
    assert not report.ok and report.first_break is not None
    assert (report.first_break.code, report.first_break.entry_id) == (code, broken_at)
    assert links == (False, broken_at)


async def test_rows_cut_off_the_end_after_a_checkpoint_are_caught(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey
) -> None:
    ids = await append(db_uow, 5)
    made = await checkpointer(db_uow, ministry).checkpoint()
    assert made is not None
    await execute(db_uow, "DELETE FROM message_log WHERE id >= :id", id=ids[3])
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)  # the links alone cannot see it
        report = await audit_store(uow, ca.trust_store())
    assert report.first_break is not None
    assert (report.first_break.code, report.first_break.entry_id) == ("Log.Truncated", ids[-1])
    assert report.first_break.checkpoint_id == made.id


async def test_a_checkpoint_edited_in_the_store_no_longer_verifies(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey
) -> None:
    ids = await append(db_uow, 4)
    assert await checkpointer(db_uow, ministry).checkpoint() is not None
    # Cut the last row and move the checkpoint back to match: only the signature can tell.
    async with db_uow() as uow:
        query = text("SELECT entry_hash FROM message_log WHERE id = :id")
        prev = (await uow.session.execute(query, {"id": ids[2]})).scalar_one()
    await execute(db_uow, "DELETE FROM message_log WHERE id = :id", id=ids[3])
    await execute(
        db_uow,
        "UPDATE message_log_checkpoints SET last_entry_id = :id, head_hash = :h, entry_count = 3",
        id=ids[2],
        h=prev,
    )
    report = await audit(db_uow, ca.trust_store())
    assert [b.code for b in report.breaks] == ["Log.CheckpointSignature"]


async def test_a_checkpoint_signed_by_an_untrusted_key_is_refused(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa
) -> None:
    await append(db_uow, 3)
    stranger = EphemeralCa.create("Some other CA").issue(MINISTRY, "Bộ giả mạo")
    assert await checkpointer(db_uow, stranger).checkpoint() is not None
    async with db_uow() as uow:
        report = await audit_store(uow, ca.trust_store())
    assert report.first_break is not None
    assert report.first_break.code == "Log.CheckpointSignature"
    assert "CertificateUntrusted" in report.first_break.detail


async def test_with_a_timestamp_authority_the_checkpoint_carries_a_verifying_token(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tsa: LocalTsa
) -> None:
    await append(db_uow, 2)
    asked = len(tsa.requests)
    made = await checkpointer(db_uow, ministry, tsa.url).checkpoint()
    assert made is not None and made.timestamp_token is not None
    assert len(tsa.requests) == asked + 1, "the timestamp authority was never asked"
    stamped = await signing.verify_timestamp(made.timestamp_token, made.signature, ca.trust_store())
    assert abs(stamped - made.created_at) < timedelta(minutes=1)
    with pytest.raises(signing.SignatureInvalid):  # the token covers this signature, nothing else
        await signing.verify_timestamp(made.timestamp_token, made.signature[::-1], ca.trust_store())
    with pytest.raises(signing.CertificateUntrusted):
        await signing.verify_timestamp(
            made.timestamp_token, made.signature, EphemeralCa.create("Other").trust_store()
        )
    report = await audit(db_uow, ca.trust_store())
    assert report.ok and report.timestamped == 1


async def test_an_unreachable_timestamp_authority_makes_no_checkpoint(
    db_uow: SqlUnitOfWorkFactory, ministry: signing.SigningKey
) -> None:
    await append(db_uow, 1)
    with pytest.raises(signing.TimestampError):
        await checkpointer(db_uow, ministry, "http://127.0.0.1:9/tsa").checkpoint()
    async with db_uow() as uow:
        left = (await uow.session.execute(text("SELECT count(*) FROM message_log_checkpoints"))).scalar_one()
    assert left == 0


async def test_an_exported_segment_verifies_alone_and_edits_to_it_are_found(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    ids = await append(db_uow, 3)
    first = await checkpointer(db_uow, ministry).checkpoint()
    ids += await append_more(db_uow, 3, 3)
    second = await checkpointer(db_uow, ministry).checkpoint()
    await append_more(db_uow, 6, 2)  # after the last checkpoint: not exported
    assert first is not None and second is not None
    later = datetime.now(UTC) + timedelta(seconds=1)
    whole, tail = tmp_path / "whole.jsonl", tmp_path / "tail.jsonl"
    async with db_uow() as uow:
        summary = await export_segment(uow, whole, before=later)
        tail_summary = await export_segment(uow, tail, before=later, after_checkpoint=first.id)
    assert (summary.rows, summary.first_entry_id, summary.last_entry_id) == (6, ids[0], ids[-1])
    assert (tail_summary.rows, tail_summary.first_entry_id, tail_summary.anchor_id) == (3, ids[3], first.id)
    for path, rows in ((whole, 6), (tail, 3)):
        report = await audit_segment(path, ca.trust_store())
        assert report.ok and report.rows == rows, report.breaks

    lines = whole.read_text(encoding="utf-8").splitlines()
    forged = [json.loads(line) for line in lines]
    victim = next(doc for doc in forged if doc.get("id") == ids[4] and doc["type"] == "entry")
    victim["outcome"] = "duplicate"
    (tmp_path / "forged.jsonl").write_text("\n".join(json.dumps(d) for d in forged), encoding="utf-8")
    report = await audit_segment(tmp_path / "forged.jsonl", ca.trust_store())
    assert report.first_break is not None
    assert (report.first_break.code, report.first_break.entry_id) == ("Log.EntryHash", ids[4])

    cut = [line for line in lines if json.loads(line).get("id") != ids[-1] or '"entry"' not in line]
    (tmp_path / "cut.jsonl").write_text("\n".join(cut), encoding="utf-8")
    report = await audit_segment(tmp_path / "cut.jsonl", ca.trust_store())
    assert report.first_break is not None and report.first_break.code == "Log.Truncated"


def test_the_statement_covers_every_field() -> None:
    base = Checkpoint(5, "a" * 64, 5, MINISTRY, datetime(2026, 1, 1, tzinfo=UTC), b"", "")
    changed = {
        "last_entry_id": 6, "head_hash": "b" * 64, "entry_count": 4, "ministry_id": "000.00.00.G22",
        "created_at": base.created_at + timedelta(microseconds=1),
    }
    statements = {base.statement()}
    for name, value in changed.items():
        statements.add(dataclasses.replace(base, **{name: value}).statement())  # type: ignore[arg-type]
    assert len(statements) == 1 + len(changed)
