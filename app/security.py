"""Passwords (argon2), opaque session/API tokens stored hashed, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """An opaque bearer/session secret (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def csrf_matches(cookie_value: str | None, submitted: str | None) -> bool:
    return bool(cookie_value) and bool(submitted) and hmac.compare_digest(cookie_value, submitted)


def keyed_hash(secret: str, value: str) -> str:
    """HMAC-SHA256, for values we must find again but never store in clear (codes, IPs)."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
