"""Failure modes the simulator can be told to take, for the gateway's outage tests and demos.

One `SimFaults` per app (`app.state.faults`), changed from Python (`faults.down = True`,
`faults.update(fault_next=2)`) or over HTTP (`POST /sim/control` with a JSON object of the fields
to change, `GET /sim/control` shows them, `DELETE /sim/control` resets). The modes, checked for every
SOAP call (`POST /soap/national`) in this order:

- `slow_seconds` — the call is held back this long before anything else happens (to trip client
  timeouts). If the client has given up by then, the call is recorded with outcome "slow" and not
  processed, unless `slow_commits` is set: then it is processed anyway (delivered but never
  acknowledged, the case a sender's retry must resolve through the MessageId's Duplicate receipt).
- `down` — HTTP 503 with a plain-text body and no SOAP envelope, as a load balancer in front of a
  dead portal answers. Recorded with outcome "down".
- after the message passed the portal's own checks (size, XML, schema, signature, From/To) and
  before anything is stored:
  - `fault_for_petition` — {PetitionId: fault code}: every call about that petition gets that Fault
    (a poison message), whatever `fault_next` says, and does not use up `fault_next`;
  - `fault_next` — the next N calls get a Fault with `fault_code` (default "Server.Unavailable",
    transient; "Client.UnknownPetition", "Client.SchemaInvalid"… are permanent), then normal again.
  Injected Faults have the shape of every other: `soap:<code>` faultcode, Vietnamese / English
  faultstring, HTTP 500; they are recorded with the code as outcome.

A refused call is recorded (it counts in `SimRecorder.attempts`) but is not a delivery: nothing is
stored, the MessageId stays unknown (a retry is a new delivery), order checks never see it.

Thread-safe: the server reads and consumes the modes from worker threads while tests change them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.national_sim.faults import CATALOGUE

__all__ = ["DEFAULT_FAULT_CODE", "MAX_SLOW_SECONDS", "InjectedFault", "SimFaults"]

DEFAULT_FAULT_CODE = "Server.Unavailable"
MAX_SLOW_SECONDS = 3600.0
"""A slip of the finger (slow_seconds=36000) would hold every worker for hours."""


@dataclass(frozen=True)
class InjectedFault:
    mode: str
    """"fault_for_petition" or "fault_next"."""
    code: str
    """A code of the simulator's fault catalogue, e.g. "Server.Unavailable"."""


