"""Retention of the message log on SQLite and PostgreSQL: a segment leaves the store only after its
export verifies and is recorded; what stays still verifies, anchored by it; tampering with what
stays, with the export file or with the record is caught and named."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

import signing
from connectors.db.engine import make_engine, make_sessions
from connectors.db.log_audit import AuditReport
from connectors.db.log_checkpoint import Checkpoint
from connectors.db.log_checkpointer import LogCheckpointer
from connectors.db.log_export import SegmentError, audit_segment, export_segment
from connectors.db.log_prune import LogPruner, PruneOutcome
from connectors.db.log_segment_audit import audit_log
from connectors.db.log_segments_store import recorded_segments
from connectors.db.message_log_store import verify_chain
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.bootstrap import build_pruner
from gateway.settings import Settings
from gateway.startup_errors import StartupError
from signing.testing import EphemeralCa
from tests.integration.test_store_log_audit import MINISTRY, execute
from tests.integration.test_store_message_log import entry
from tests.support.databases import sqlite_url

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)
EARLY, LATE = NOW - timedelta(hours=3), NOW - timedelta(hours=1)  # two checkpoints' times
CUTOFF = NOW - timedelta(hours=2)  # between them


@pytest.fixture(scope="module")
def ca() -> EphemeralCa:
    return EphemeralCa.create()


@pytest.fixture(scope="module")
def ministry(ca: EphemeralCa) -> signing.SigningKey:
    return ca.issue(MINISTRY, "Bộ Lao động - Thương binh và Xã hội")


async def log(db_uow: SqlUnitOfWorkFactory, start: int, how_many: int) -> list[int]:
    ids = []
    for n in range(start, start + how_many):
        async with db_uow() as uow:
            case = dataclasses.replace(entry(n), petition_id=f"PAKN-2025-{n:04d}")
            ids.append(await uow.message_log.append(case))
            await uow.commit()
    return ids


async def checkpoint_at(
    db_uow: SqlUnitOfWorkFactory, key: signing.SigningKey, at: datetime
) -> Checkpoint:
    checkpointer = LogCheckpointer(db_uow, key, ministry_id=MINISTRY, tsa_url=None, clock=lambda: at)
    made = await checkpointer.checkpoint()
    assert made is not None
    return made


def documents(file: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]


def rewrite(file: Path, docs: list[dict[str, object]]) -> None:
    text_ = "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in docs)
    file.write_text(text_, encoding="utf-8")


def move(file: Path, directory: Path) -> None:
    directory.mkdir()
    file.replace(directory / file.name)


def pruner(db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, out: Path) -> LogPruner:
    return LogPruner(db_uow, ca.trust_store(), out, clock=lambda: datetime.now(UTC), batch=2)


async def full_audit(db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, moved: Path | None = None) -> AuditReport:
    async with db_uow() as uow:
        return await audit_log(uow, ca.trust_store(), segments_dir=moved)


async def store_ids(db_uow: SqlUnitOfWorkFactory) -> list[int]:
    async with db_uow() as uow:
        return list((await uow.session.execute(text("SELECT id FROM message_log ORDER BY id"))).scalars())


async def pruned_prefix(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, out: Path
) -> tuple[list[int], PruneOutcome]:
    """Seven rows, checkpoints after the fourth (early) and the seventh (late), the first four pruned."""
    ids = await log(db_uow, 0, 4)
    await checkpoint_at(db_uow, ministry, EARLY)
    ids += await log(db_uow, 4, 3)
    await checkpoint_at(db_uow, ministry, LATE)
    outcome = await pruner(db_uow, ca, out).prune(CUTOFF)
    return ids, outcome


async def test_a_verified_export_is_recorded_then_pruned_and_the_rest_still_verifies(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    out = tmp_path / "archive"
    ids, outcome = await pruned_prefix(db_uow, ca, ministry, out)
    segment = outcome.segment
    assert segment is not None and (segment.first_entry_id, segment.last_entry_id) == (ids[0], ids[3])
    assert (segment.row_count, segment.chain_length, segment.after_entry_id, outcome.deleted) == (4, 4, 0, 4)
    assert await store_ids(db_uow) == ids[4:]
    file = Path(segment.path)
    assert file.parent == out.resolve() and [p.name for p in out.iterdir()] == [file.name]
    assert segment.sha256 == hashlib.sha256(file.read_bytes()).hexdigest()  # noqa: ASYNC240
    alone = await audit_segment(file, ca.trust_store())
    assert alone.ok and (alone.rows, alone.first_id, alone.last_id) == (4, ids[0], ids[3]), alone.breaks
    # What a case's timeline needs is in the file, found by its PetitionId.
    cases = [d["petition_id"] for d in documents(file) if d["type"] == "entry"]
    assert cases == [f"PAKN-2025-{n:04d}" for n in range(4)]

    report = await full_audit(db_uow, ca)
    assert report.ok, report.breaks
    assert (report.rows, report.first_id, report.archived_through, report.segments) == (3, ids[4], ids[3], 1)
    async with db_uow() as uow:
        assert await verify_chain(uow) == (True, None)

    # The chain goes on: a new checkpoint counts the pruned rows, a second prune anchors on the first.
    ids += await log(db_uow, 7, 2)
    head = await checkpoint_at(db_uow, ministry, NOW - timedelta(minutes=30))
    assert head.entry_count == 9
    second = await pruner(db_uow, ca, out).prune(NOW)
    assert second.segment is not None and second.segment.after_entry_id == ids[3]
    assert (second.segment.row_count, second.segment.chain_length) == (5, 9)
    assert await store_ids(db_uow) == []  # every row is in a file now
    report = await full_audit(db_uow, ca)
    assert report.ok and (report.rows, report.segments) == (0, 2), report.breaks

    # An empty store's next row links to the newest segment's head, not to the genesis.
    ids += await log(db_uow, 9, 1)
    async with db_uow() as uow:
        prev = (await uow.session.execute(text("SELECT prev_hash FROM message_log"))).scalar_one()
    assert prev == second.segment.head_hash
    report = await full_audit(db_uow, ca)
    assert report.ok and report.rows == 1, report.breaks
    assert (await checkpoint_at(db_uow, ministry, NOW)).entry_count == 10


async def test_nothing_is_pruned_without_a_checkpoint_before_the_cutoff(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    out = tmp_path / "archive"
    nothing = await pruner(db_uow, ca, out).prune(NOW)
    assert (nothing.planned, nothing.segment) == (None, None)  # an empty log: nothing due
    await log(db_uow, 0, 3)  # logged in 2025, long before the cut-off
    with pytest.raises(SegmentError) as refused:
        await pruner(db_uow, ca, out).prune(NOW)
    assert refused.value.code == "Log.NoCheckpoint"
    await checkpoint_at(db_uow, ministry, LATE)  # made after this cut-off: the rows wait for the next
    waiting = await pruner(db_uow, ca, out).prune(CUTOFF)
    assert (waiting.planned, waiting.segment, waiting.waiting) == (None, None, 3)
    assert len(await store_ids(db_uow)) == 3
    assert not out.exists() or not list(out.iterdir())
    async with db_uow() as uow:
        assert await recorded_segments(uow) == []


TAMPERED_STORE = {
    "raw bytes": ("UPDATE message_log SET raw = :forged WHERE id = :id", "Log.RawDigest"),
    "deleted row": ("DELETE FROM message_log WHERE id = :id", "Log.Link"),
}


@pytest.mark.parametrize("what", sorted(TAMPERED_STORE))
async def test_an_export_that_does_not_verify_prunes_nothing(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path, what: str
) -> None:
    ids = await log(db_uow, 0, 4)
    await checkpoint_at(db_uow, ministry, EARLY)
    sql, code = TAMPERED_STORE[what]
    params = {k: v for k, v in {"id": ids[1], "forged": b"<x/>"}.items() if f":{k}" in sql}
    await execute(db_uow, sql, **params)
    out = tmp_path / "archive"
    with pytest.raises(SegmentError) as refused:
        await pruner(db_uow, ca, out).prune(CUTOFF)
    assert refused.value.code == "Log.ExportUnverified" and code in str(refused.value)
    assert len(await store_ids(db_uow)) == (3 if what == "deleted row" else 4)
    assert not list(out.iterdir())  # the unverified file was removed
    async with db_uow() as uow:
        assert await recorded_segments(uow) == []


async def test_a_checkpoint_the_trust_store_does_not_trust_prunes_nothing(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, tmp_path: Path
) -> None:
    await log(db_uow, 0, 3)
    stranger = EphemeralCa.create("Some other CA").issue(MINISTRY, "Bộ giả mạo")
    await checkpoint_at(db_uow, stranger, EARLY)
    with pytest.raises(SegmentError, match=r"Log\.ExportUnverified.*Log\.CheckpointSignature"):
        await pruner(db_uow, ca, tmp_path / "archive").prune(CUTOFF)
    assert len(await store_ids(db_uow)) == 3


async def test_a_dry_run_says_what_would_go_and_changes_nothing(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    ids = await log(db_uow, 0, 4)
    made = await checkpoint_at(db_uow, ministry, EARLY)
    out = tmp_path / "archive"
    plan = await pruner(db_uow, ca, out).prune(CUTOFF, dry_run=True)
    assert plan.planned is not None and plan.planned.covering.id == made.id
    assert (plan.rows, plan.first_entry_id, plan.segment) == (4, ids[0], None)
    assert await store_ids(db_uow) == ids and not out.exists()


TAMPERED_REST = {
    "first remaining row deleted": ("DELETE FROM message_log WHERE id = :id", 0, "Log.Link", 1),
    "middle row deleted": ("DELETE FROM message_log WHERE id = :id", 1, "Log.Link", 2),
    "outcome edited": ("UPDATE message_log SET outcome = 'duplicate' WHERE id = :id", 1, "Log.EntryHash", 1),
    "last row cut off": ("DELETE FROM message_log WHERE id = :id", 2, "Log.Truncated", 2),
}


@pytest.mark.parametrize("what", sorted(TAMPERED_REST))
async def test_tampering_with_what_stays_is_caught_and_named(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path, what: str
) -> None:
    ids, _ = await pruned_prefix(db_uow, ca, ministry, tmp_path / "archive")
    rest = ids[4:]
    sql, victim, code, named = TAMPERED_REST[what]
    await execute(db_uow, sql, id=rest[victim])
    report = await full_audit(db_uow, ca)
    assert report.first_break is not None, f"{what} went unnoticed"
    assert (report.first_break.code, report.first_break.entry_id) == (code, rest[named])
    async with db_uow() as uow:
        links = await verify_chain(uow)
    assert links == ((True, None) if code == "Log.Truncated" else (False, rest[named]))


async def test_tampering_with_the_export_file_or_the_record_is_caught(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    ids, outcome = await pruned_prefix(db_uow, ca, ministry, tmp_path / "archive")
    assert outcome.segment is not None
    file = Path(outcome.segment.path)
    original = documents(file)
    forged = [dict(d) for d in original]
    victim = next(d for d in forged if d["type"] == "entry" and d["id"] == ids[2])
    victim["outcome"] = "Client.SignatureInvalid"
    rewrite(file, forged)
    report = await full_audit(db_uow, ca)
    assert [(b.code, b.entry_id) for b in report.breaks] == [
        ("Log.SegmentDigest", ids[0]), ("Log.EntryHash", ids[2])
    ]
    alone = await audit_segment(file, ca.trust_store())
    assert alone.first_break is not None and (alone.first_break.code, alone.first_break.entry_id) == (
        "Log.EntryHash", ids[2]
    )

    rewrite(file, original)  # the same documents, written the same way: the recorded sha256 again
    assert (await full_audit(db_uow, ca)).ok
    moved = tmp_path / "cold-storage"
    move(file, moved)
    missing = await full_audit(db_uow, ca)
    assert [(b.code, b.entry_id) for b in missing.breaks] == [("Log.SegmentMissing", ids[0])]
    found = await full_audit(db_uow, ca, moved)
    assert found.ok and found.segments == 1, found.breaks

    # A record moved forward to hide a deleted row no longer matches its checkpoint or its file.
    await execute(db_uow, "DELETE FROM message_log WHERE id = :id", id=ids[4])
    await execute(db_uow, "UPDATE message_log_segments SET last_entry_id = :id", id=ids[4])
    hidden = await full_audit(db_uow, ca, moved)
    assert {(b.code, b.entry_id) for b in hidden.breaks} == {
        ("Log.Link", ids[5]),  # what stays no longer follows the checkpoint the record names
        ("Log.SegmentRecord", ids[4]),  # the record ends where no checkpoint was signed
        ("Log.SegmentRecord", ids[0]),  # the file holds fewer entries than the record claims
    }


async def test_an_interrupted_prune_is_finished_by_the_next_one(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    ids = await log(db_uow, 0, 4)
    await checkpoint_at(db_uow, ministry, EARLY)
    ids += await log(db_uow, 4, 2)
    await checkpoint_at(db_uow, ministry, LATE)
    async with db_uow() as uow:
        query = text("SELECT * FROM message_log WHERE id = :id")
        kept = (await uow.session.execute(query, {"id": ids[3]})).one()
    outcome = await pruner(db_uow, ca, tmp_path / "archive").prune(CUTOFF)
    assert outcome.segment is not None
    # As if the process died after recording the segment, before its last batch of deletes.
    columns = ", ".join(kept._fields)
    values = ", ".join(f":{c}" for c in kept._fields)
    await execute(db_uow, f"INSERT INTO message_log ({columns}) VALUES ({values})", **kept._asdict())  # noqa: S608
    assert await store_ids(db_uow) == [ids[3], *ids[4:]]
    report = await full_audit(db_uow, ca)
    assert report.ok and report.rows == 2, report.breaks  # archived rows are not audited twice
    again = await pruner(db_uow, ca, tmp_path / "archive").prune(CUTOFF)
    assert (again.planned, again.deleted) == (None, 1)
    assert await store_ids(db_uow) == ids[4:]


async def test_export_after_a_prune_starts_where_the_prune_ended(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    ids = await log(db_uow, 0, 2)
    inner = await checkpoint_at(db_uow, ministry, EARLY - timedelta(hours=1))
    ids += await log(db_uow, 2, 2)
    await checkpoint_at(db_uow, ministry, EARLY)
    ids += await log(db_uow, 4, 3)
    await checkpoint_at(db_uow, ministry, LATE)
    outcome = await pruner(db_uow, ca, tmp_path / "archive").prune(CUTOFF)
    assert outcome.segment is not None and outcome.segment.last_entry_id == ids[3]
    async with db_uow() as uow:
        summary = await export_segment(uow, tmp_path / "rest.jsonl", before=NOW)
        with pytest.raises(SegmentError) as gone:
            await export_segment(uow, tmp_path / "x.jsonl", before=NOW, after_checkpoint=inner.id)
    assert gone.value.code == "Log.AlreadyPruned" and outcome.segment.path in str(gone.value)
    assert (summary.rows, summary.first_entry_id) == (3, ids[4])
    assert summary.anchor_id == outcome.segment.checkpoint_id
    assert (await audit_segment(tmp_path / "rest.jsonl", ca.trust_store())).ok


async def test_two_pruners_at_once_record_one_segment(
    db_uow: SqlUnitOfWorkFactory, ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    ids = await log(db_uow, 0, 6)
    await checkpoint_at(db_uow, ministry, EARLY)
    out = tmp_path / "archive"
    outcomes = await asyncio.gather(*(pruner(db_uow, ca, out).prune(CUTOFF) for _ in range(2)))
    recorded = [o for o in outcomes if o.segment is not None]
    assert len(recorded) == 1 and recorded[0].segment is not None
    assert [p.name for p in out.iterdir()] == [Path(recorded[0].segment.path).name]
    assert await store_ids(db_uow) == []
    report = await full_audit(db_uow, ca)
    assert report.ok and report.segments == 1 and report.archived_through == ids[-1], report.breaks


def test_the_gateway_will_not_prune_with_a_trust_store_that_cannot_verify_its_checkpoints(
    ca: EphemeralCa, ministry: signing.SigningKey, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    settings = Settings(audit_retention_days=30, audit_export_dir=tmp_path / "archive", trust_store=[ca_file])
    uow = SqlUnitOfWorkFactory(make_sessions(make_engine(sqlite_url(tmp_path))))
    assert isinstance(build_pruner(settings, uow, signer=ministry), LogPruner)
    stranger = EphemeralCa.create("Some other CA").issue(MINISTRY, "Bộ giả mạo")
    with pytest.raises(StartupError, match=r"audit trust store: the signer certificate does not chain"):
        build_pruner(settings, uow, signer=stranger)
    with pytest.raises(StartupError, match="PAKN_AUDIT_EXPORT_DIR"):
        build_pruner(Settings(trust_store=[ca_file]), uow)
