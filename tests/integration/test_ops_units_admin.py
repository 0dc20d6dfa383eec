"""Units for operators through the service layer, on SQLite and PostgreSQL: bindings and routing
from the config in force, unit tokens created, listed and revoked by admins, each recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.operators import Principal, Role
from gateway.ops.errors import InvalidRequest, NotFound, RoleTooLow
from gateway.ops.units_admin import UnitsAdmin
from gateway.routing_config import load_config
from gateway.units.tokens import token_hash

pytestmark = pytest.mark.integration

AT = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
ADMIN = Principal("boss", Role.ADMIN)


@pytest.fixture
def admin(db_uow: SqlUnitOfWorkFactory) -> UnitsAdmin:
    return UnitsAdmin(db_uow, load_config().routing, lambda: AT)


def test_units_come_with_their_queue_binding_and_fields(admin: UnitsAdmin) -> None:
    units = {u.code: u for u in admin.units()}
    assert len(units) == 11
    cncc = units["CNCC"]
    assert (cncc.name, cncc.queue, cncc.exchange, cncc.binding_key, cncc.error_queue) == (
        "Cục Người có công", "pakn.unit.CNCC", "pakn.cases", "unit.CNCC.#", "pakn.unit.CNCC.errors",
    )
    assert cncc.fields == ("NGUOI_CO_CONG",) and not cncc.triage
    assert units["VPB"].triage


def test_routing_in_force_is_shown_rule_by_rule(admin: UnitsAdmin) -> None:
    routing = admin.routing()
    assert routing.triage == "VPB"
    assert ("NGUOI_CO_CONG", "Người có công") in routing.fields
    last = routing.rules[-1]
    assert (last.position, last.unit, last.kinds, last.sender_types, last.specificity) == (
        11, "VPB", ("DBQH",), ("DAI_BIEU",), 2,
    )


async def test_admin_creates_lists_and_revokes_tokens_each_recorded(
    admin: UnitsAdmin, db_uow: SqlUnitOfWorkFactory
) -> None:
    issued = await admin.create_token(ADMIN, "CNCC", "Hệ thống Cục Người có công")
    other = await admin.create_token(ADMIN, "CVL")
    assert issued.secret.startswith("pakn_") and issued.token.label == "Hệ thống Cục Người có công"
    assert other.token.label == "unit CVL"
    async with db_uow() as uow:
        assert await uow.tokens.unit_for(token_hash(issued.secret)) == "CNCC"
    listed = await admin.tokens(ADMIN)
    assert [t.id for t in listed] == [other.token.id, issued.token.id]  # newest first
    assert issued.secret not in repr(listed)
    assert [t.unit_code for t in await admin.tokens(ADMIN, "CNCC")] == ["CNCC"]

    revoked = await admin.revoke_token(ADMIN, issued.token.id)
    assert revoked.revoked_at == AT
    again = await admin.revoke_token(ADMIN, issued.token.id)  # safe to repeat, recorded once
    assert again.revoked_at == AT
    async with db_uow() as uow:
        assert await uow.tokens.unit_for(token_hash(issued.secret)) is None
        actions = await uow.operators.actions()
    recorded = sorted((a.username, a.action, a.target) for a in actions)
    assert recorded == [
        ("boss", "token.create", "unit:CNCC"),
        ("boss", "token.create", "unit:CVL"),
        ("boss", "token.revoke", "unit:CNCC"),
    ]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
async def test_only_admins_touch_tokens(admin: UnitsAdmin, db_uow: SqlUnitOfWorkFactory, role: Role) -> None:
    token = (await admin.create_token(ADMIN, "CNCC")).token
    someone = Principal("someone", role)
    for attempt in (
        admin.tokens(someone), admin.create_token(someone, "CNCC"), admin.revoke_token(someone, token.id)
    ):
        with pytest.raises(RoleTooLow) as caught:
            await attempt
        assert caught.value.code == "Forbidden"
    async with db_uow() as uow:
        assert [t.revoked_at for t in await uow.tokens.listing()] == [None]


async def test_unknown_units_and_tokens_and_long_labels_are_refused(admin: UnitsAdmin) -> None:
    with pytest.raises(NotFound) as caught:
        await admin.create_token(ADMIN, "NOPE")
    assert caught.value.code == "UnknownUnit"
    with pytest.raises(NotFound) as caught:
        await admin.revoke_token(ADMIN, 999_999)
    assert caught.value.code == "Token.Unknown"
    with pytest.raises(InvalidRequest):
        await admin.create_token(ADMIN, "CNCC", "x" * 256)
