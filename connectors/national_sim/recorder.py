"""The simulator's memory: every message received, and what the portal would notice about the order.

Tests of the gateway's guarantees (DESIGN §4) read it: per petition, statuses must arrive with rising
`Seq` and no answer may come before status 04 (assigned). The simulator accepts such messages, as
the portal would, and records the breach here instead of refusing: a refusal would hide the bug
behind a retry.

Thread-safe: the server records from worker threads while a test reads from its own thread.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["ASSIGNED", "OrderViolation", "Received", "SimRecorder"]

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
    """"accepted", "duplicate", or the fault code it was refused with (e.g. "Client.SignatureInvalid")."""
    sender: str | None = None
    status_code: str | None = None

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
            "at": self.at.isoformat(),
            "raw_sha256": hashlib.sha256(self.raw).hexdigest(),
            "raw_bytes": len(self.raw),
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
        self._answers: dict[str, list[str]] = {}
        self._transfers: dict[str, list[str]] = {}
        self._order_violations: list[OrderViolation] = []
        self._answers_before_assignment: list[str] = []
        self._petitions: list[dict[str, Any]] = []
        self._journal: Path | None = None
        if record_dir is not None:
            record_dir.mkdir(parents=True, exist_ok=True)
            self._journal = record_dir / "received.jsonl"

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

    def answers(self, petition_id: str) -> list[str]:
        with self._lock:
            return list(self._answers.get(petition_id, []))

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

    def accept_message(self, message_id: str) -> tuple[bool, str]:
        """(is new, ReceiptId): a repeated MessageId gets the receipt it got the first time."""
        with self._lock:
            known = self._receipts.get(message_id)
            if known is not None:
                return False, known
            receipt_id = f"NAT-RC-{uuid.uuid4().hex[:20].upper()}"
            self._receipts[message_id] = receipt_id
            return True, receipt_id

    def note_status(self, petition_id: str, seq: int, status_code: str, message_id: str) -> bool:
        """Record a status; True if this PetitionId+Seq was already there with the same code (a replay)."""
        with self._lock:
            seen = self._statuses.setdefault(petition_id, {})
            if seen.get(seq) == status_code:
                return True
            previous = self._last_seq.get(petition_id)
            if previous is not None and seq <= previous:
                self._order_violations.append(
                    OrderViolation(petition_id, seq, previous, status_code, message_id)
                )
            seen[seq] = status_code
            self._last_seq[petition_id] = max(seq, previous or 0)
            return False

    def note_answer(self, petition_id: str, answer_id: str) -> bool:
        """Record an answer; True if this AnswerId was already there (a replay)."""
        with self._lock:
            answers = self._answers.setdefault(petition_id, [])
            if answer_id in answers:
                return True
            if ASSIGNED not in self._statuses.get(petition_id, {}).values():
                self._answers_before_assignment.append(petition_id)
            answers.append(answer_id)
            return False

    def note_transfer(self, petition_id: str, reason: str) -> None:
        with self._lock:
            self._transfers.setdefault(petition_id, []).append(reason)
