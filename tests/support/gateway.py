"""A real gateway for end-to-end tests: its own config (unit codes unique to the test, so the shared
broker's queues never mix), its own PKI and database, served over real HTTP from a thread, and the
national portal simulator it delivers to, served the same way (it trusts the gateway's dev CA and
signs its receipts with the national key, like the real portal would)."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

import signing
from connectors.amqp.topology import unit_error_queue_name, unit_queue_name
from connectors.db.engine import make_engine, make_sessions
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from connectors.national_sim.failure_modes import SimFaults
from connectors.national_sim.ministry_client import MinistryClient
from connectors.national_sim.recorder import SimRecorder
from connectors.national_sim.server import create_sim_app
from gateway.app import create_app
from gateway.domain.case import Case
from gateway.routing_config import default_config_dir
from gateway.settings import Settings
from tests.support.amqp import AMQP_URL
from tests.support.live_server import serve_in_thread

T = TypeVar("T")
WAIT = 30.0


def suffixed_config(directory: Path, suffix: str) -> dict[str, str]:
    """Copy the packaged MOLISA config with every unit code suffixed; returns original → test code."""
    directory.mkdir(parents=True, exist_ok=True)
    source = default_config_dir()
    shutil.copy(source / "fields.yaml", directory / "fields.yaml")
    units = yaml.safe_load((source / "units.yaml").read_text(encoding="utf-8"))
    mapping = {u["code"]: f"{u['code']}_{suffix}" for u in units["units"]}
    for u in units["units"]:
        u["code"] = mapping[u["code"]]
        u["queue"] = unit_queue_name(u["code"])
    units["triage"] = mapping[units["triage"]]
    (directory / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    rules = yaml.safe_load((source / "routing.yaml").read_text(encoding="utf-8"))
    for rule in rules["rules"]:
        rule["unit"] = mapping[rule["unit"]]
    (directory / "routing.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    return mapping


@dataclass
class LivePortal:
    """The national portal simulator the gateway delivers to: what it received, its failure modes."""

    base_url: str
    recorder: SimRecorder
    faults: SimFaults

    @property
    def soap_url(self) -> str:
        return f"{self.base_url}/soap/national"


@dataclass
class LiveGateway:
    base_url: str
    settings: Settings
    pki: signing.pki.DevPki
    units: dict[str, str]  # MOLISA code → this test's code
    engine: AsyncEngine  # the test's own engine (the server's belongs to the server's event loop)
    portal: LivePortal

    @property
    def wsdl_url(self) -> str:
        return f"{self.base_url}/soap/pakn?wsdl"

    @property
    def soap_url(self) -> str:
        return f"{self.base_url}/soap/pakn"

    def national_key(self) -> signing.SigningKey:
        return signing.load_pem_key(self.pki.national_cert, self.pki.national_key)

    def client(self) -> MinistryClient:
        return MinistryClient(self.wsdl_url, self.national_key(), trust=self.pki.trust_store())

    def uow(self) -> SqlUnitOfWorkFactory:
        return SqlUnitOfWorkFactory(make_sessions(self.engine))

    async def case(self, petition_id: str) -> Case | None:
        async with self.uow()() as uow:
            return await uow.cases.get(petition_id)

    async def wait_status(self, petition_id: str, status: str, timeout: float = WAIT) -> Case:
        async def check() -> Case | None:
            case = await self.case(petition_id)
            return case if case is not None and case.status.value == status else None

        return await eventually(check, timeout, f"{petition_id} never reached {status}")


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float, message: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.1)


@asynccontextmanager
async def live_gateway(
    tmp_path: Path,
    database_url: str,
    *,
    amqp_url: str = AMQP_URL,
    pki_dir: Path | None = None,
    **overrides: Any,
) -> AsyncIterator[LiveGateway]:
    suffix = secrets.token_hex(3).upper()
    config_dir = tmp_path / "config"
    units = suffixed_config(config_dir, suffix)
    pki = signing.init_dev_pki(pki_dir or tmp_path / "pki")
    sim = create_sim_app(
        trust=pki.trust_store(),
        signer=signing.load_pem_key(pki.national_cert, pki.national_key),
        record_dir=tmp_path / "portal",
    )
    try:
        with serve_in_thread(sim) as sim_url:
            portal = LivePortal(sim_url, sim.state.recorder, sim.state.faults)
            settings = Settings(
                environment="test",
                database_url=database_url,
                amqp_url=amqp_url,
                config_dir=config_dir,
                pki_dir=pki.directory,
                outbox_poll_seconds=0.2,
                # no nightly ListPetitions in the middle of a test that counts the portal's calls, no
                # deadline reminders in a unit queue a test counts (generated DueAts may be past):
                # tests of those turn them on
                **{
                    "national_url": portal.soap_url,
                    "reconcile_at": "off",
                    "deadline_check_seconds": 0,
                    **overrides,
                },
            )
            async with _serve_gateway(settings, database_url) as (base_url, engine):
                yield LiveGateway(base_url, settings, pki, units, engine, portal)
    finally:
        await delete_queues(list(units.values()))


@asynccontextmanager
async def _serve_gateway(settings: Settings, database_url: str) -> AsyncIterator[tuple[str, AsyncEngine]]:
    app = create_app(settings)
    engine = make_engine(database_url)
    try:
        with serve_in_thread(app) as base_url:
            yield base_url, engine
    finally:
        await engine.dispose()


async def delete_queues(codes: list[str]) -> None:
    with suppress(Exception):
        connection = await aio_pika.connect(AMQP_URL, timeout=5)
        async with connection:
            for code in codes:
                for queue in (unit_queue_name(code), unit_error_queue_name(code)):
                    with suppress(Exception):
                        # a channel per delete: a failed delete closes its channel
                        channel = await connection.channel()
                        await channel.queue_delete(queue)
                        await channel.close()
