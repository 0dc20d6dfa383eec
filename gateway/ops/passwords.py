"""Password hashing for operator accounts: argon2id through argon2-cffi, its default parameters
(RFC 9106's second recommended profile), rehashed on login when those defaults change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12

_hasher = PasswordHasher()

# Checked against when the account does not exist, so that an unknown username costs as much time
# as a wrong password (no account enumeration by timing).
_DECOY = _hasher.hash("not a password of anyone: decoy for unknown accounts")


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DECOY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