class SimFaults:
    """The failure modes in force; all off by default. Every setter validates; see the module doc."""

    def __init__(
        self,
        *,
        down: bool = False,
        slow_seconds: float = 0.0,
        slow_commits: bool = False,
        fault_next: int = 0,
        fault_code: str = DEFAULT_FAULT_CODE,
        fault_for_petition: Mapping[str, str] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._down = False
        self._slow_seconds = 0.0
        self._slow_commits = False
        self._fault_next = 0
        self._fault_code = DEFAULT_FAULT_CODE
        self._fault_for_petition: dict[str, str] = {}
        self.update(
            down=down,
            slow_seconds=slow_seconds,
            slow_commits=slow_commits,
            fault_next=fault_next,
            fault_code=fault_code,
            fault_for_petition=fault_for_petition or {},
        )

    # ------------------------------------------------------------------ changing the modes

    def update(
        self,
        *,
        down: bool | None = None,
        slow_seconds: float | None = None,
        slow_commits: bool | None = None,
        fault_next: int | None = None,
        fault_code: str | None = None,
        fault_for_petition: Mapping[str, str] | None = None,
    ) -> None:
        """Change the given modes at once (None: leave as is); nothing changes if one value is invalid.

        `fault_for_petition` replaces the whole mapping ({} clears it). A ValueError names a bad value.
        """
        checked: dict[str, Any] = {}
        if down is not None:
            checked["_down"] = _flag("down", down)
        if slow_seconds is not None:
            checked["_slow_seconds"] = _seconds(slow_seconds)
        if slow_commits is not None:
            checked["_slow_commits"] = _flag("slow_commits", slow_commits)
        if fault_next is not None:
            checked["_fault_next"] = _count(fault_next)
        if fault_code is not None:
            checked["_fault_code"] = _code("fault_code", fault_code)
        if fault_for_petition is not None:
            checked["_fault_for_petition"] = _petition_codes(fault_for_petition)
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)

    def reset(self) -> None:
        """Every mode off: the portal answers normally again."""
        with self._lock:
            self._down, self._slow_seconds, self._slow_commits = False, 0.0, False
            self._fault_next, self._fault_code, self._fault_for_petition = 0, DEFAULT_FAULT_CODE, {}

    def snapshot(self) -> dict[str, Any]:
        """The modes in force, JSON-ready (what `GET /sim/control` shows)."""
        with self._lock:
            return {
                "down": self._down,
                "slow_seconds": self._slow_seconds,
                "slow_commits": self._slow_commits,
                "fault_next": self._fault_next,
                "fault_code": self._fault_code,
                "fault_for_petition": dict(self._fault_for_petition),
            }

    @property
    def down(self) -> bool:
        with self._lock:
            return self._down

    @down.setter
    def down(self, value: bool) -> None:
        self.update(down=value)

    @property
    def slow_seconds(self) -> float:
        with self._lock:
            return self._slow_seconds

    @slow_seconds.setter
    def slow_seconds(self, value: float) -> None:
        self.update(slow_seconds=value)

    @property
    def slow_commits(self) -> bool:
        with self._lock:
            return self._slow_commits

    @slow_commits.setter
    def slow_commits(self, value: bool) -> None:
        self.update(slow_commits=value)

    @property
    def fault_next(self) -> int:
        """How many of the next calls still get `fault_code`."""
        with self._lock:
            return self._fault_next

    @fault_next.setter
    def fault_next(self, value: int) -> None:
        self.update(fault_next=value)

    @property
    def fault_code(self) -> str:
        with self._lock:
            return self._fault_code

    @fault_code.setter
    def fault_code(self, value: str) -> None:
        self.update(fault_code=value)

    @property
    def fault_for_petition(self) -> dict[str, str]:
        """A copy: change it with the setter or `update`, not in place."""
        with self._lock:
            return dict(self._fault_for_petition)

    @fault_for_petition.setter
    def fault_for_petition(self, value: Mapping[str, str]) -> None:
        self.update(fault_for_petition=value)

    # ------------------------------------------------------------------ what the portal asks

    def take_fault(self, petition_id: str | None) -> InjectedFault | None:
        """The Fault this call gets, if any; a `fault_next` Fault is used up by being taken."""
        with self._lock:
            if petition_id is not None and petition_id in self._fault_for_petition:
                return InjectedFault("fault_for_petition", self._fault_for_petition[petition_id])
            if self._fault_next > 0:
                self._fault_next -= 1
                return InjectedFault("fault_next", self._fault_code)
            return None


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"slow_seconds must be a number, not {value!r}")
    seconds = float(value)
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_SLOW_SECONDS):
        raise ValueError(f"slow_seconds must be between 0 and {MAX_SLOW_SECONDS:g}, not {value!r}")
    return seconds


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"fault_next must be a whole number ≥ 0, not {value!r}")
    return value


def _code(name: str, value: object) -> str:
    code = value.removeprefix("soap:") if isinstance(value, str) else value
    if not isinstance(code, str) or code not in CATALOGUE:
        raise ValueError(f"{name}: {value!r} is not in the simulator's fault catalogue {sorted(CATALOGUE)}")
    return code


def _petition_codes(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"fault_for_petition must map PetitionId to a fault code, not {value!r}")
    codes: dict[str, str] = {}
    for petition_id, code in value.items():
        if not isinstance(petition_id, str) or not petition_id.strip():
            raise ValueError(f"fault_for_petition: {petition_id!r} is not a PetitionId")
        codes[petition_id] = _code(f"fault_for_petition[{petition_id!r}]", code)
    return codes
