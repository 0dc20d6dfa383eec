"""The simulator's memory: every message received, and what the portal would notice about the order.

Tests of the gateway's guarantees (DESIGN §4) read it: per petition, statuses must arrive with rising
`Seq` and no answer may come before status 04 (assigned). The simulator accepts such messages, as
the portal would, and records the breach here instead of refusing: a refusal would hide the bug
behind a retry.

Only accepted deliveries count for order: a call refused by a failure mode (`failure_modes.SimFaults`:
`down`, `slow`, an injected Fault) or by a check is recorded — `received`, `attempts()` see it — but
it never reaches `statuses()`, `delivered()` or `order_violations`. A delivery is accepted, stored
and given its place in the per-petition sequence in one step under the lock, so what `delivered()`
shows is the order the portal saw, even with concurrent senders.

Answer letters (`ReceiveAnswer`) are kept with their PDF bytes (`answers()`), and written to
`record_dir/answers/<PetitionId>-<AnswerId>.pdf` when a directory is given.

Thread-safe: the server records from worker threads while a test reads from its own thread.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.national_sim.vn_time import VN_TZ

__all__ = [
    "ASSIGNED",
    "AnswerDocument",
    "OrderViolation",
    "Received",
    "ReceivedAnswer",
    "SimRecorder",
    "answer_file_name",
]

ASSIGNED = "04"
"""edXML status 04, assigned to a unit: no answer may reach the portal before it."""


@dataclass(frozen=True)
class Received:
    """One message that reached `POST /soap/national`, accepted or refused."""

    operation: str
    message_id: str | None
    petition_id: str | None
    seq: int | None
    verdict: str
    """valid, invalid:<code>, absent, unverified (no trust store) or not-checked (refused before)."""
    raw: bytes
    at: datetime
    outcome: str = "accepted"
    """"accepted", "duplicate", "listed" (ListPetitions), the fault code it was refused with (e.g.
    "Client.SignatureInvalid", or an injected "Server.Unavailable"), "down" (HTTP 503 by the `down`
    failure mode) or "slow" (the client gave up while the `slow` failure mode held the answer back)."""
    sender: str | None = None
    status_code: str | None = None
    injected: str | None = None
    """The failure mode that refused it: "down", "slow", "fault_next" or "fault_for_petition"; None
    for a call the portal handled on its own. Refused by `down`/`slow`, a message is not checked:
    operation, ids and Seq are what it claims (verdict "not-checked")."""

    def summary(self) -> dict[str, Any]:
        """JSON-ready, without the raw bytes."""
        return {
            "operation": self.operation,
            "message_id": self.message_id,
            "petition_id": self.petition_id,
            "seq": self.seq,
            "status_code": self.status_code,
            "verdict": self.verdict,
            "outcome": self.outcome,
            "sender": self.sender,
            "injected": self.injected,
            "at": self.at.isoformat(),
            "raw_sha256": hashlib.sha256(self.raw).hexdigest(),
            "raw_bytes": len(self.raw),
        }


@dataclass(frozen=True)
class AnswerDocument:
    """The letter of a `ReceiveAnswer`, as the portal decoded it."""

    file_name: str
    declared_sha256: str
    pdf: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()

    @property
    def sha256_ok(self) -> bool:
        return self.sha256 == self.declared_sha256.lower()


@dataclass(frozen=True)
class ReceivedAnswer:
    """One answer letter that reached the portal in an authentic `ReceiveAnswer`.

    `sha256_ok` False: the bytes did not match the declared Sha256 and the message was refused with
    `Client.DocumentMismatch` (kept here so the bytes sent can be examined; never written to disk,
    never served). True: the answer was accepted; a replay of it is not kept again.
    """

    petition_id: str
    answer_id: str
    message_id: str
    file_name: str
    """As the sender named it (not used on disk)."""
    pdf: bytes
    declared_sha256: str
    sha256_ok: bool
    verdict: str
    """The signature verdict of the message: "valid", or "unverified" on a simulator without trust store."""
    at: datetime
    path: Path | None = None
    """Where the PDF was written (`record_dir/answers/…`), if it was."""

    def summary(self) -> dict[str, Any]:
        return {
            "petition_id": self.petition_id,
            "answer_id": self.answer_id,
            "message_id": self.message_id,
            "file_name": self.file_name,
            "size": len(self.pdf),
            "sha256": hashlib.sha256(self.pdf).hexdigest(),
            "declared_sha256": self.declared_sha256,
            "sha256_ok": self.sha256_ok,
            "verdict": self.verdict,
            "at": self.at.isoformat(),
            "path": str(self.path) if self.path else None,
        }


@dataclass(frozen=True)
class OrderViolation:
    """A status whose Seq did not rise above the last one the portal had for that petition."""

    petition_id: str
    seq: int
    previous_seq: int
    status_code: str
    message_id: str


class SimRecorder:
    """In memory, plus one JSON line per message in `record_dir/received.jsonl` when a directory is given."""

    def __init__(self, record_dir: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._receipts: dict[str, str] = {}  # MessageId -> ReceiptId of accepted messages
        self._statuses: dict[str, dict[int, str]] = {}  # PetitionId -> Seq -> StatusCode
        self._last_seq: dict[str, int] = {}
        self._answer_ids: dict[str, list[str]] = {}  # PetitionId -> AnswerIds accepted
        self._answers: list[ReceivedAnswer] = []
        self._delivery_order: dict[str, int] = {}  # MessageId -> place among accepted deliveries
        self._deliveries = itertools.count(1)
        self._transfers: dict[str, list[str]] = {}
        self._order_violations: list[OrderViolation] = []
        self._answers_before_assignment: list[str] = []
        self._petitions: list[dict[str, Any]] = []
        self._journal: Path | None = None
        self._answer_dir: Path | None = None
        if record_dir is not None:
            record_dir.mkdir(parents=True, exist_ok=True)
            self._journal = record_dir / "received.jsonl"
            self._answer_dir = record_dir / "answers"

    # ------------------------------------------------------------------ what tests read

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def order_violations(self) -> list[OrderViolation]:
        with self._lock:
            return list(self._order_violations)

    @property
    def answers_before_assignment(self) -> list[str]:
        """PetitionIds, once per answer that arrived before the petition's status 04."""
        with self._lock:
            return list(self._answers_before_assignment)

    def statuses(self, petition_id: str) -> list[tuple[int, str]]:
        """(Seq, StatusCode) accepted for a petition, in Seq order."""
        with self._lock:
            return sorted(self._statuses.get(petition_id, {}).items())

    def delivered(self, petition_id: str) -> list[Received]:
        """The petition's accepted deliveries (statuses, answers, transfers; no duplicate, no refusal),
        in the order the portal accepted them."""
        with self._lock:
            order = self._delivery_order
            entries = [
                r
                for r in self._received
                if r.petition_id == petition_id and r.outcome == "accepted" and r.message_id in order
            ]
        return sorted(entries, key=lambda r: order[r.message_id or ""])

    def attempts(self, petition_id: str) -> int:
        """Every call recorded about the petition: accepted, duplicate, refused, or lost to a failure mode."""
        with self._lock:
            return sum(1 for r in self._received if r.petition_id == petition_id)

    def answers(self, petition_id: str | None = None) -> list[ReceivedAnswer]:
        """Answer letters received (of one petition, or all), in arrival order; see `ReceivedAnswer`."""
        with self._lock:
            return [a for a in self._answers if petition_id is None or a.petition_id == petition_id]

    def answer_pdf(self, petition_id: str, answer_id: str) -> bytes | None:
        """The accepted letter of that answer, or None."""
        with self._lock:
            for answer in reversed(self._answers):
                if (answer.petition_id, answer.answer_id, answer.sha256_ok) == (petition_id, answer_id, True):
                    return answer.pdf
        return None

    def transfers(self, petition_id: str) -> list[str]:
        with self._lock:
            return list(self._transfers.get(petition_id, []))

    def summary(self) -> dict[str, Any]:
        with self._lock:
            received = list(self._received)
            return {
                "count": len(received),
                "by_operation": dict(Counter(r.operation for r in received)),
                "by_verdict": dict(Counter(r.verdict for r in received)),
                "by_outcome": dict(Counter(r.outcome for r in received)),
                "order_violations": [vars(v) for v in self._order_violations],
                "answers_before_assignment": list(self._answers_before_assignment),
                "answers": len(self._answers),
                "registered_petitions": len(self._petitions),
                "messages": [r.summary() for r in received],
            }

    # ------------------------------------------------------------------ petitions for ListPetitions

    def register_petitions(self, petitions: Iterable[dict[str, Any]]) -> None:
        """Make petitions (generator dicts) known to the portal, in order, for `ListPetitions`."""
        with self._lock:
            known = {p["PetitionId"] for p in self._petitions}
            for petition in petitions:
                if petition["PetitionId"] not in known:
                    known.add(petition["PetitionId"])
                    self._petitions.append(petition)

    def petitions(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._petitions)

    # ------------------------------------------------------------------ what the server writes

    def record(self, entry: Received) -> None:
        with self._lock:
            self._received.append(entry)
            if self._journal is not None:
                line = entry.summary() | {"raw_base64": base64.b64encode(entry.raw).decode("ascii")}
                with self._journal.open("a", encoding="utf-8") as journal:
                    journal.write(json.dumps(line, ensure_ascii=False) + "\n")

    def deliver_status(
        self, message_id: str, petition_id: str, seq: int, status_code: str
    ) -> tuple[str, bool]:
        """Accept a status: (ReceiptId, duplicate). Duplicate: the MessageId was accepted before (its
        first ReceiptId comes back), or this PetitionId+Seq is already there with the same code."""
        with self._lock:
            receipt_id, new = self._receipt_locked(message_id)
            if not new:
                return receipt_id, True
            seen = self._statuses.setdefault(petition_id, {})
            if seen.get(seq) == status_code:
                return receipt_id, True
            previous = self._last_seq.get(petition_id)
            if previous is not None and seq <= previous:
                self._order_violations.append(
                    OrderViolation(petition_id, seq, previous, status_code, message_id)
                )
            seen[seq] = status_code
            self._last_seq[petition_id] = max(seq, previous or 0)
            self._delivery_order[message_id] = next(self._deliveries)
            return receipt_id, False

    def deliver_answer(
        self, message_id: str, petition_id: str, answer_id: str, document: AnswerDocument, *, verdict: str
    ) -> tuple[str, bool]:
        """Accept an answer whose letter matched its Sha256: (ReceiptId, duplicate). Duplicate: the
        MessageId was accepted before, or this AnswerId is already there (the letter is not kept again)."""
        with self._lock:
            receipt_id, new = self._receipt_locked(message_id)
            if not new:
                return receipt_id, True
            accepted = self._answer_ids.setdefault(petition_id, [])
            if answer_id in accepted:
                return receipt_id, True
            if ASSIGNED not in self._statuses.get(petition_id, {}).values():
                self._answers_before_assignment.append(petition_id)
            accepted.append(answer_id)
            self._delivery_order[message_id] = next(self._deliveries)
            self._keep_answer_locked(message_id, petition_id, answer_id, document, verdict)
            return receipt_id, False

    def refuse_answer(
        self, message_id: str, petition_id: str, answer_id: str, document: AnswerDocument, *, verdict: str
    ) -> None:
        """Keep the letter of an answer refused because it did not match its declared Sha256."""
        with self._lock:
            self._keep_answer_locked(message_id, petition_id, answer_id, document, verdict)

    def deliver_transfer(self, message_id: str, petition_id: str, reason: str) -> tuple[str, bool]:
        """Accept a transfer request: (ReceiptId, duplicate: the MessageId was accepted before)."""
        with self._lock:
            receipt_id, new = self._receipt_locked(message_id)
            if new:
                self._transfers.setdefault(petition_id, []).append(reason)
                self._delivery_order[message_id] = next(self._deliveries)
            return receipt_id, not new

    def _receipt_locked(self, message_id: str) -> tuple[str, bool]:
        """(ReceiptId, is new): a repeated MessageId gets the receipt it got the first time."""
        known = self._receipts.get(message_id)
        if known is not None:
            return known, False
        receipt_id = f"NAT-RC-{uuid.uuid4().hex[:20].upper()}"
        self._receipts[message_id] = receipt_id
        return receipt_id, True

    def _keep_answer_locked(
        self, message_id: str, petition_id: str, answer_id: str, document: AnswerDocument, verdict: str
    ) -> None:
        path: Path | None = None
        if self._answer_dir is not None and document.sha256_ok:
            self._answer_dir.mkdir(parents=True, exist_ok=True)
            path = self._answer_dir / answer_file_name(petition_id, answer_id)
            path.write_bytes(document.pdf)
        self._answers.append(
            ReceivedAnswer(
                petition_id=petition_id,
                answer_id=answer_id,
                message_id=message_id,
                file_name=document.file_name,
                pdf=document.pdf,
                declared_sha256=document.declared_sha256,
                sha256_ok=document.sha256_ok,
                verdict=verdict,
                at=datetime.now(VN_TZ),
                path=path,
            )
        )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def answer_file_name(petition_id: str, answer_id: str) -> str:
    """`<PetitionId>-<AnswerId>.pdf`, safe as one file name: the ids come from the peer (the contract
    allows any non-space character, "/" and ".." included), so anything but [A-Za-z0-9._-] becomes "_"
    and a name that had to change gets a short hash of the original to stay unique."""
    stem = f"{petition_id}-{answer_id}"
    safe = _UNSAFE.sub("_", stem).lstrip(".") or "_"
    if safe != stem:
        safe = f"{safe}-{hashlib.sha256(stem.encode('utf-8')).hexdigest()[:12]}"
    return f"{safe}.pdf"
