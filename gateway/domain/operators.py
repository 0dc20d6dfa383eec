"""Operator accounts, their sessions and the record of what they did (issue 5).

Pure data and rules: hashing, cookies and storage are outside the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from gateway.domain.text import nfc

USERNAME_MAX = 64


class Role(StrEnum):
    """Ordered: an admin may do all an operator may, an operator all a viewer may."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class InvalidUsername(ValueError):
    pass


def clean_username(value: str) -> str:
    """Usernames compare case-insensitively and in NFC (a name typed on two keyboards is one name)."""
    name = nfc(value).strip().casefold()
    if not name or len(name) > USERNAME_MAX or any(c.isspace() or not c.isprintable() for c in name):
        raise InvalidUsername(value)
    return name


@dataclass(frozen=True)
class Principal:
    """Who is calling, once authenticated."""

    username: str
    role: Role

    def can(self, needed: Role) -> bool:
        return self.role.includes(needed)

    @property
    def sees_personal_data(self) -> bool:
        """Viewers see citizen id numbers, phones and emails masked."""
        return self.role.includes(Role.OPERATOR)


@dataclass(frozen=True)
class OperatorAccount:
    username: str
    display_name: str
    role: Role
    password_hash: str
    created_at: datetime
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    password_changed_at: datetime | None = None

    @property
    def principal(self) -> Principal:
        return Principal(self.username, self.role)

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failed_login(self, now: datetime, *, max_failures: int, lockout: timedelta) -> OperatorAccount:
        """Too many wrong passwords in a row lock the account for a while (guessing made slow)."""
        failures = self.failed_logins + 1
        if failures >= max_failures:
            return replace(self, failed_logins=0, locked_until=now + lockout)
        return replace(self, failed_logins=failures)

    def after_login(self) -> OperatorAccount:
        return replace(self, failed_logins=0, locked_until=None)


@dataclass(frozen=True)
class OperatorSession:
    """A logged-in browser or script. Only the hash of its secret is stored."""

    token_hash: str
    username: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime

    def expired(self, now: datetime, *, idle: timedelta, max_age: timedelta) -> bool:
        return now - self.last_seen_at > idle or now - self.created_at > max_age


@dataclass(frozen=True)
class OperatorAction:
    """One thing an operator did (replay, discard, token created…), kept for the record."""

    username: str
    action: str
    target: str
    detail: str
    at: datetime
    id: int | None = None
