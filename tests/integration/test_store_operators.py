"""Operator accounts and sessions on the real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.db.unit_of_work import SqlUnitOfWorkFactory
from gateway.domain.operators import Role
from gateway.ops.accounts import AccountError, Accounts, LoginFailed, SessionPolicy, session_hash

pytestmark = pytest.mark.integration

POLICY = SessionPolicy(
    idle=timedelta(minutes=30), max_age=timedelta(hours=12), max_failures=3, lockout=timedelta(minutes=10)
)
GOOD = "Mật khẩu rất dài 2026"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_login_opens_a_session_that_only_its_secret_finds(db_uow: SqlUnitOfWorkFactory) -> None:
    accounts = Accounts(db_uow, POLICY, Clock())
    created = await accounts.create(
        "Nguyễn.Hằng", GOOD, Role.OPERATOR, display_name="Nguyễn Thị Hằng", by="test"
    )
    assert created.username == "nguyễn.hằng"
    with pytest.raises(AccountError) as twice:
        await accounts.create("NGUYỄN.HẰNG", GOOD, Role.VIEWER, by="test")
    assert twice.value.code == "AccountExists"
    opened = await accounts.login("Nguyễn.Hằng", GOOD)
    assert opened.principal.role is Role.OPERATOR
    found = await accounts.resolve(opened.secret)
    assert (
        found is not None
        and found[1] == opened.principal
        and found[0].csrf_token == opened.session.csrf_token
    )
    assert await accounts.resolve(opened.secret + "x") is None
    async with db_uow() as uow:
        stored = await uow.operators.find_session(session_hash(opened.secret))
        assert stored is not None
        # the store holds a hash of the secret, never the secret
        assert await uow.operators.find_session(opened.secret) is None
        actions = [(a.action, a.username) for a in await uow.operators.actions()]
    assert actions == [("session.login", "nguyễn.hằng"), ("account.create", "test")]
    await accounts.logout(opened.secret)
    assert await accounts.resolve(opened.secret) is None


async def test_wrong_passwords_lock_the_account_then_it_opens_again(db_uow: SqlUnitOfWorkFactory) -> None:
    clock = Clock()
    accounts = Accounts(db_uow, POLICY, clock)
    await accounts.create("lan", GOOD, Role.VIEWER, by="test")
    for _ in range(3):
        with pytest.raises(LoginFailed):
            await accounts.login("lan", "sai mật khẩu rồi")
    with pytest.raises(LoginFailed):
        await accounts.login("lan", GOOD)  # locked: even the right password fails, with the same answer
    with pytest.raises(LoginFailed):
        await accounts.login("nobody", GOOD)  # no account: the same answer
    clock.now += timedelta(minutes=10)
    assert (await accounts.login("lan", GOOD)).principal.username == "lan"


async def test_sessions_expire_and_end_with_a_changed_account(db_uow: SqlUnitOfWorkFactory) -> None:
    clock = Clock()
    accounts = Accounts(db_uow, POLICY, clock)
    await accounts.create("minh", GOOD, Role.ADMIN, by="test")
    idle = await accounts.login("minh", GOOD)
    clock.now += timedelta(minutes=20)
    assert await accounts.resolve(idle.secret) is not None  # and touched: idle counts from now
    clock.now += timedelta(minutes=20)
    assert await accounts.resolve(idle.secret) is not None
    clock.now += timedelta(minutes=31)
    assert await accounts.resolve(idle.secret) is None
    first, second = await accounts.login("minh", GOOD), await accounts.login("minh", GOOD)
    await accounts.change("minh", role=Role.VIEWER, by="test")
    assert await accounts.resolve(first.secret) is None and await accounts.resolve(second.secret) is None
    viewer = await accounts.login("minh", GOOD)
    assert viewer.principal.role is Role.VIEWER
    await accounts.change("minh", disabled=True, by="test")
    assert await accounts.resolve(viewer.secret) is None
    with pytest.raises(LoginFailed):
        await accounts.login("minh", GOOD)
    await accounts.change("minh", disabled=False, password="Một mật khẩu mới 2027", by="test")
    with pytest.raises(LoginFailed):
        await accounts.login("minh", GOOD)
    assert (await accounts.login("minh", "Một mật khẩu mới 2027")).principal.role is Role.VIEWER
    with pytest.raises(AccountError) as weak:
        await accounts.change("minh", password="ngắn", by="test")
    assert weak.value.code == "WeakPassword" and weak.value.message_vi
