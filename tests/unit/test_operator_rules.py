"""Operator accounts: roles, names, lockout and session expiry rules; argon2id hashing."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.operators import (
    InvalidUsername,
    OperatorAccount,
    OperatorSession,
    Principal,
    Role,
    clean_username,
)
from gateway.ops.passwords import MIN_LENGTH, WeakPassword, hash_password, needs_rehash, verify_password

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_roles_are_ordered_and_only_operators_see_personal_data() -> None:
    assert Role.ADMIN.includes(Role.OPERATOR) and Role.ADMIN.includes(Role.VIEWER)
    assert Role.OPERATOR.includes(Role.VIEWER) and not Role.OPERATOR.includes(Role.ADMIN)
    assert not Role.VIEWER.includes(Role.OPERATOR)
    assert [Principal("a", r).sees_personal_data for r in Role] == [False, True, True]
    assert Principal("a", Role.VIEWER).can(Role.VIEWER) and not Principal("a", Role.VIEWER).can(Role.ADMIN)


def test_usernames_fold_case_and_normal_form() -> None:
    decomposed = unicodedata.normalize("NFD", "Hằng.Nguyễn")
    assert clean_username(decomposed) == clean_username("hằng.nguyễn") == "hằng.nguyễn"
    for bad in ("", "   ", "hai từ", "x" * 65, "tab\there"):
        with pytest.raises(InvalidUsername):
            clean_username(bad)


def account(**changes: object) -> OperatorAccount:
    base = OperatorAccount("lan", "Lan", Role.OPERATOR, "h", T0)
    return OperatorAccount(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_wrong_passwords_in_a_row_lock_for_a_while_and_a_login_clears_the_count() -> None:
    acc = account()
    for _ in range(4):
        acc = acc.after_failed_login(T0, max_failures=5, lockout=timedelta(minutes=15))
    assert acc.failed_logins == 4 and not acc.locked(T0)
    acc = acc.after_failed_login(T0, max_failures=5, lockout=timedelta(minutes=15))
    assert acc.locked(T0 + timedelta(minutes=14)) and not acc.locked(T0 + timedelta(minutes=15))
    assert acc.failed_logins == 0
    assert account(failed_logins=3).after_login().failed_logins == 0


def test_sessions_end_when_idle_or_too_old() -> None:
    session = OperatorSession("h", "lan", "c", created_at=T0, last_seen_at=T0)
    idle, max_age = timedelta(minutes=30), timedelta(hours=12)
    assert not session.expired(T0 + timedelta(minutes=30), idle=idle, max_age=max_age)
    assert session.expired(T0 + timedelta(minutes=31), idle=idle, max_age=max_age)
    busy = OperatorSession("h", "lan", "c", created_at=T0, last_seen_at=T0 + timedelta(hours=12))
    assert busy.expired(T0 + timedelta(hours=12, seconds=1), idle=idle, max_age=max_age)


def test_passwords_are_argon2id_hashes_that_only_the_password_opens() -> None:
    stored = hash_password("mật khẩu của tôi 2026")
    assert stored.startswith("$argon2id$") and "mật" not in stored
    assert verify_password(stored, "mật khẩu của tôi 2026")
    assert not verify_password(stored, "mat khau cua toi 2026")
    assert not verify_password(None, "mật khẩu của tôi 2026")  # unknown account: same cost, no
    assert not verify_password("not a hash", "x")
    assert not needs_rehash(stored)
    assert hash_password("mật khẩu của tôi 2026") != stored  # salted
    with pytest.raises(WeakPassword):
        hash_password("x" * (MIN_LENGTH - 1))
