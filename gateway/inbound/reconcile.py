"""Reconciliation (đối soát) and pull mode: what the portal lists and the gateway lacks comes in.

One run pages through the portal's `ListPetitions` (OrganId = this ministry, Since = a look-back)
and takes every listed petition the way a pushed one is taken: decoded and checked like a push
(`pulled_petition`), then through the same `Intake.submit_petition` (store, status history, outbox
→ the unit's queue, the portal's status messages), one transaction per petition.

- A petition the store already holds is counted as known and left untouched; if the portal lists
  other content for it, the report says so (changes travel as `SubmitPetitionUpdate`, not here).
- A missing one is submitted under a MessageId derived from its PetitionId (`pulled_message_id`),
  so two runs racing each other, or a run and a push of the same petition, still create it once:
  the intake's MessageId check and its PetitionId check both hold.
- A petition that fails the checks is reported with the fault code a push of it would get; the
  run goes on.
- A portal error, or the store failing, ends the run: what was added stays added (each petition
  committed on its own), the report carries the error, and the next run starts over from the top.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.domain.errors import DomainError
from gateway.domain.petition import Header, Petition
from gateway.inbound.errors import IntakeError, PetitionExists
from gateway.inbound.faults import SoapFault
from gateway.inbound.intake import Intake
from gateway.inbound.pulled_petition import petition_id_of
from gateway.ports import NationalError, NationalListing, StoreError, UnitOfWorkFactory

__all__ = ["Problem", "ReconcileReport", "Reconciliation", "pulled_message_id"]

log = logging.getLogger(__name__)

PULL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:pakn:exchange:1#ListPetitions")
CURSOR_LOOP = "Server.CursorLoop"


def pulled_message_id(petition_id: str) -> str:
    """The MessageId a pulled petition is submitted under: the same for every run (see the module doc)."""
    return str(uuid.uuid5(PULL_NAMESPACE, petition_id))


@dataclass(frozen=True)
class Problem:
    """Why a petition could not be added, or why the run stopped: a stable code and the detail."""

    code: str
    message: str
    petition_id: str | None = None


@dataclass
class ReconcileReport:
    since: datetime
    started_at: datetime
    finished_at: datetime | None = None
    pages: int = 0
    listed: int = 0
    known: int = 0
    added: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    """Known petitions the portal lists with other content than the gateway holds (left as they are)."""
    failed: list[Problem] = field(default_factory=list)
    error: Problem | None = None
    """The portal (or the store) failed and the run stopped early."""

    @property
    def ok(self) -> bool:
        """Every listed petition is now in the store, and the whole list was read."""
        return self.error is None and not self.failed


class Reconciliation:
    """`run()` once per schedule tick or `pakn-gateway reconcile`; see the module docstring.

    - `decode`: a listed petition's bytes → Petition, or a `SoapFault` (`PulledPetitionDecoder`).
    - `lookback`: how far back a run asks by default; `page_size`: the ListQuery's `Limit`.
    """

    def __init__(
        self,
        *,
        listing: NationalListing,
        intake: Intake,
        uow: UnitOfWorkFactory,
        decode: Callable[[bytes], Petition],
        ministry_id: str,
        national_id: str,
        clock: Callable[[], datetime],
        lookback: timedelta = timedelta(days=30),
        page_size: int = 100,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be 1–1000 (the contract's LimitType)")
        self._listing = listing
        self._intake = intake
        self._uow = uow
        self._decode = decode
        self._ministry_id = ministry_id
        self._national_id = national_id
        self._clock = clock
        self._lookback = lookback
        self._page_size = page_size

    async def run(self, *, since: datetime | None = None, limit: int | None = None) -> ReconcileReport:
        """One pass over the list; `since` defaults to now minus the look-back, `limit` to the page size."""
        now = self._clock()
        report = ReconcileReport(since=since if since is not None else now - self._lookback, started_at=now)
        page_size = limit if limit is not None else self._page_size
        try:
            await self._pages(report, page_size)
        finally:
            report.finished_at = self._clock()
            _log_report(report)
        return report

    async def _pages(self, report: ReconcileReport, limit: int) -> None:
        cursor: str | None = None
        asked: set[str] = set()
        while True:
            try:
                page = await self._listing.list_petitions(
                    organ_id=self._ministry_id, since=report.since, cursor=cursor, limit=limit
                )
            except NationalError as exc:
                report.error = Problem(exc.code, exc.message)
                return
            report.pages += 1
            for raw in page.petitions:
                report.listed += 1
                try:
                    await self._take(raw, report)
                except StoreError as exc:  # the next petitions would fail the same way: stop here
                    report.error = Problem(exc.code, str(exc) or type(exc).__name__)
                    return
            if page.next_cursor is None:
                return
            if page.next_cursor in asked:  # a portal handing back a cursor it gave before never ends
                report.error = Problem(CURSOR_LOOP, f"the portal returned cursor {page.next_cursor!r} again")
                return
            asked.add(page.next_cursor)
            cursor = page.next_cursor

    async def _take(self, raw: bytes, report: ReconcileReport) -> None:
        try:
            # CPU-bound (strict base64, Sha256 of attachments): off the event loop, as for pushes
            petition = await asyncio.to_thread(self._decode, raw)
        except SoapFault as fault:
            report.failed.append(Problem(fault.code, fault.detail or fault.faultstring, petition_id_of(raw)))
            return
        petition_id = petition.petition_id
        async with self._uow() as uow:
            existing = await uow.cases.get(petition_id)
        if existing is not None:
            report.known += 1
            if existing.fingerprint != petition.fingerprint():
                report.differing.append(petition_id)
            return
        header = Header(
            message_id=pulled_message_id(petition_id),
            sender=self._national_id,
            recipient=self._ministry_id,
            sent_at=self._clock(),
        )
        try:
            receipt = await self._intake.submit_petition(header, petition)
        except PetitionExists:  # pushed meanwhile, with other content: it is the gateway's now
            report.known += 1
            report.differing.append(petition_id)
            return
        except (IntakeError, DomainError) as exc:
            report.failed.append(Problem(f"Client.{exc.code}", exc.message, petition_id))
            return
        if receipt.duplicate:  # pushed (or pulled by another run) between the look and the submit
            report.known += 1
        else:
            report.added.append(petition_id)


def _log_report(report: ReconcileReport) -> None:
    log.info(
        "reconciliation since %s: %d page(s), %d listed, %d known, %d added, %d failed%s",
        report.since.isoformat(),
        report.pages,
        report.listed,
        report.known,
        len(report.added),
        len(report.failed),
        f"; stopped: {report.error.code}: {report.error.message}" if report.error else "",
    )
    for problem in report.failed:
        log.warning("reconciliation: %s refused: %s %s", problem.petition_id, problem.code, problem.message)
    for petition_id in report.differing:
        log.warning(
            "reconciliation: the portal lists %s with other content than the gateway holds", petition_id
        )
