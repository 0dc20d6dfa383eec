"""`pakn-gateway reconcile` as an operator runs it: a real process, the simulator over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

import signing
from connectors.db.engine import make_engine, make_sessions
from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from connectors.national_sim.generator import generate_petitions
from connectors.national_sim.server import create_sim_app
from tests.e2e.test_cli import env_for, run
from tests.support.live_server import serve_in_thread


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[str, FastAPI]]:
    """The simulator, trusting the PKI the command's gateway will use (created here, under var/pki)."""
    pki = signing.init_dev_pki(tmp_path / "var" / "pki")
    app = create_sim_app(
        trust=pki.trust_store(), signer=signing.load_pem_key(pki.national_cert, pki.national_key)
    )
    with serve_in_thread(app) as url:
        yield url, app


async def test_reconcile_adds_the_missing_then_nothing_and_fails_when_the_portal_is_down(
    tmp_path: Path, portal: tuple[str, FastAPI]
) -> None:
    url, app = portal
    batch = generate_petitions(3, seed=51, prefix="RECCLI", attachment_ratio=0.5)
    app.state.recorder.register_petitions(batch)
    env = env_for(tmp_path, PAKN_NATIONAL_URL=f"{url}/soap/national", PAKN_ENVIRONMENT="test")

    first = await asyncio.to_thread(run, ["reconcile", "--limit", "2"], env, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    out = " ".join(first.stdout.split())
    assert "pages 2, listed 3, known 0, added 3, failed 0" in out
    assert all(p["PetitionId"] in out for p in batch)
    assert "every listed petition is in the gateway" in out

    engine = make_engine(env["PAKN_DATABASE_URL"])
    try:
        async with SqlUnitOfWorkFactory(make_sessions(engine))() as uow:
            cases = [await uow.cases.get(p["PetitionId"]) for p in batch]
            waiting, _ = await uow.outbox.lag()
    finally:
        await engine.dispose()
    # stored and accepted; no gateway runs here, so the case messages wait in the outbox for its relay
    assert [c.status.value if c else None for c in cases] == ["03"] * 3
    assert waiting == 3

    again = await asyncio.to_thread(run, ["reconcile"], env, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "listed 3, known 3, added 0" in " ".join(again.stdout.split())

    app.state.faults.down = True
    down = await asyncio.to_thread(run, ["reconcile"], env, tmp_path)
    assert down.returncode == 1, down.stdout + down.stderr
    assert "stopped early: HTTP.503" in " ".join(down.stdout.split())


async def test_reconcile_since_in_the_future_lists_nothing_and_a_bad_since_is_refused(
    tmp_path: Path, portal: tuple[str, FastAPI]
) -> None:
    url, app = portal
    app.state.recorder.register_petitions(generate_petitions(2, seed=52, prefix="RECCLI"))
    env = env_for(tmp_path, PAKN_NATIONAL_URL=f"{url}/soap/national", PAKN_ENVIRONMENT="test")
    future = await asyncio.to_thread(run, ["reconcile", "--since", "2999-01-01"], env, tmp_path)
    assert future.returncode == 0, future.stdout + future.stderr
    out = " ".join(future.stdout.split())
    assert "since 2999-01-01T00:00:00+07:00" in out and "listed 0" in out
    bad = await asyncio.to_thread(run, ["reconcile", "--since", "yesterday"], env, tmp_path)
    assert bad.returncode == 2 and "not an ISO date" in bad.stderr
