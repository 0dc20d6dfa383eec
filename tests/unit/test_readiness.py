"""Readiness: the verdict from the probes, the certificate's validity window, /readyz as a problem."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI

from gateway.observability.metrics import GatewayMetrics
from gateway.observability.readiness import ReadinessProbes, certificate_check
from gateway.observability.routes import observability_router
from gateway.settings import Settings
from gateway.units.problems import Problem, problem_handler

NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def certificate(not_before: datetime, not_after: datetime) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bộ Lao động - Thương binh và Xã hội")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


VALID = certificate(NOW - timedelta(days=30), NOW + timedelta(days=335))


def test_the_certificate_must_be_valid_now() -> None:
    assert certificate_check(VALID, NOW).ok
    early = certificate_check(certificate(NOW + timedelta(hours=1), NOW + timedelta(days=365)), NOW)
    assert not early.ok and early.detail.startswith("not valid before 2026-11-01T04:00:00")
    late = certificate_check(certificate(NOW - timedelta(days=400), NOW - timedelta(seconds=1)), NOW)
    assert not late.ok and late.detail.startswith("expired at")


def probes(
    *,
    database_error: Exception | None = None,
    connected: bool = True,
    cert: x509.Certificate = VALID,
    breaker: str = "closed",
    database_timeout: float = 1.0,
) -> ReadinessProbes:
    async def ping() -> None:
        if database_error is not None:
            raise database_error

    return ReadinessProbes(
        ping_database=ping,
        broker=lambda: (connected, None if connected else "connect to amqp://guest@127.0.0.1:1/: refused"),
        certificate=cert,
        breaker_state=lambda: breaker,
        clock=lambda: NOW,
        database_timeout=database_timeout,
    )


async def test_every_part_up_is_ready_whatever_the_portal_breaker_says() -> None:
    readiness = await probes(breaker="open").assess()
    assert readiness.ready and readiness.failing == []
    assert readiness.document()["national_portal"] == "open"


@pytest.mark.parametrize(
    ("kwargs", "failing"),
    [
        ({"database_error": OSError("connection refused")}, ["database"]),
        ({"connected": False}, ["broker"]),
        ({"cert": certificate(NOW - timedelta(days=2), NOW - timedelta(days=1))}, ["signing_certificate"]),
        ({"connected": False, "database_error": OSError("gone")}, ["database", "broker"]),
    ],
)
async def test_each_failing_part_is_named(kwargs: dict[str, object], failing: list[str]) -> None:
    readiness = await probes(**kwargs).assess()  # type: ignore[arg-type]
    assert not readiness.ready and readiness.failing == failing


async def test_a_database_that_hangs_is_not_ready_within_the_bound() -> None:
    async def hang() -> None:
        await asyncio.sleep(30)

    hung = ReadinessProbes(
        ping_database=hang,
        broker=lambda: (True, None),
        certificate=VALID,
        breaker_state=lambda: "closed",
        clock=lambda: NOW,
        database_timeout=0.05,
    )
    readiness = await hung.assess()
    assert readiness.failing == ["database"] and "0.05 s" in readiness.checks["database"].detail


def app_with(p: ReadinessProbes) -> FastAPI:
    app = FastAPI()
    app.add_exception_handler(Problem, problem_handler)
    app.include_router(observability_router(GatewayMetrics(), p))
    return app


async def test_readyz_is_200_when_ready_and_a_503_problem_naming_the_part_when_not() -> None:
    transport = httpx.ASGITransport(app=app_with(probes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        ok = await http.get("/readyz")
        assert ok.status_code == 200 and ok.json()["status"] == "ready"
        assert (await http.get("/healthz")).json() == {"status": "ok"}
    transport = httpx.ASGITransport(app=app_with(probes(connected=False)))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        down = await http.get("/readyz")
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    body = down.json()
    assert body["code"] == "NotReady" and body["status"] == 503 and body["title"] and body["title_vi"]
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert "disconnected" in body["detail"] and "RabbitMQ" in body["detail_vi"]
    assert body["national_portal"] == "closed"


def test_log_format_defaults_to_text_in_development_and_json_elsewhere() -> None:
    assert Settings(environment="development").effective_log_format == "text"
    assert Settings(environment="production").effective_log_format == "json"
    assert Settings(environment="production", log_format="text").effective_log_format == "text"
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")  # type: ignore[arg-type]
