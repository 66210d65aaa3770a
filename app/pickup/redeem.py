"""Redeeming a scanned code: one read, then one write (the hand-over, or the refused attempt).

The rules and the hand-over itself are in app/pickup/handover.py, the attempt and its one read
in app/pickup/attempt.py; this module is the scan endpoint's hot path around them. On
PostgreSQL a scan at a pickup point runs in autocommit: one statement reads the caller (a
token is verified there), the nonce's earlier answer, the point and the claim; then one
statement writes: the refused attempt, or for the winning scan the SQL function
`kitrun_hand_over` (migration b7e1c2d3f405), which `try_hand_over` calls on the event loop.
SQLite and delivery-run stops take the same steps in one transaction.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import (
    insert,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.accounts import service as accounts
from app.core import faults, metrics, security
from app.core.db import Database, autocommit_reads, write_intent
from app.core.errors import N_, Unauthorized
from app.inventory.ledger import OutOfStock
from app.pickup.attempt import (
    HAND_OVER,
    WRITE_SCAN,
    Attempt,
    Caller,
    decide,
    hand_over_params,
    lookup,
    lookup_params,
    new_attempt,
    point_rules,
    prepared_lookup,
    scan_row,
    with_identity,
)
from app.pickup.handover import (
    Target,
    answer,
    cached_kit_contents,
    claim_summary,
    hand_over,
    handed_over_answer,
    kit_contents,
    run_stop_resolvers,
)
from models.base import utcnow
from models.pickup import Scan
from models.users import User

log = logging.getLogger("kitrun.pickup")


class TokenRefused(Exception):
    """The bearer token given to redeem is unknown, expired or revoked (the caller says 401)."""


def redeem(
    *,
    session: Session,
    code: str,
    nonce: str,
    scanned_at: datetime,
    user: User | None = None,
    bearer: str | None = None,
    location_id: int | None = None,
    run_stop_id: int | None = None,
    queued: bool = False,
    confirm: bool = False,
) -> dict:
    """Redeem a scanned code at a point (or run stop): hand the kit over at most once.

    The caller is `user`, or the owner of the API token `bearer`, which is then verified in the
    same read as the rest (TokenRefused when it is not valid).

    Returns the answer dict (`result`, `params`, `claim`, ...). A retry with the same nonce
    returns the first answer and records nothing; the same nonce with another code answers
    `nonce_reused`, which is recorded like every other attempt.

    In a campaign with `confirm_after_id_check`, a valid scan without `confirm` answers
    `check_id` (the full name and birth year in `identity`) and writes nothing; the same code
    and nonce again with `confirm` hands over. A valid answer's `identity` is never stored.

    On PostgreSQL a scan at a pickup point runs in autocommit: one read (earlier answer for the
    nonce, the point, the claim), then one statement that writes the attempt, or for the
    winning scan the `kitrun_hand_over` function that does the whole hand-over. No lock is
    held between round trips. SQLite and run stops take the same decisions in one transaction.
    """
    if (user is None) == (bearer is None):
        raise ValueError("redeem needs a user or a bearer token")
    attempt = new_attempt(code, nonce, scanned_at, location_id, run_stop_id, queued, confirm)
    if user is not None:
        attempt.user = Caller(user.id, user.role)
    else:
        attempt.token_hash = security.token_hash(bearer)
    fast = run_stop_id is None and session.get_bind().dialect.name == "postgresql"
    if fast:
        autocommit_reads(session)
    try:
        return metrics.scanned(_redeem(session, code, attempt, fast))
    except (IntegrityError, psycopg.IntegrityError):
        # The same (user, nonce) raced in from a retry: its transaction won; answer with it.
        session.rollback()
        look = lookup(session, attempt, None)
        session.rollback()
        if look.stored_hash is None:
            raise
        if look.stored_hash != attempt.digest:
            return metrics.scanned(_write(session, attempt, answer("nonce_reused"), None, None))
        return metrics.scanned(look.stored_response)


def _redeem(session: Session, code: str, attempt: Attempt, fast: bool) -> dict:
    look = lookup(session, attempt, code)
    if attempt.user is None:
        if look.caller_id is None:
            session.rollback()
            raise TokenRefused()
        attempt.user = Caller(look.caller_id, look.caller_role)
        session.info["actor_id"] = look.caller_id  # ORM changes (SQLite path) are theirs
    decided = decide(look, attempt, lambda: _target(session, attempt, look))
    if decided.stored or decided.check:
        session.rollback()
        return with_identity(decided.response, look)
    if decided.response is not None and decided.response["result"] == "nonce_reused":
        log.warning("nonce reused with another code by user %s", attempt.user.id)
    loc = decided.location_id
    if decided.target is None:
        return _write(session, attempt, decided.response, decided.claim_id, loc)
    target = decided.target
    at = min(attempt.scanned_at, attempt.now)
    summary = claim_summary(look)
    summary["kit"] = kit_contents(
        session, item_id=look.reserved_item_id or look.kit_item_id, kits=look.kits
    )
    ok = answer("ok", summary, kits=look.kits)
    try:
        if fast:
            won = _hand_over_pg(session, look, attempt, ok)
        else:
            issue = hand_over(
                session, claim=look, target=target, user_id=attempt.user.id, at=at, issue_now=False
            )
            won = issue is not None
            if won:
                return with_identity(_write(session, attempt, ok, look.id, loc, issue=issue), look)
    except OutOfStock:
        # The reserved kit is missing from its level (a stock error): nothing is handed over.
        session.rollback()
        log.error("reserved kit missing for a scan at location %s", loc)
        return _write(session, attempt, answer("not_ready", status="out_of_stock"), None, loc)
    if won:
        return with_identity(ok, look)
    # Another scan won between our read and our update.
    summary.pop("kit", None)
    return _write(session, attempt, handed_over_answer(session, look.id, summary), look.id, loc)


def _hand_over_pg(session: Session, c, attempt: Attempt, ok: dict) -> bool:  # noqa: ANN001
    """The whole hand-over as one statement (function kitrun_hand_over, see its migration)."""
    try:
        result = HAND_OVER.execute(session, hand_over_params(c, attempt, ok)).fetchone()[0]
    except psycopg.Error as exc:
        if exc.sqlstate == "KR001":
            raise OutOfStock(N_("The reserved kit is missing from stock.")) from exc
        raise
    session.commit()
    return result == "ok"


def _write(
    session: Session,
    attempt: Attempt,
    response: dict,
    claim_id: int | None,
    location_id: int | None,
    issue: Callable[[], None] | None = None,
) -> dict:
    """Append the attempt to the scan log (and apply the kit's issue last), commit."""
    session.execute(insert(Scan).values(**scan_row(attempt, response, claim_id, location_id)))
    if issue is not None:
        # Last before commit: every kit at a point shares one level row, so its row lock is
        # held for as short a time as possible.
        issue()
    session.commit()
    return response


def _target(session: Session, attempt: Attempt, look) -> Target | str:  # noqa: ANN001
    if attempt.run_stop_id is not None:
        for resolver in run_stop_resolvers:
            return resolver(session, attempt.run_stop_id, attempt.user.id, attempt.user.role)
        return "unknown_point"
    return point_rules(look, attempt.user, attempt.location_id)


def point_target(session: Session, user: User, location_id: int) -> Target | str:
    """Whether a user may scan at a pickup point: its Target, or why not."""
    probe = Attempt(
        "", "", utcnow(), utcnow(), Caller(user.id, user.role), location_id, None, False
    )
    return point_rules(lookup(session, probe, None), user, location_id)


# ---------------------------------------------------------------- on the event loop


async def try_fast(
    pool: AsyncConnectionPool,
    *,
    code: str,
    nonce: str,
    scanned_at: datetime,
    token: str,
    token_kind: str,
    location_id: int,
    queued: bool = False,
    confirm: bool = False,
) -> dict | None:
    """The scan at a pickup point on the event loop (PostgreSQL), with a connection of `pool`,
    without a worker thread or a session: the same read, decisions and writes as `redeem`.

    The caller is the owner of `token` (an API token, or the page's session cookie), verified
    in the same read as the rest. Answers the winning scan (`kitrun_hand_over`), every refusal
    (one INSERT into the scan log) and a retry of a nonce (its stored answer, nothing written).
    Returns None having written nothing when `redeem` must decide: an unknown caller (its 401
    says why), a kit recipe not yet read, a scan lost to another, a database error.
    """
    attempt = new_attempt(code, nonce, scanned_at, location_id, None, queued, confirm)
    attempt.token_hash, attempt.token_kind = security.token_hash(token), token_kind
    by_token, by_short, params = lookup_params(attempt, security.parse_scanned_code(code))
    try:
        async with pool.connection() as conn:
            look = await prepared_lookup(by_token, by_short).first(conn, params)
            if look.caller_id is None:
                return None
            attempt.user = Caller(look.caller_id, look.caller_role)
            decided = decide(look, attempt, lambda: point_rules(look, attempt.user, location_id))
            if decided.stored or decided.check:
                return with_identity(decided.response, look)
            if decided.target is None:
                row = scan_row(attempt, decided.response, decided.claim_id, decided.location_id)
                row["response"] = json.dumps(row["response"])
                await WRITE_SCAN.first(conn, row)
                return decided.response
            ok = _winning_answer(look)
            if ok is None:
                return None
            result = await HAND_OVER.first(conn, hand_over_params(look, attempt, ok))
    except psycopg.Error as exc:
        # A broken connection (its outcome unknown: the nonce makes redeem's retry safe), the
        # nonce raced in twice, a kit missing from stock: redeem decides and records.
        log.info("scan fast path gave way to redeem: %s", type(exc).__name__)
        if faults.connection_lost(exc):
            faults.sweep(pool)  # the pool's other idle connections may be dead too
        return None
    return with_identity(ok, look) if result[0] == "ok" else None


def _winning_answer(look) -> dict | None:  # noqa: ANN001
    """The `ok` answer for a claim whose kit this scan hands over; None when the kit's recipe
    is not in this process's cache (redeem reads it)."""
    kit = cached_kit_contents(item_id=look.reserved_item_id or look.kit_item_id, kits=look.kits)
    if kit is None:
        return None
    summary = claim_summary(look)
    summary["kit"] = kit
    return answer("ok", summary, kits=look.kits)


# ---------------------------------------------------------------- the scan endpoint's entry


@dataclass(frozen=True)
class Credentials:
    """How a scan's caller proved who they are: an API token (`kind="api"`), or the scanner
    page's session cookie (`kind="session"`) with its CSRF header checked (`csrf_ok`)."""

    token: str | None
    kind: str = "api"
    csrf_ok: bool = True


async def scan(
    db: Database,
    *,
    credentials: Credentials,
    code: str,
    nonce: str,
    scanned_at: datetime,
    location_id: int | None = None,
    run_stop_id: int | None = None,
    queued: bool = False,
    confirm: bool = False,
) -> dict:
    """Redeem a scan: the answer (English; `localize` it), the kit handed over at most once.

    The one entry of the scan endpoint: at a pickup point on PostgreSQL it runs on the event
    loop (`try_fast`); anything that path leaves, SQLite and run stops run `redeem` in a worker
    thread with a session of its own. 401/403 (DomainError) for a caller who is not one.
    """
    attempt = {
        "code": code,
        "nonce": nonce,
        "scanned_at": scanned_at,
        "queued": queued,
        "confirm": confirm,
    }
    creds = credentials
    usable = creds.token is not None and (creds.kind == "api" or creds.csrf_ok)
    if db.pool is not None and location_id is not None and usable:
        fast = await try_fast(
            db.pool, token=creds.token, token_kind=creds.kind, location_id=location_id, **attempt
        )
        if fast is not None:
            return metrics.scanned(fast)
    return await anyio.to_thread.run_sync(
        functools.partial(
            _scan_in_thread, db, creds, location_id=location_id, run_stop_id=run_stop_id, **attempt
        )
    )


def _scan_in_thread(db: Database, creds: Credentials, **attempt: object) -> dict:
    """`redeem` with a session of its own, run once more on a fresh session when its database
    connection was lost (app/core/faults.py): the nonce makes that safe, as a client's own
    retry is (a hand-over committed before the answer was lost is found by the nonce and
    answered again, nothing written twice)."""
    return faults.retry_once(lambda _again: _scan_once(db, creds, **attempt))


def _scan_once(db: Database, creds: Credentials, **attempt: object) -> dict:
    """`redeem` with a session of its own. A bearer token is verified in redeem's own first read
    (one round trip fewer); the scanner page's cookie and CSRF header as everywhere."""
    with db.session() as session:
        user = None
        if creds.kind != "api":
            token = write_intent.set(False)  # a read: SQLite begins deferred
            try:
                autocommit_reads(session)
                user = accounts.api_caller(
                    session=session, bearer=None, cookie=creds.token, csrf_ok=creds.csrf_ok
                )
            finally:
                write_intent.reset(token)
                session.commit()
            session.info["actor_id"] = user.id
        elif creds.token is None:
            raise Unauthorized(accounts.AUTH_REQUIRED)
        try:
            return redeem(
                session=session, user=user, bearer=creds.token if user is None else None, **attempt
            )
        except TokenRefused:
            raise accounts.bearer_refusal(session=session, raw=creds.token) from None
