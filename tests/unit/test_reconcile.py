"""Reconciliation with fakes: the listing port, the in-memory store; the real decoder and intake."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from lxml import etree

import schemas
from connectors.national_sim.contract import NationalContract
from connectors.national_sim.generator import generate_petitions
from gateway.bootstrap import load_schema
from gateway.domain.exchange import PetitionPage
from gateway.inbound.intake import Intake
from gateway.inbound.pulled_petition import PulledPetitionDecoder
from gateway.inbound.reconcile import ReconcileReport, Reconciliation, pulled_message_id
from gateway.inbound.reconcile_schedule import VIETNAM, ReconcileSchedule, daily_at, every
from gateway.ports import NationalError, NationalUnavailable, StoreError
from gateway.routing_config import load_config
from tests.unit.fakes import FakeUnitOfWork, FakeUnitOfWorkFactory
from tests.unit.samples import WHEN, header

pytestmark = pytest.mark.unit

MINISTRY, NATIONAL = "000.00.00.G07", "000.00.00.G22"
NS = schemas.NAMESPACE


@functools.cache
def _contract() -> NationalContract:
    return NationalContract()


def listed(petitions: list[dict[str, Any]]) -> tuple[bytes, ...]:
    """The petitions as the national client hands them over: each signed Petition element on its own."""
    element = _contract().petition_list(petitions, None)
    return tuple(etree.tostring(child) for child in element.iterchildren(f"{{{NS}}}Petition"))


def batch(count: int, seed: int, **options: Any) -> list[dict[str, Any]]:
    return generate_petitions(count, seed=seed, prefix="RECON", attachment_ratio=1.0, **options)


@dataclass
class FakeListing:
    """Page n answers cursor "n" (the first, no cursor); an exception there is raised when asked for."""

    pages: list[tuple[tuple[bytes, ...], str | None] | NationalError]
    calls: list[dict[str, Any]] = field(default_factory=list)

    async def list_petitions(
        self, *, organ_id: str, since: datetime | None, cursor: str | None, limit: int
    ) -> PetitionPage:
        self.calls.append({"organ_id": organ_id, "since": since, "cursor": cursor, "limit": limit})
        page = self.pages[int(cursor) if cursor is not None else 0]
        if isinstance(page, NationalError):
            raise page
        petitions, next_cursor = page
        return PetitionPage(petitions, next_cursor, str(uuid.uuid4()))


def paged(raw: tuple[bytes, ...], size: int) -> list[tuple[tuple[bytes, ...], str | None] | NationalError]:
    """`raw` cut into pages of `size`, cursors "1", "2"… as a portal would chain them."""
    chunks = [raw[i : i + size] for i in range(0, len(raw), size)] or [()]
    return [(chunk, str(n + 1) if n + 1 < len(chunks) else None) for n, chunk in enumerate(chunks)]


def make(
    listing: FakeListing, uow: FakeUnitOfWorkFactory | None = None, **options: Any
) -> tuple[Reconciliation, Intake, FakeUnitOfWorkFactory]:
    uow = uow or FakeUnitOfWorkFactory()
    intake = Intake(uow=uow, routing=load_config().routing, clock=lambda: WHEN)
    decode = PulledPetitionDecoder(load_schema(), max_bytes=20 * 1024 * 1024, max_depth=64)
    reconciliation = Reconciliation(
        listing=listing,
        intake=intake,
        uow=uow,
        decode=decode,
        ministry_id=MINISTRY,
        national_id=NATIONAL,
        clock=lambda: WHEN,
        **options,
    )
    return reconciliation, intake, uow


def decode(raw: bytes) -> Any:
    return PulledPetitionDecoder(load_schema(), max_bytes=20 * 1024 * 1024, max_depth=64)(raw)


# --------------------------------------------------------------------------- taking in what is missing


async def test_missing_petitions_go_through_the_intake_page_by_page() -> None:
    petitions = batch(5, seed=1)
    listing = FakeListing(paged(listed(petitions), 2))
    reconciliation, _, uow = make(listing, page_size=2)
    report = await reconciliation.run()

    ids = [p["PetitionId"] for p in petitions]
    assert (report.pages, report.listed, report.known, report.added) == (3, 5, 0, ids)
    assert report.ok and report.failed == [] and report.error is None
    assert [c["cursor"] for c in listing.calls] == [None, "1", "2"]
    assert {c["organ_id"] for c in listing.calls} == {MINISTRY} and {c["limit"] for c in listing.calls} == {2}
    assert listing.calls[0]["since"] == WHEN - timedelta(days=30) == report.since
    world = uow.world
    assert set(world.cases) == set(ids)
    assert [m.correlation_id for m in world.outbox] == ids  # one case message per petition, to its unit
    assert {m.type for m in world.outbox} == {"pakn.case.new"}
    assert set(world.receipts) == {pulled_message_id(i) for i in ids}
    assert all(world.cases[i].status.value == "03" for i in ids)


async def test_a_pulled_petition_is_stored_as_the_portal_signed_it() -> None:
    [original] = batch(1, seed=2)
    reconciliation, _, uow = make(FakeListing(paged(listed([original]), 10)))
    await reconciliation.run()
    stored = uow.world.petitions[original["PetitionId"]]
    assert stored.content == original["Content"] and stored.sender.full_name == original["Sender"]["FullName"]
    assert stored.received_at == original["ReceivedAt"]
    attachments = original["Attachments"]["Attachment"]
    assert [a.data for a in stored.attachments] == [a["Data"] for a in attachments]
    assert [a.sha256 for a in stored.attachments] == [
        hashlib.sha256(a["Data"]).hexdigest() for a in attachments
    ]


async def test_since_and_limit_given_to_the_run_reach_the_query() -> None:
    listing = FakeListing(paged((), 10))
    reconciliation, _, _ = make(listing)
    since = datetime(2026, 11, 1, tzinfo=VIETNAM)
    report = await reconciliation.run(since=since, limit=7)
    assert listing.calls == [{"organ_id": MINISTRY, "since": since, "cursor": None, "limit": 7}]
    assert (report.pages, report.listed, report.ok) == (1, 0, True)


# --------------------------------------------------------------------------- known petitions


async def test_a_petition_already_pushed_is_known_and_left_untouched() -> None:
    petitions = batch(3, seed=3)
    raw = listed(petitions)
    reconciliation, intake, uow = make(FakeListing(paged(raw, 10)))
    pushed = decode(raw[1])
    await intake.submit_petition(header(), pushed)  # the normal push, with the portal's own MessageId
    before = (uow.world.cases[pushed.petition_id], len(uow.world.outbox), uow.world.commits)

    report = await reconciliation.run()

    assert (report.listed, report.known, len(report.added)) == (3, 1, 2)
    assert pushed.petition_id not in report.added and report.differing == []
    assert uow.world.cases[pushed.petition_id] == before[0]
    assert len(uow.world.outbox) == before[1] + 2 and uow.world.commits == before[2] + 2
    assert pulled_message_id(pushed.petition_id) not in uow.world.receipts


async def test_a_second_run_adds_nothing() -> None:
    listing = FakeListing(paged(listed(batch(4, seed=4)), 3))
    reconciliation, _, uow = make(listing)
    first = await reconciliation.run()
    state = (dict(uow.world.cases), list(uow.world.outbox), uow.world.commits)
    again = await reconciliation.run()
    assert len(first.added) == 4
    assert (again.listed, again.known, again.added, again.ok) == (4, 4, [], True)
    assert (dict(uow.world.cases), list(uow.world.outbox), uow.world.commits) == state


async def test_a_known_petition_listed_with_other_content_is_reported_not_changed() -> None:
    [original] = batch(1, seed=5)
    changed = dict(original, Content="Nội dung đã bị sửa trên Hệ thống")
    reconciliation, intake, uow = make(FakeListing(paged(listed([changed]), 10)))
    await intake.submit_petition(header(), decode(listed([original])[0]))
    report = await reconciliation.run()
    petition_id = original["PetitionId"]
    assert (report.known, report.added, report.differing) == (1, [], [petition_id])
    assert report.ok  # the gateway holds the petition: nothing is missing
    assert uow.world.petitions[petition_id].content == original["Content"]


async def test_a_petition_pushed_between_the_look_and_the_submit_is_known() -> None:
    [original] = batch(1, seed=6)
    raw = listed([original])
    store = FakeUnitOfWorkFactory()
    portal_push = Intake(uow=store, routing=load_config().routing, clock=lambda: WHEN)

    class PushRightAfterTheLook(FakeUnitOfWorkFactory):
        """The reconciliation's first transaction (its look) ends just as the portal's push commits."""

        looks = 0

        def __call__(self) -> FakeUnitOfWork:
            self.looks += 1
            if self.looks == 1:
                return _LookThenPush(self.world, portal_push, decode(raw[0]))
            return super().__call__()

    reconciliation, _, _ = make(FakeListing(paged(raw, 10)), uow=PushRightAfterTheLook(store.world))
    report = await reconciliation.run()
    assert (report.known, report.added, report.ok) == (1, [], True)
    assert len(store.world.cases) == 1 and len(store.world.outbox) == 1  # created once, by the push


class _LookThenPush(FakeUnitOfWork):
    def __init__(self, world: Any, intake: Intake, petition: Any) -> None:
        super().__init__(world)
        self._intake, self._petition = intake, petition

    async def __aexit__(self, *exc: object) -> None:
        await self._intake.submit_petition(header(), self._petition)


# --------------------------------------------------------------------------- refused, or the run stops


async def test_a_broken_petition_is_reported_and_the_others_come_in() -> None:
    good = batch(2, seed=7)
    bad_priority = dict(batch(1, seed=8)[0], Priority=9)
    [tampered] = batch(1, seed=9)
    first = tampered["Attachments"]["Attachment"][0]
    tampered["Attachments"]["Attachment"][0] = dict(first, Sha256="0" * 64)
    raw = listed([good[0], bad_priority, tampered, good[1]])
    reconciliation, _, uow = make(FakeListing(paged(raw, 10)))
    report = await reconciliation.run()

    assert report.added == [good[0]["PetitionId"], good[1]["PetitionId"]]
    assert [(p.petition_id, p.code) for p in report.failed] == [
        (bad_priority["PetitionId"], "Client.SchemaInvalid"),
        (tampered["PetitionId"], "Client.AttachmentMismatch"),
    ]
    assert "Sha256" in report.failed[1].message
    assert not report.ok and report.error is None
    assert set(uow.world.cases) == {good[0]["PetitionId"], good[1]["PetitionId"]}


async def test_a_portal_error_mid_run_keeps_what_was_added_and_reports_it() -> None:
    petitions = batch(4, seed=10)
    pages = paged(listed(petitions), 2)
    outage = NationalUnavailable("HTTP.503", "503 Service Unavailable")
    listing = FakeListing([pages[0], outage])
    reconciliation, _, uow = make(listing)
    report = await reconciliation.run()

    assert report.error is not None and (report.error.code, report.error.message) == (
        "HTTP.503",
        outage.message,
    )
    assert not report.ok and report.pages == 1 and report.finished_at is not None
    assert report.added == [p["PetitionId"] for p in petitions[:2]] and set(uow.world.cases) == set(
        report.added
    )

    listing.pages = pages  # the portal is back: the next run starts over and takes the rest
    listing.calls.clear()
    again = await reconciliation.run()
    assert (again.known, again.added, again.ok) == (2, [p["PetitionId"] for p in petitions[2:]], True)


async def test_a_cursor_given_twice_ends_the_run() -> None:
    raw = listed(batch(2, seed=11))
    listing = FakeListing([(raw[:1], "1"), (raw[1:], "1")])
    reconciliation, _, _ = make(listing)
    report = await reconciliation.run()
    assert report.error is not None and report.error.code == "Server.CursorLoop"
    assert (report.pages, len(report.added)) == (2, 2) and len(listing.calls) == 2


async def test_the_store_failing_stops_the_run() -> None:
    class Unavailable(FakeUnitOfWorkFactory):
        def __call__(self) -> FakeUnitOfWork:
            raise StoreError("connection refused")

    reconciliation, _, _ = make(FakeListing(paged(listed(batch(2, seed=12)), 10)), uow=Unavailable())
    report = await reconciliation.run()
    assert report.error is not None and report.error.code == "Server.StoreUnavailable"
    assert (report.listed, report.added, report.ok) == (1, [], False)


def test_the_pulled_message_id_is_a_stable_uuid_per_petition() -> None:
    first = pulled_message_id("PAKN-2026-000001")
    assert first == pulled_message_id("PAKN-2026-000001") != pulled_message_id("PAKN-2026-000002")
    assert str(uuid.UUID(first)) == first  # canonical, lower case: as the intake keys MessageIds


def test_the_page_size_must_fit_the_contract() -> None:
    with pytest.raises(ValueError, match="1–1000"):
        make(FakeListing([]), page_size=1001)


# --------------------------------------------------------------------------- schedule


def test_daily_at_is_the_next_such_time_in_vietnam() -> None:
    delay = daily_at(time(2, 0))
    assert delay(datetime(2026, 11, 28, 1, 30, tzinfo=VIETNAM)) == 30 * 60
    assert delay(datetime(2026, 11, 28, 2, 0, tzinfo=VIETNAM)) == 24 * 3600  # just ran: tomorrow
    assert delay(datetime(2026, 11, 27, 18, 59, tzinfo=UTC)) == 60  # 19:00 UTC is 02:00 in Vietnam
    assert delay(datetime(2026, 11, 27, 20, 0, tzinfo=UTC)) == 23 * 3600


async def test_the_schedule_survives_a_failed_run_and_stops_on_request() -> None:
    outcomes: list[str] = []
    three_runs = asyncio.Event()

    async def reconcile() -> ReconcileReport:
        outcomes.append("run")
        if len(outcomes) == 3:
            three_runs.set()
        if len(outcomes) == 1:
            raise RuntimeError("the first run breaks")
        return ReconcileReport(since=WHEN, started_at=WHEN)

    schedule = ReconcileSchedule(reconcile, every(0.01), lambda: WHEN)
    stop = asyncio.Event()
    task = asyncio.create_task(schedule.run(stop))
    await asyncio.wait_for(three_runs.wait(), 2)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert len(outcomes) >= 3 and task.exception() is None


async def test_a_shutdown_cancels_a_run_in_flight() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def reconcile() -> ReconcileReport:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("not reached")

    schedule = ReconcileSchedule(reconcile, every(0.01), lambda: WHEN)
    stop = asyncio.Event()
    task = asyncio.create_task(schedule.run(stop))
    await asyncio.wait_for(started.wait(), 2)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert cancelled.is_set() and schedule.runs == 0
