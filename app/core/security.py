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
    """An anonymous browser's CSRF token (kept in its cookie: double submit)."""
    return secrets.token_urlsafe(24)


def session_csrf_token(secret: str, session_token: str) -> str:
    """The CSRF token of a logged-in session: an HMAC of the session token's id (its hash) with
    the secret key, so a token taken from another session, or planted in a cookie, never fits."""
    return keyed_hash(secret, "csrf:" + token_hash(session_token))


def csrf_matches(cookie_value: str | None, submitted: str | None) -> bool:
    return bool(cookie_value) and bool(submitted) and hmac.compare_digest(cookie_value, submitted)


def keyed_hash(secret: str, value: str) -> str:
    """HMAC-SHA256, for values we must find again but never store in clear (codes, IPs)."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- claim codes
# The QR encodes a random token (128 bits, never derived from an id). The short code is the same
# claim's code for typing by hand: 9 random characters from a 31-character alphabet without
# look-alikes (no 0/O, 1/I, U/V) and a check character: the position-weighted sum modulo the prime
# 31 is zero, which catches every single wrong character and every swap of two characters.

SHORT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUWXYZ"
_SHORT_INDEX = {c: i for i, c in enumerate(SHORT_ALPHABET)}
_P = len(SHORT_ALPHABET)  # 31, a prime
TOKEN_LENGTH = 22


def new_claim_token() -> str:
    return secrets.token_urlsafe(16)


def _check_char(body: str) -> str:
    total = sum((i + 1) * _SHORT_INDEX[ch] for i, ch in enumerate(body)) % _P
    # find c with total + 10 * c ≡ 0 (mod 31); 10 is invertible modulo a prime
    c = (-total * pow(10, -1, _P)) % _P
    return SHORT_ALPHABET[c]


def new_short_code() -> str:
    body = "".join(secrets.choice(SHORT_ALPHABET) for _ in range(9))
    return body + _check_char(body)


def normalize_short_code(text: str) -> str | None:
    """'k7m3q-9xp2a ' → 'K7M3Q9XP2A' when it is a well-formed short code, else None."""
    code = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(code) != 10 or any(ch not in _SHORT_INDEX for ch in code):
        return None
    return code if _check_char(code[:9]) == code[9] else None


def format_short_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def parse_scanned_code(text: str) -> tuple[str, str] | None:
    """What a scanner read: ('token', t) or ('short', code), or None when it is not ours.

    Accepts the bare token, a URL ending in the token (a phone camera may add the status
    page's address), or a typed short code with or without the hyphen.
    """
    raw = text.strip()
    if "/" in raw:
        raw = raw.rstrip("/").rsplit("/", 1)[-1]
    if len(raw) == TOKEN_LENGTH and all(c.isalnum() or c in "-_" for c in raw):
        return ("token", raw)
    short = normalize_short_code(raw)
    return ("short", short) if short else None
