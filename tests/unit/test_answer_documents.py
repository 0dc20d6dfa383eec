"""Letters are made on a thread of their own, LETTERS_AT_ONCE (one) at a time however many replies
ask at once, with the caller's context (its log correlation) carried into the thread."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from gateway.outbound.answer_documents import LETTERS_AT_ONCE, SignedLetters

PETITION = contextvars.ContextVar("petition", default="")


@dataclass(frozen=True)
class Watched(SignedLetters):
    """The real scheduling; `_make` replaced by a stand-in that takes a while and notes overlap."""

    seen: dict[str, Any] = field(default_factory=lambda: {"now": 0, "most": 0, "threads": set(), "ids": []})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _make(self, petition: Any, unit: Any, draft: Any, answer_id: str, at: datetime) -> bytes:
        with self.lock:
            self.seen["now"] += 1
            self.seen["most"] = max(self.seen["most"], self.seen["now"])
            self.seen["threads"].add(threading.current_thread().name)
            self.seen["ids"].append((answer_id, PETITION.get()))
        time.sleep(0.05)
        with self.lock:
            self.seen["now"] -= 1
        return f"%PDF-{answer_id}".encode()


async def test_letters_are_made_one_at_a_time_on_their_own_thread() -> None:
    letters = Watched(ministry=cast(Any, None), key=cast(Any, None))

    async def one(n: int) -> bytes:
        PETITION.set(f"PAKN-{n}")  # each task has its own context, as each reply's lane has
        return await letters.signed_letter(
            petition=cast(Any, None),
            unit=cast(Any, None),
            draft=cast(Any, None),
            answer_id=f"TL-{n}",
            at=datetime(2026, 12, 1, tzinfo=UTC),
        )

    made = await asyncio.gather(*(asyncio.create_task(one(n)) for n in range(8)))
    assert made == [f"%PDF-TL-{n}".encode() for n in range(8)]
    assert letters.seen["most"] == LETTERS_AT_ONCE == 1
    assert all(name.startswith("letters") for name in letters.seen["threads"])
    assert sorted(letters.seen["ids"]) == sorted((f"TL-{n}", f"PAKN-{n}") for n in range(8))
