"""Log-in throttling that slows guessing down without locking anyone out.

Each attempt counts against two keys: the account from this address, and the address (all
accounts). It is counted *before* its password is checked, by the one statement that decides
whether it may proceed: an upsert whose update applies only once the key's `not_before` has
passed, and which sets the next `not_before` as soon as the count reaches the free allowance.
Parallel guesses therefore cannot pass the allowance, on PostgreSQL as on SQLite: the attempt
after the last free one finds the row already delayed and is refused (429 with Retry-After)
without a password check. After the free attempts each further one waits a delay that doubles
(30 s, 1 min, 2 min, ... at most 15 min by default). A right password gives its attempt back:
the account-and-address key is cleared, the address key counts one less. The account is never
locked: from another address its owner logs in at once. A key's count starts afresh a day (the
window) after it began, so an office's occasional typos never add up over the weeks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.core.config import Settings
from models.users import LoginThrottle

T = LoginThrottle.__table__


@dataclass(frozen=True)
class Policy:
    """Free attempts per key, then delays from `delay` doubling up to `max_delay` seconds."""

    free: int = 5
    free_per_address: int = 30
    delay: int = 30
    max_delay: int = 900
    window: int = 86400

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            free=settings.login_free_failures,
            free_per_address=settings.login_free_failures_per_ip,
            delay=settings.login_delay_seconds,
            max_delay=settings.login_max_delay_seconds,
            window=settings.login_window_seconds,
        )

    def wait_after(self, attempts: int, free: int) -> int:
        """Seconds the next attempt waits after the `attempts`-th (0 while some are free)."""
        if attempts < free:
            return 0
        return min(self.delay * 2 ** min(attempts - free, 30), self.max_delay)


def account_key(username: str, address: str) -> str:
    return f"acct:{address}|{username}"[:200]


def address_key(address: str) -> str:
    return f"addr:{address}"[:200]


def _count(session: Session, key: str, free: int, policy: Policy, now: int) -> int | None:
    """Count one attempt for key unless it must still wait: the count, or None (refused)."""
    stale = T.c.since <= now - policy.window
    attempts = case((stale, 1), else_=T.c.attempts + 1)
    # the delay as a CASE over the count: the same SQL on both databases (no pow() in SQLite)
    steps, n = {}, free
    while (wait := policy.wait_after(n, free)) < policy.max_delay:
        steps[n] = wait
        n += 1
    delay = case(steps, value=attempts, else_=policy.max_delay) if steps else policy.max_delay
    insert = (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert
    stmt = (
        insert(LoginThrottle)
        .values(key=key, attempts=1, not_before=now + policy.wait_after(1, free), since=now)
        .on_conflict_do_update(
            index_elements=["key"],
            set_={
                "attempts": attempts,
                "not_before": case((attempts >= free, now + delay), else_=0),
                "since": case((stale, now), else_=T.c.since),
            },
            where=(T.c.not_before <= now) | stale,
        )
        .returning(T.c.attempts)
    )
    return session.execute(stmt).scalar_one_or_none()


def admit(
    session: Session, *, username: str, address: str, policy: Policy, now: float | None = None
) -> int:
    """Count a log-in attempt on its keys; 0 when it may check its password, else the seconds
    to wait. Commits (or rolls back) before returning: no lock is held while argon2 works."""
    at = int(now if now is not None else time.time())
    keys = ((account_key(username, address), policy.free),)
    keys += ((address_key(address), policy.free_per_address),)
    try:
        for key, free in keys:
            if _count(session, key, free, policy, at) is None:
                session.rollback()  # nothing counted: a refused attempt checks nothing
                return _wait(session, key, at)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return 0


def _wait(session: Session, key: str, now: int) -> int:
    not_before = session.execute(select(T.c.not_before).where(T.c.key == key)).scalar()
    session.rollback()
    return max(int(not_before or now) - now, 1)


def succeeded(session: Session, *, username: str, address: str, policy: Policy) -> None:
    """A right password: its attempt is given back (the account's key from this address
    starts afresh; the address counts one attempt less). The caller commits."""
    session.execute(delete(LoginThrottle).where(T.c.key == account_key(username, address)))
    left = case((T.c.attempts > 0, T.c.attempts - 1), else_=0)
    session.execute(
        update(LoginThrottle)
        .where(T.c.key == address_key(address))
        .values(
            attempts=left,
            not_before=case((left >= policy.free_per_address, T.c.not_before), else_=0),
        )
    )
