"""Vietnam time (UTC+07:00, no daylight saving): the offset every timestamp of the contract carries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["VN_TZ", "now"]

VN_TZ = timezone(timedelta(hours=7), "ICT")


def now() -> datetime:
    """The current time at +07:00, to the millisecond (what the portal writes in SentAt)."""
    moment = datetime.now(VN_TZ)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
