"""Is this gateway ready to take traffic? Database reachable, broker link up (topology declared),
signing certificate valid now. The national portal's circuit breaker is reported but never makes
the gateway unready: petitions are still accepted while the portal is down (the outbox holds what
goes back), so a load balancer must keep sending them here.

The probes are injected (`gateway.app` wires the real ones), so the verdict is tested without I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509

DATABASE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, Check]
    reported: dict[str, str] = field(default_factory=dict)  # informative only (the portal's breaker)

    @property
    def failing(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]

    @property
    def ready(self) -> bool:
        return not self.failing

    def document(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not ready",
            "failing": self.failing,
            "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in self.checks.items()},
            **self.reported,
        }


def certificate_check(certificate: x509.Certificate, now: datetime) -> Check:
    """Valid now: after notBefore and before notAfter (the gateway's own signatures depend on it)."""
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now < not_before:
        return Check(False, f"not valid before {not_before.isoformat()}")
    if now >= not_after:
        return Check(False, f"expired at {not_after.isoformat()}")
    return Check(True, f"valid until {not_after.isoformat()}")


@dataclass(frozen=True)
class ReadinessProbes:
    ping_database: Callable[[], Awaitable[None]]  # raises when the database does not answer
    broker: Callable[[], tuple[bool, str | None]]  # (connected, last error)
    certificate: x509.Certificate
    breaker_state: Callable[[], str]
    clock: Callable[[], datetime]
    database_timeout: float = DATABASE_TIMEOUT

    async def assess(self) -> Readiness:
        return Readiness(
            checks={
                "database": await self._database(),
                "broker": self._broker(),
                "signing_certificate": certificate_check(self.certificate, self.clock()),
            },
            reported={"national_portal": self.breaker_state()},
        )

    async def _database(self) -> Check:
        try:
            async with asyncio.timeout(self.database_timeout):
                await self.ping_database()
        except TimeoutError:
            return Check(False, f"no answer within {self.database_timeout:g} s")
        except Exception as exc:  # whatever the driver raises, the answer is "not ready", and why
            return Check(False, f"{type(exc).__name__}: {exc}"[:300])
        return Check(True, "ok")

    def _broker(self) -> Check:
        connected, last_error = self.broker()
        if connected:
            return Check(True, "connected")
        return Check(False, f"disconnected: {last_error}" if last_error else "disconnected")
