"""Operator accounts and sessions: create, log in, resolve a session cookie, log out.

The session cookie carries a random secret; the store keeps only its SHA-256, so a copy of the
database opens no session. A login failure never says whether the account exists.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.domain.operators import (
    InvalidUsername,
    OperatorAccount,
    OperatorSession,
    Principal,
    Role,
    clean_username,
)
from gateway.domain.text import nfc
from gateway.ops.action_log import record_action
from gateway.ops.passwords import WeakPassword, hash_password, needs_rehash, verify_password
from gateway.ports import StoreConflict, UnitOfWorkFactory

# Refreshing last_seen on every request would make each read a write; once a minute is enough
# for an idle timeout counted in minutes.
TOUCH_EVERY = timedelta(minutes=1)


class AccountError(Exception):
    """The accounts component's errors: a stable code, a Vietnamese and an English message."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


class LoginFailed(AccountError):
    def __init__(self) -> None:
        super().__init__(
            "LoginFailed",
            "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa",
            "Wrong username or password, or the account is locked",
        )


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    max_age: timedelta
    max_failures: int
    lockout: timedelta


@dataclass(frozen=True)
class OpenSession:
    """What a login hands back: the cookie's secret (shown once) and the session it opens."""

    secret: str
    session: OperatorSession
    principal: Principal


def session_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _username(value: str) -> str:
    try:
        return clean_username(value)
    except InvalidUsername as exc:
        raise AccountError(
            "InvalidUsername",
            "Tên đăng nhập không hợp lệ (không rỗng, không khoảng trắng, tối đa 64 ký tự)",
            "Invalid username (not empty, no spaces, at most 64 characters)",
        ) from exc


def _hashed(password: str) -> str:
    try:
        return hash_password(password)
    except WeakPassword as exc:
        raise AccountError(
            "WeakPassword", f"Mật khẩu quá ngắn: cần {exc}", f"Password too short: {exc}"
        ) from exc


class Accounts:
    def __init__(self, uow: UnitOfWorkFactory, policy: SessionPolicy, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self.uow = uow  # the action record is read through it (`GET /api/ops/actions`)
        self._policy = policy
        self._now = clock

    async def create(
        self, username: str, password: str, role: Role, *, display_name: str = "", by: str
    ) -> OperatorAccount:
        name = _username(username)
        now = self._now()
        account = OperatorAccount(
            username=name,
            display_name=nfc(display_name.strip()) or name,
            role=role,
            password_hash=_hashed(password),
            created_at=now,
            password_changed_at=now,
        )
        async with self._uow() as uow:
            if await uow.operators.get(name) is not None:
                raise AccountError("AccountExists", "Tài khoản đã tồn tại", "The account already exists")
            try:
                await uow.operators.add(account)
                await record_action(uow, by, "account.create", name, f"role={role.value}", now)
                await uow.commit()
            except StoreConflict as exc:  # a concurrent creation of the same name
                raise AccountError(
                    "AccountExists", "Tài khoản đã tồn tại", "The account already exists"
                ) from exc
        return account

    async def list(self) -> list[OperatorAccount]:
        async with self._uow() as uow:
            return await uow.operators.all()

    async def change(
        self,
        username: str,
        *,
        by: str,
        password: str | None = None,
        role: Role | None = None,
        disabled: bool | None = None,
    ) -> OperatorAccount:
        """A new password, role or state ends the account's sessions: they were opened under the old."""
        name = _username(username)
        now = self._now()
        async with self._uow() as uow:
            account = await uow.operators.get(name)
            if account is None:
                raise AccountError("UnknownAccount", "Không có tài khoản này", "No such account")
            changes: list[str] = []
            if password is not None:
                account = replace(account, password_hash=_hashed(password), password_changed_at=now)
                account = account.after_login()  # an admin's reset also unlocks
                changes.append("password")
            if role is not None:
                account = replace(account, role=role)
                changes.append(f"role={role.value}")
            if disabled is not None:
                account = replace(account, disabled=disabled)
                changes.append("disabled" if disabled else "enabled")
            await uow.operators.save(account)
            await uow.operators.close_sessions_of(name)
            await record_action(uow, by, "account.change", name, ", ".join(changes), now)
            await uow.commit()
        return account

    async def login(self, username: str, password: str) -> OpenSession:
        try:
            name = clean_username(username)
        except InvalidUsername:
            verify_password(None, password)  # same cost as a real attempt
            raise LoginFailed() from None
        now = self._now()
        async with self._uow() as uow:
            account = await uow.operators.get(name)
            if account is None or account.disabled or account.locked(now):
                verify_password(None, password)
                raise LoginFailed()
            if not verify_password(account.password_hash, password):
                account = account.after_failed_login(
                    now, max_failures=self._policy.max_failures, lockout=self._policy.lockout
                )
                await uow.operators.save(account)
                if account.locked_until is not None:
                    await record_action(uow, name, "account.locked", name, "too many wrong passwords", now)
                await uow.commit()
                raise LoginFailed()
            account = account.after_login()
            if needs_rehash(account.password_hash):
                account = replace(account, password_hash=hash_password(password))
            await uow.operators.save(account)
            secret = secrets.token_urlsafe(32)
            session = OperatorSession(
                token_hash=session_hash(secret),
                username=name,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
            )
            await uow.operators.open_session(session)
            await record_action(uow, name, "session.login", name, "", now)
            await uow.commit()
        return OpenSession(secret, session, account.principal)

    async def resolve(self, secret: str) -> tuple[OperatorSession, Principal] | None:
        """The live session behind a cookie's secret, or None (unknown, expired, account disabled)."""
        if not secret:
            return None
        token_hash = session_hash(secret)
        now = self._now()
        async with self._uow() as uow:
            session = await uow.operators.find_session(token_hash)
            if session is None:
                return None
            account = await uow.operators.get(session.username)
            if (
                account is None
                or account.disabled
                or session.expired(now, idle=self._policy.idle, max_age=self._policy.max_age)
            ):
                await uow.operators.close_session(token_hash)
                await uow.commit()
                return None
            if now - session.last_seen_at >= TOUCH_EVERY:
                await uow.operators.touch_session(token_hash, now)
                await uow.commit()
        return session, account.principal

    async def logout(self, secret: str) -> None:
        async with self._uow() as uow:
            session = await uow.operators.find_session(session_hash(secret))
            if session is None:
                return
            await uow.operators.close_session(session.token_hash)
            await record_action(uow, session.username, "session.logout", session.username, "", self._now())
            await uow.commit()
