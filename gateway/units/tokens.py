"""Per-unit bearer tokens. Only a SHA-256 of each token is stored: tokens are 256-bit random, so a
slow password hash adds nothing, and a stolen table yields no usable token."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "pakn_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
