"""The case: one petition inside the ministry, its status and the history the portal will see.

Status codes follow edXML (QCVN 102:2016) with the gateway's own 07 and 08. The allowed moves live
in one table so a reviewer can read the whole state machine at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from gateway.domain.errors import InvalidTransition, WrongUnit


class Status(StrEnum):
    ARRIVED = "01"
    REJECTED = "02"
    ACCEPTED = "03"
    ASSIGNED = "04"
    PROCESSING = "05"
    COMPLETED = "06"
    TRANSFERRED = "07"
    WITHDRAWN = "08"


DESCRIPTIONS: dict[Status, str] = {
    Status.ARRIVED: "Đã đến / Arrived",
    Status.REJECTED: "Từ chối tiếp nhận / Rejected",
    Status.ACCEPTED: "Đã tiếp nhận / Accepted",
    Status.ASSIGNED: "Đã chuyển đơn vị xử lý / Assigned to a unit",
    Status.PROCESSING: "Đang xử lý / Processing",
    Status.COMPLETED: "Đã trả lời / Answered",
    Status.TRANSFERRED: "Chuyển cơ quan khác / Transferred out",
    Status.WITHDRAWN: "Người gửi rút đơn / Withdrawn",
}

# A re-assignment (04 → 04) is how a case moves between units of the ministry.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.ARRIVED: frozenset({Status.ACCEPTED, Status.REJECTED}),
    Status.ACCEPTED: frozenset({Status.ASSIGNED, Status.WITHDRAWN, Status.REJECTED}),
    Status.ASSIGNED: frozenset({Status.ASSIGNED, Status.PROCESSING, Status.TRANSFERRED, Status.WITHDRAWN}),
    Status.PROCESSING: frozenset({Status.ASSIGNED, Status.COMPLETED, Status.TRANSFERRED, Status.WITHDRAWN}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.TRANSFERRED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in ALLOWED.items() if not nxt)


@dataclass(frozen=True)
class StatusChange:
    seq: int
    status: Status
    unit_code: str
    description: str
    changed_at: datetime


@dataclass
class Case:
    petition_id: str
    unit_code: str
    fingerprint: str
    history: list[StatusChange] = field(default_factory=list)
    # Status changes not yet handed on (the unit of work turns them into outbox rows).
    events: list[StatusChange] = field(default_factory=list)

    @property
    def status(self) -> Status:
        if not self.history:
            raise InvalidTransition(f"case {self.petition_id} has no status yet")
        return self.history[-1].status

    @classmethod
    def arrive(cls, petition_id: str, unit_code: str, fingerprint: str, at: datetime) -> Case:
        """A petition stored durably: it arrived (01) and, being valid and stored, is accepted (03)."""
        case = cls(petition_id=petition_id, unit_code=unit_code, fingerprint=fingerprint)
        case._record(Status.ARRIVED, at)
        case._record(Status.ACCEPTED, at)
        return case

    def assign(self, at: datetime) -> None:
        """The unit's queue has the case (publisher confirm received)."""
        if self.status is Status.ASSIGNED:
            return  # a second confirm of the same delivery changes nothing
        self._move(Status.ASSIGNED, at)

    def reached(self, unit_code: str, at: datetime) -> None:
        """The unit the case was routed to replied about it, so its queue had it: a unit can act
        before the relay has committed the broker's confirm (03 → 04 then). Nothing otherwise."""
        if self.status is Status.ACCEPTED and self.unit_code == unit_code:
            self._move(Status.ASSIGNED, at)

    def reassign(self, unit_code: str, to_unit: str, at: datetime, note: str | None = None) -> None:
        self._require_holder(unit_code)
        self._check(Status.ASSIGNED)
        self.unit_code = to_unit
        self._record(Status.ASSIGNED, at, note)

    def claim(self, unit_code: str, at: datetime) -> None:
        self._require_holder(unit_code)
        self._move(Status.PROCESSING, at)

    def complete(self, unit_code: str, at: datetime) -> None:
        self._require_holder(unit_code)
        self._move(Status.COMPLETED, at)

    def transfer_out(self, unit_code: str, at: datetime, reason: str) -> None:
        self._require_holder(unit_code)
        self._move(Status.TRANSFERRED, at, reason)

    def withdraw(self, at: datetime) -> None:
        self._move(Status.WITHDRAWN, at)

    def note(self, unit_code: str, at: datetime, text: str) -> None:
        """A unit's progress note: the status stays, the portal hears of it (a new Seq)."""
        self._require_holder(unit_code)
        if self.status not in (Status.ASSIGNED, Status.PROCESSING):
            raise InvalidTransition(f"case {self.petition_id} is {self.status.value}; a note needs 04 or 05")
        self._record(self.status, at, text)

    def accept_supplement(self) -> None:
        """A citizen's supplement changes no status, but a closed case takes none."""
        if not self.is_open:
            raise InvalidTransition(
                f"case {self.petition_id} is closed ({self.status.value}); a supplement is refused"
            )

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL

    def _require_holder(self, unit_code: str) -> None:
        if unit_code != self.unit_code:
            raise WrongUnit(f"case {self.petition_id} is held by {self.unit_code}, not {unit_code}")

    def _check(self, target: Status) -> None:
        if target not in ALLOWED[self.status]:
            raise InvalidTransition(
                f"case {self.petition_id}: {self.status.value} → {target.value} is not allowed"
            )

    def _move(self, target: Status, at: datetime, note: str | None = None) -> None:
        self._check(target)
        self._record(target, at, note)

    def _record(self, status: Status, at: datetime, note: str | None = None) -> None:
        description = DESCRIPTIONS[status] if note is None else f"{DESCRIPTIONS[status]}: {note}"
        change = StatusChange(len(self.history) + 1, status, self.unit_code, description, at)
        self.history.append(change)
        self.events.append(change)
